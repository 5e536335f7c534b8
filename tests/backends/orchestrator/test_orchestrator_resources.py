"""Resource requests: orchestrators refuse what they cannot provide before recording, and honour the rest."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from zenml import pipeline, step
from zenml.backends.orchestrator.base import BaseOrchestrator
from zenml.backends.orchestrator.local import LocalOrchestrator
from zenml.backends.orchestrator.parallel import ParallelOrchestrator
from zenml.backends.orchestrator.resources import check_capacity, machine_capacity
from zenml.engine import compile_pipeline, run_pipeline
from zenml.exceptions import BackendError, ConfigError
from zenml.pipelines import BasePipeline
from zenml.pipelines.spec import RunSpec
from zenml.repository import Repository
from zenml.runtime import execute_step
from zenml.runtime.events import RunListener, StepOutcome
from zenml.runtime.stores import Stores

GIB = 2**30


@step
def seed() -> int:
    return 3


@step
def hold(x: int, seconds: float = 0.8) -> int:
    time.sleep(seconds)
    return x


@step
def pair(a: int, b: int) -> list[int]:
    return [a, b]


def _asking(name: str, **resources: Any) -> BasePipeline:
    """``seed`` then a ``hold`` step named ``name`` that asks for ``resources``."""
    return (
        BasePipeline(f"asks_{name}")
        .add_step("seed", seed)
        .add_step(name, hold.configure(resources=resources), inputs={"x": "seed"})
    )


@pipeline
def two_wide_holds() -> None:
    value = seed()
    pair(
        a=hold.configure(name="wide_a", resources={"cpu": 2})(value, seconds=1.0),
        b=hold.configure(name="wide_b", resources={"cpu": 2})(value, seconds=1.0),
    )


@pytest.fixture
def no_gpus(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This machine shows no GPU (``CUDA_VISIBLE_DEVICES`` is honoured by the capacity check)."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert machine_capacity()["gpu"] == 0
    yield


def _nothing_recorded(repo: Repository) -> None:
    assert repo.stores().metadata.runs() == []
    assert list(repo.pipelines_dir.rglob("*.yaml")) == []  # not even the spec was written


# -- the capacity of this machine ---------------------------------------------------------------------------


def test_machine_capacity_is_plausible(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    capacity = machine_capacity()
    assert capacity["cpu"] == float(os.cpu_count() or 1)
    assert capacity["memory"] > 0
    driver = Path("/proc/driver/nvidia/gpus")  # one folder per GPU the NVIDIA driver lists
    assert capacity["gpu"] == float(len(list(driver.iterdir())) if driver.is_dir() else 0)


def test_cuda_visible_devices_narrows_the_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    assert machine_capacity()["gpu"] == 2
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert machine_capacity()["gpu"] == 0


def test_check_capacity_names_step_resource_and_amounts(repo: Repository) -> None:
    spec, _, _ = compile_pipeline(_asking("big", memory="3GiB", cpu=1), repository=repo)
    check_capacity(spec, {"cpu": 1, "memory": 4 * GIB, "gpu": 0}, "the test box")
    with pytest.raises(ConfigError, match=r"step 'big' asks for memory=3.0 GiB but the test box has 2.0 GiB"):
        check_capacity(spec, {"cpu": 1, "memory": 2 * GIB, "gpu": 0}, "the test box")
    with pytest.raises(ConfigError, match=r"step 'big' asks for cpu=1 but the test box has 0.5"):
        check_capacity(spec, {"cpu": 0.5, "memory": 4 * GIB}, "the test box")


# -- an orchestrator that supports no resources ---------------------------------------------------------


class SequentialOrchestrator(BaseOrchestrator):
    """The base class's example: supports no resources at all."""

    def _run(
        self, spec: RunSpec, steps: list[str], stores: Stores, listener: RunListener, use_cache: bool
    ) -> list[StepOutcome]:
        return [execute_step(spec, name, stores, listener=listener, use_cache=use_cache) for name in steps]


def test_base_check_spec_refuses_resources_the_orchestrator_does_not_honour(repo: Repository) -> None:
    spec, _, _ = compile_pipeline(_asking("wide", cpu=1), repository=repo)
    with pytest.raises(ConfigError, match=r"step 'wide' asks for resource 'cpu', which the SequentialOrchestrator"):
        SequentialOrchestrator().check_spec(spec)
    plain, _, _ = compile_pipeline(_asking("plain"), repository=repo)
    SequentialOrchestrator().check_spec(plain)  # no request, nothing to refuse
    zero_gpu, _, _ = compile_pipeline(_asking("none", gpu=0), repository=repo)
    SequentialOrchestrator().check_spec(zero_gpu)  # gpu 0 is no request


# -- the local orchestrator -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        ({"gpu": 1}, r"step 'greedy' asks for gpu=1 but this machine has 0"),
        ({"cpu": 10_000}, r"step 'greedy' asks for cpu=10000 but this machine has \d+"),
        ({"memory": "100TiB"}, r"step 'greedy' asks for memory=102400.0 GiB but this machine has [\d.]+ GiB"),
    ],
)
def test_local_refuses_more_than_the_machine_has_and_records_nothing(
    repo: Repository, no_gpus: None, resources: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        run_pipeline(_asking("greedy", **resources), orchestrator="local", repository=repo)
    _nothing_recorded(repo)
    with pytest.raises(ConfigError, match=message):
        run_pipeline(_asking("greedy", **resources), orchestrator=LocalOrchestrator(), repository=repo)
    _nothing_recorded(repo)


def test_local_runs_a_step_asking_for_what_the_machine_has(repo: Repository) -> None:
    run = run_pipeline(_asking("modest", cpu=1, memory="64MiB", gpu=0), orchestrator="local", repository=repo)
    assert run.status == "completed"
    assert run.steps["modest"].output() == 3
    assert run.spec.steps["modest"].runtime.resources.memory == 64 * 2**20


# -- the parallel orchestrator ----------------------------------------------------------------------------


def test_parallel_refuses_more_cpus_than_worker_slots(repo: Repository) -> None:
    with pytest.raises(ConfigError, match=r"step 'wide' asks for cpu=3 but .*2 worker slots has 2"):
        run_pipeline(_asking("wide", cpu=3), orchestrator=ParallelOrchestrator(workers=2), repository=repo)
    _nothing_recorded(repo)


@pytest.mark.timeout(120)
def test_parallel_step_asking_for_two_cpus_takes_both_slots(repo: Repository) -> None:
    if machine_capacity()["cpu"] < 2:
        pytest.skip("this machine has a single CPU")
    run = run_pipeline(two_wide_holds, orchestrator=ParallelOrchestrator(workers=2), repository=repo)
    assert run.status == "completed"
    assert run.steps["pair"].output() == [3, 3]
    records = {record.name: record for record in repo.stores().metadata.step_runs(run.id)}
    a, b = records["wide_a"], records["wide_b"]
    assert a.started_at is not None and b.started_at is not None and a.ended_at and b.ended_at
    first, second = sorted((a, b), key=lambda record: record.started_at or 0.0)
    assert first.ended_at is not None and second.started_at is not None
    assert second.started_at >= first.ended_at, "two steps each taking both worker slots overlapped"


# -- the Dask orchestrator --------------------------------------------------------------------------------


@pytest.mark.dask
def test_dask_local_cluster_refuses_more_cpus_than_a_worker_has(repo: Repository) -> None:
    pytest.importorskip("dask.distributed")
    from zenml.backends.orchestrator.dask import DaskOrchestrator

    orchestrator = DaskOrchestrator(n_workers=2, threads_per_worker=1)
    with pytest.raises(ConfigError, match=r"step 'wide' asks for cpu=2 but each of the 2 local Dask workers has 1"):
        run_pipeline(_asking("wide", cpu=2), orchestrator=orchestrator, repository=repo)
    _nothing_recorded(repo)


@pytest.mark.dask
@pytest.mark.timeout(120)
def test_dask_local_cluster_runs_a_step_asking_for_one_cpu(repo: Repository) -> None:
    pytest.importorskip("dask.distributed")
    from zenml.backends.orchestrator.dask import DaskOrchestrator

    orchestrator = DaskOrchestrator(n_workers=2, threads_per_worker=1)
    run = run_pipeline(_asking("narrow", cpu=1), orchestrator=orchestrator, repository=repo)
    assert run.status == "completed"
    assert run.steps["narrow"].output() == 3
    assert run.spec.steps["narrow"].runtime.resources.cpu == 1


@pytest.mark.dask
@pytest.mark.timeout(120)
def test_check_worker_resources_against_a_real_cluster(repo: Repository) -> None:
    distributed = pytest.importorskip("dask.distributed")
    from zenml.backends.orchestrator.dask import check_worker_resources, resources_of

    cpu_spec, _, _ = compile_pipeline(_asking("wide", cpu=2), repository=repo)
    gpu_spec, _, _ = compile_pipeline(_asking("accelerated", gpu=1), repository=repo)
    too_wide, _, _ = compile_pipeline(_asking("wider", cpu=3), repository=repo)
    assert resources_of(cpu_spec, "wide") == {"CPU": 2.0}
    assert resources_of(cpu_spec, "seed") is None
    # the scheduler's HTTP server starts even without a dashboard: on a free port, not on a possibly taken 8787
    cluster = distributed.LocalCluster(
        n_workers=1, processes=False, resources={"CPU": 2}, dashboard_address=None,
        scheduler_kwargs={"dashboard_address": ":0"},
    )
    try:
        with distributed.Client(cluster) as client:
            check_worker_resources(cpu_spec, client)
            with pytest.raises(BackendError, match=r"step 'accelerated' asks for \{'GPU': 1.0\}.*--resources"):
                check_worker_resources(gpu_spec, client)
            with pytest.raises(BackendError, match=r"step 'wider' asks for \{'CPU': 3.0\}.*'CPU': 2"):
                check_worker_resources(too_wide, client)
    finally:
        cluster.close()
