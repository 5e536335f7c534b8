"""``ParallelOrchestrator``: independent steps overlap in worker processes; failures stop the run."""

from __future__ import annotations

import pickle
import time

import pytest

from zenml import pipeline, step
from zenml.backends.orchestrator.parallel import ParallelOrchestrator
from zenml.exceptions import ConfigError, StepError
from zenml.launch import run_pipeline
from zenml.repository import Repository
from zenml.runtime import StepOutcome, Stores


@step
def origin() -> int:
    return 2


@step
def nap(x: int, seconds: float = 1.0) -> int:
    time.sleep(seconds)
    return x


@step
def combine(a: int, b: int) -> int:
    return a * b


@step
def fail(x: int) -> int:
    raise ValueError(f"bad value {x}")


@pipeline
def two_naps() -> None:
    value = origin()
    combine(a=nap.configure(name="nap_a")(value), b=nap.configure(name="nap_b")(value, seconds=1.2))


@pipeline
def fail_beside_a_nap() -> None:
    value = origin()
    combine(a=fail(value), b=nap(value, seconds=1.0))


class Recorder:
    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[tuple[str, str]] = []

    def step_started(self, name: str) -> None:
        self.started.append(name)

    def step_finished(self, outcome: StepOutcome) -> None:
        self.finished.append((outcome.name, outcome.status))


@pytest.mark.timeout(120)
def test_independent_steps_overlap_and_events_reach_the_parent(repo: Repository) -> None:
    recorder = Recorder()
    run = run_pipeline(two_naps, orchestrator="parallel", repository=repo, listener=recorder)
    assert run.status == "completed"
    assert run.steps["combine"].output() == 4
    records = {r.name: r for r in repo.stores().metadata.step_runs(run.id)}
    a, b = records["nap_a"], records["nap_b"]
    assert a.started_at is not None and b.started_at is not None and a.ended_at and b.ended_at
    assert a.started_at < b.ended_at and b.started_at < a.ended_at, "independent steps did not overlap"
    assert recorder.started[0] == "origin" and recorder.started[-1] == "combine"
    assert sorted(recorder.finished) == sorted((name, "completed") for name in records)
    assert run.spec.backends.orchestrator.name == "parallel"


@pytest.mark.timeout(120)
def test_first_failure_lets_running_steps_finish_and_submits_nothing_new(repo: Repository) -> None:
    recorder = Recorder()
    with pytest.raises(StepError, match=r"step 'fail' failed: ValueError: bad value 2") as caught:
        run_pipeline(
            fail_beside_a_nap, orchestrator=ParallelOrchestrator(workers=2), repository=repo, listener=recorder
        )
    statuses = {s.name: s.status for s in repo.stores().metadata.step_runs(caught.value.run_id)}  # type: ignore[attr-defined]
    assert statuses == {"origin": "completed", "fail": "failed", "nap": "completed"}
    assert "combine" not in recorder.started
    assert ("fail", "failed") in recorder.finished
    assert repo.run(caught.value.run_id).status == "failed"  # type: ignore[attr-defined]


def test_step_error_survives_pickling() -> None:
    error = StepError("train", "ValueError", "boom")
    error.run_id = "r1"  # type: ignore[attr-defined]
    twin = pickle.loads(pickle.dumps(error))
    assert (twin.step, twin.error_type, twin.error_message, twin.run_id) == ("train", "ValueError", "boom", "r1")
    assert str(twin) == str(error)


def test_stores_without_a_recipe_are_refused(repo: Repository) -> None:
    stores = repo.stores()
    handmade = Stores(metadata=stores.metadata, artifacts=stores.artifacts, project_root=stores.project_root)
    from zenml.launch import compile_pipeline

    spec, _, _ = compile_pipeline(two_naps, repository=repo)
    with pytest.raises(ConfigError, match="needs stores opened from a stack"):
        ParallelOrchestrator().run(spec, handmade)


def test_workers_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="workers >= 1"):
        ParallelOrchestrator(workers=0)
    assert ParallelOrchestrator(workers=3).to_config() == {
        "type": "zenml.backends.orchestrator.parallel.ParallelOrchestrator",
        "params": {"workers": 3},
    }
