"""The run lifecycle: reruns of stored specs, failed runs keep their spec."""

from __future__ import annotations

import gc
import stat

import pytest
from engine_helpers import load, numbers

from zenml import pipeline, step
from zenml.engine import rerun_spec, run_pipeline
from zenml.exceptions import ConfigError, StepError
from zenml.repository import Repository
from zenml.utils import collector


def test_rerun_spec_makes_a_new_run_with_the_same_steps(repo: Repository) -> None:
    first = run_pipeline(numbers, params={"load": {"rows": 4}})
    path = repo.root / first.record.spec_path
    again = rerun_spec(path)
    assert again.id != first.id
    assert again.status == "completed"
    assert again.spec.steps == first.spec.steps
    assert again.spec.steps["load"].params == {"rows": 4}
    assert {name: s.status for name, s in again.steps.items()} == {
        "load": "cached",
        "multiply": "cached",
        "summarize": "cached",
    }
    assert again.steps["summarize"].output() == first.steps["summarize"].output() == 18
    assert (repo.root / again.record.spec_path).is_file()
    assert stat.S_IMODE((repo.root / again.record.spec_path).stat().st_mode) == 0o444
    assert path.read_text() == first.spec.to_yaml(), "the original spec is never rewritten"

    fresh = rerun_spec(path, enable_cache=False, backend_options={"processing": {"workers": 2}})
    assert {s.status for s in fresh.steps.values()} == {"completed"}
    assert fresh.spec.backends.processing.params == {"workers": 2}
    assert fresh.spec.backends.training == first.spec.backends.training, "kinds not asked for keep their choice"
    assert fresh.spec.steps == first.spec.steps


def test_a_programs_first_run_freezes_its_start_up_objects(repo: Repository) -> None:
    """A script calling ``pipeline.run()`` gets what ``zen run`` gets: start-up's objects frozen before steps run."""
    was_settled = collector.is_settled()
    collector.set_settled(False)
    was_enabled = gc.isenabled()
    gc.enable()
    gc.unfreeze()
    try:
        run = run_pipeline(numbers)
        assert run.status == "completed"
        assert gc.get_freeze_count() > 0
        assert gc.isenabled(), "steps run with the collector on"
    finally:
        gc.unfreeze()
        collector.set_settled(was_settled)
        if not was_enabled:
            gc.disable()


def test_rerun_of_a_missing_or_broken_spec_is_a_config_error(repo: Repository) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        rerun_spec(repo.root / "pipelines" / "none.yaml")
    broken = repo.root / "broken.yaml"
    broken.write_text("spec_version: 99\n")
    with pytest.raises(ConfigError, match="newer than this zenml understands"):
        rerun_spec(broken)
    assert repo.runs() == []


def test_a_failed_step_records_a_failed_run_with_its_spec(repo: Repository) -> None:
    with pytest.raises(StepError, match="ZeroDivisionError"):
        run_pipeline(broken_numbers)
    [run] = repo.runs()
    assert run.status == "failed"
    assert (repo.root / run.record.spec_path).is_file(), "a failed run keeps its spec for resume"


@step
def divide(values: list[int]) -> float:
    return 1 / len([v for v in values if v > 100])


@pipeline
def broken_numbers() -> None:
    divide(load())


def test_loading_every_steps_output_reads_the_runs_outputs_once(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_pipeline(numbers)
    [run] = repo.runs()
    store = type(run.stores.metadata)
    calls = {"run_outputs": 0, "step_artifacts": 0}
    for name in calls:
        original = getattr(store, name)

        def counted(self: object, *args: object, _name: str = name, _original: object = original) -> object:
            calls[_name] += 1
            return _original(self, *args)  # type: ignore[operator]

        monkeypatch.setattr(store, name, counted)
    assert {name: view.output() for name, view in run.steps.items()} == {
        "load": [0, 1, 2], "multiply": [0, 3, 6], "summarize": 9}  # fmt: skip
    assert calls == {"run_outputs": 1, "step_artifacts": 0}
    assert {name: list(view.inputs) for name, view in run.steps.items()} == {
        "load": [], "multiply": ["values"], "summarize": ["values"]}  # fmt: skip
