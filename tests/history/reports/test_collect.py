"""What a report reads from a run: artifacts recognised by their type, and the steps when the spec is gone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from zenml import pipeline, step
from zenml.history.reports.collect import collect, kind_of
from zenml.steps.trainer import History


class LongHistory(History):
    """A trainer's own history type: still drawn as training curves."""


def test_artifacts_are_recognised_by_their_type() -> None:
    assert kind_of("zenml.steps.trainer.base.History") == "history"
    assert kind_of("zenml.steps.statistics.Statistics") == "statistics"
    assert kind_of("zenml.steps.evaluator.base.EvaluationReport") == "evaluation"
    assert kind_of(f"{__name__}.LongHistory") == "history"  # a subclass, from a module already imported
    assert kind_of("builtins.dict") is None
    assert kind_of("never_imported_package.History") is None  # a report never imports code to look at a type


@step
def start() -> int:
    return 1


@step
def double(x: int) -> int:
    return 2 * x


@pipeline
def tiny() -> None:
    double(start())


def test_report_without_its_spec_file_draws_the_recorded_steps(repo: Any, tmp_path: Path) -> None:
    launched = tiny.run()
    spec = Path(launched.record.spec_path)
    (spec if spec.is_absolute() else tmp_path / spec).unlink()
    run = repo.run(launched.id)  # read back: the launched run still holds the spec it was started from
    data = collect(run)
    assert data.spec is None and data.spec_problem is not None and "cannot be read" in data.spec_problem
    assert [(s.name, s.status, s.depth) for s in data.steps] == [("start", "completed", 0), ("double", "completed", 0)]
    html = run.report(tmp_path / "report.html").read_text()
    assert 'id="fig-dag"' in html and "the graph shows recorded steps only" in html


@step
def broken(x: int) -> int:
    raise RuntimeError("no data today")


@pipeline
def breaks() -> None:
    double(broken(start()))


def test_steps_after_a_failure_are_skipped_and_the_failed_one_keeps_its_error(repo: Any) -> None:
    from zenml.exceptions import StepError
    from zenml.repository import Repository

    with pytest.raises(StepError) as failure:
        breaks.run()
    data = collect(Repository().run(str(failure.value.run_id)))
    states = {s.name: s for s in data.steps}
    assert {name: s.status for name, s in states.items()} == {
        "start": "completed",
        "broken": "failed",
        "double": "skipped",
    }
    assert states["broken"].error == "RuntimeError: no data today"
    assert states["double"].start is None and not data.in_progress
