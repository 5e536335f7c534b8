"""``DaskOrchestrator``: steps as Dask tasks, on a LocalCluster or an existing scheduler."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from zenml import pipeline, step
from zenml.backends.orchestrator.dask import DaskOrchestrator
from zenml.exceptions import BackendError, ConfigError
from zenml.launch import run_pipeline
from zenml.repository import Repository
from zenml.runtime.stores import StoresRecipe

pytestmark = pytest.mark.dask
pytest.importorskip("dask.distributed")

DASK = str(Path(sys.executable).parent / "dask")


@step
def start() -> int:
    return 5


@step
def double(x: int) -> int:
    return 2 * x


@step
def pid_of(x: int) -> int:
    return os.getpid()


@step
def summed(a: int, b: int) -> list[int]:
    return [a, b]


@pipeline
def doubled() -> None:
    value = start()
    summed(a=double(value), b=double.configure(name="double_again")(value))


@pipeline
def where() -> None:
    value = start()
    summed(a=pid_of(value), b=pid_of.configure(name="pid_again")(value))


@step
def four_pids(a: int, b: int, c: int, d: int) -> list[int]:
    return [a, b, c, d]


@pipeline
def fan_of_pids() -> None:
    value = start()
    four_pids(*(pid_of.configure(name=f"pid_{index}")(value) for index in range(4)))


@step
def worker_profiling(x: int) -> bool:
    import dask

    return bool(dask.config.get("distributed.worker.profile.enabled"))


@pipeline
def profiling() -> None:
    worker_profiling(start())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.timeout(120)
def test_local_cluster_runs_a_pipeline_in_worker_processes(repo: Repository) -> None:
    run = run_pipeline(where, orchestrator=DaskOrchestrator(n_workers=2), repository=repo)
    assert run.status == "completed"
    pids = run.steps["summed"].output()
    assert os.getpid() not in pids
    assert run.spec.backends.orchestrator.name == "dask"


@pytest.mark.timeout(120)
def test_local_workers_do_not_sample_profiles_nobody_can_see(repo: Repository) -> None:
    # the local cluster has no dashboard; the sampling cost CPU-bound steps 2 % of their wall time
    run = run_pipeline(profiling, orchestrator=DaskOrchestrator(n_workers=1), repository=repo, enable_cache=False)
    assert run.status == "completed"
    assert run.steps["worker_profiling"].output() is False


@pytest.mark.timeout(120)
def test_a_fan_out_spreads_over_the_workers_not_onto_the_one_holding_its_input(repo: Repository) -> None:
    # left to itself the scheduler put every branch on the worker holding ``start``'s output
    run = run_pipeline(fan_of_pids, orchestrator=DaskOrchestrator(n_workers=2), repository=repo, enable_cache=False)
    assert run.status == "completed"
    assert len(set(run.steps["four_pids"].output())) == 2


@pytest.mark.timeout(30)
def test_unreachable_scheduler_fails_fast_with_the_address(repo: Repository) -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"
    began = time.perf_counter()
    with pytest.raises(BackendError, match=f"cannot reach the Dask scheduler at {address} within 2 s"):
        run_pipeline(doubled, orchestrator=DaskOrchestrator(address=address, timeout=2.0), repository=repo)
    assert time.perf_counter() - began < 10


def test_remote_cluster_with_local_stores_is_refused_before_any_step(repo: Repository) -> None:
    with pytest.raises(
        ConfigError, match=r"shared metadata store \(MySQL/PostgreSQL.*shared artifact store \(S3/GCS"
    ) as e:
        run_pipeline(doubled, orchestrator=DaskOrchestrator(address="tcp://scheduler.example:8786"), repository=repo)
    assert "local SQLite file" in str(e.value) and "local folder" in str(e.value)
    assert repo.runs() == []  # refused before the run was recorded


def test_shared_stores_may_go_to_a_remote_cluster_and_local_ones_to_localhost(tmp_path: Path) -> None:
    shared = StoresRecipe("postgresql+psycopg://u:p@db/zen", "s3://bucket/zen", {}, tmp_path)
    DaskOrchestrator(address="tcp://scheduler.example:8786").check_shared_stores(shared)
    local = StoresRecipe(f"sqlite:///{tmp_path}/m.db", str(tmp_path / "artifacts"), {}, tmp_path)
    DaskOrchestrator(address="tcp://127.0.0.1:8786").check_shared_stores(local)
    DaskOrchestrator(address="tcp://localhost:8786").check_shared_stores(local)
    assert "p@db" not in repr(shared)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ConfigError, match="n_workers >= 1"):
        DaskOrchestrator(n_workers=0)
    with pytest.raises(ConfigError, match="timeout > 0"):
        DaskOrchestrator(timeout=0)


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """A ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1; all stopped afterwards."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    common = {"cwd": tmp_path, "env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [
        subprocess.Popen(  # noqa: S603
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            start_new_session=True,
            **common,  # type: ignore[call-overload]
        )
    ]
    try:
        for _ in range(2):
            processes.append(
                subprocess.Popen(  # noqa: S603
                    [DASK, "worker", address, "--nthreads", "1", "--no-dashboard", "--local-directory", str(tmp_path),
                     "--resources", "CPU=1"],  # fmt: skip
                    start_new_session=True,
                    **common,  # type: ignore[call-overload]
                )
            )
        from dask.distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for process in reversed(processes):
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.mark.services
@pytest.mark.timeout(180)
def test_existing_cluster_runs_a_pipeline(
    repo: Repository, postgres_url: str, dask_cluster: str, tmp_path: Path
) -> None:
    repo.register_stack("cluster", metadata_store=postgres_url, artifact_store=str(tmp_path / "shared-artifacts"))
    run = run_pipeline(where, orchestrator=DaskOrchestrator(address=dask_cluster), repository=repo, stack="cluster")
    assert run.status == "completed"
    pids = run.steps["summed"].output()
    assert os.getpid() not in pids
    doubled_run = run_pipeline(
        doubled, orchestrator=DaskOrchestrator(address=dask_cluster), repository=repo, stack="cluster"
    )
    assert doubled_run.steps["summed"].output() == [10, 10]


@pipeline
def needs_gpu() -> None:
    double.configure(resources={"gpu": 1})(start())


@pipeline
def needs_cpu() -> None:
    double.configure(resources={"cpu": 1})(start())


@pytest.mark.services
@pytest.mark.timeout(180)
def test_existing_cluster_honours_declared_resources(
    repo: Repository, postgres_url: str, dask_cluster: str, tmp_path: Path
) -> None:
    repo.register_stack("cluster", metadata_store=postgres_url, artifact_store=str(tmp_path / "shared-artifacts"))
    orchestrator = DaskOrchestrator(address=dask_cluster)
    run = run_pipeline(needs_cpu, orchestrator=orchestrator, repository=repo, stack="cluster")
    assert run.steps["double"].output() == 10
    with pytest.raises(BackendError, match=r"step 'double' asks for \{'GPU': 1.0\}.*--resources"):
        run_pipeline(needs_gpu, orchestrator=orchestrator, repository=repo, stack="cluster")
    metadata = repo.stores(repo.stack("cluster")).metadata
    (refused,) = metadata.runs(pipeline="needs_gpu")
    assert refused.status == "failed" and metadata.step_runs(refused.id) == [], "a step was sent anyway"
