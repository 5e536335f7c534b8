"""``LocalOrchestrator``: dependency order, resume skipping, stop at the first failure."""

from __future__ import annotations

import pytest

from zenml import pipeline, step
from zenml.backends.orchestrator import BaseOrchestrator, LocalOrchestrator
from zenml.engine import compile_pipeline, write_spec
from zenml.exceptions import ConfigError, GraphError, StepError
from zenml.pipelines.spec import RunSpec, StepSpec
from zenml.repository import Repository
from zenml.runtime import StepOutcome, Stores


@step
def root() -> int:
    return 1


@step
def left(x: int) -> int:
    return x + 10


@step
def right(x: int) -> int:
    return x + 100


@step
def join(a: int, b: int) -> int:
    return a + b


@step
def explode(x: int) -> int:
    raise RuntimeError(f"exploded on {x}")


@pipeline
def diamond() -> None:
    value = root()
    join(a=left(value), b=right(value))


@pipeline
def broken_diamond() -> None:
    value = root()
    join(a=explode(value), b=right(value))


class Recorder:
    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[tuple[str, str]] = []

    def step_started(self, name: str) -> None:
        self.started.append(name)

    def step_finished(self, outcome: StepOutcome) -> None:
        self.finished.append((outcome.name, outcome.status))


def _recorded(flow: object, repository: Repository) -> tuple[RunSpec, Stores]:
    spec, repository, stack = compile_pipeline(flow, repository=repository)  # type: ignore[arg-type]
    stores = repository.stores(stack)
    path = write_spec(spec, repository)
    stores.metadata.create_run(run_id=spec.run_id, pipeline=spec.pipeline.name, spec_path=str(path),
                               spec_sha256=spec.sha256(), orchestrator="local",
                               created_at=spec.created_at.timestamp(), git=None)
    return spec, stores


def _is_topological(order: list[str], spec: RunSpec) -> bool:
    position = {name: index for index, name in enumerate(order)}
    return all(position[up] < position[name] for name, s in spec.steps.items() for up in s.upstream())


def test_runs_every_step_in_dependency_order(repo: Repository) -> None:
    spec, stores = _recorded(diamond, repo)
    recorder = Recorder()
    outcomes = LocalOrchestrator().run(spec, stores, listener=recorder)
    order = [o.name for o in outcomes]
    assert sorted(order) == ["join", "left", "right", "root"]
    assert _is_topological(order, spec)
    assert recorder.started == order
    assert recorder.finished == [(name, "completed") for name in order]
    assert repo.run(spec.run_id).steps["join"].output() == 112


def test_done_steps_are_skipped(repo: Repository) -> None:
    spec, stores = _recorded(diamond, repo)
    LocalOrchestrator().run(spec, stores)
    outcomes = LocalOrchestrator().run(spec, stores, done=frozenset({"root", "left", "right"}))
    assert [(o.name, o.status) for o in outcomes] == [("join", "completed")]


def test_use_cache_false_executes_again(repo: Repository) -> None:
    first, stores = _recorded(diamond, repo)
    LocalOrchestrator().run(first, stores)
    second, _ = _recorded(diamond, repo)
    cached = LocalOrchestrator().run(second, stores)
    assert {o.status for o in cached} == {"cached"}
    third, _ = _recorded(diamond, repo)
    fresh = LocalOrchestrator().run(third, stores, use_cache=False)
    assert {o.status for o in fresh} == {"completed"}


def test_first_failure_stops_the_run(repo: Repository) -> None:
    spec, stores = _recorded(broken_diamond, repo)
    recorder = Recorder()
    with pytest.raises(StepError, match=r"step 'explode' failed: RuntimeError: exploded on 1"):
        LocalOrchestrator().run(spec, stores, listener=recorder)
    assert ("explode", "failed") in recorder.finished
    assert "join" not in recorder.started
    statuses = {s.name: s.status for s in stores.metadata.step_runs(spec.run_id)}
    assert statuses["explode"] == "failed"
    assert "join" not in statuses


def test_spec_reading_from_an_unknown_step_is_refused(repo: Repository) -> None:
    spec, stores = _recorded(diamond, repo)
    steps = dict(spec.steps)
    inputs = {"a": "ghost.output", "b": "right.output"}
    steps["join"] = StepSpec(**{**spec.steps["join"].model_dump(), "inputs": inputs})
    broken = spec.model_copy(update={"steps": steps})
    with pytest.raises(ConfigError, match=r"step 'join' reads from unknown step 'ghost'"):
        LocalOrchestrator().run(broken, stores)
    assert stores.metadata.step_runs(spec.run_id) == []


def test_cyclic_spec_is_refused_before_anything_runs(repo: Repository) -> None:
    spec, stores = _recorded(diamond, repo)
    steps = dict(spec.steps)
    steps["root"] = StepSpec(**{**spec.steps["root"].model_dump(), "inputs": {"x": "join.output"}})
    cyclic = spec.model_copy(update={"steps": steps})
    with pytest.raises((ConfigError, GraphError), match="cycle"):
        BaseOrchestrator.execution_order(cyclic)
    with pytest.raises((ConfigError, GraphError), match="cycle"):
        LocalOrchestrator().run(cyclic, stores)
    assert stores.metadata.step_runs(spec.run_id) == []


def test_orchestrator_config() -> None:
    assert LocalOrchestrator().to_config() == {
        "type": "zenml.backends.orchestrator.local.LocalOrchestrator", "params": {}}
    assert LocalOrchestrator.backend_kind == "orchestrator"
