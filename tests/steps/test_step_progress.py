"""Progress reporting from steps: trackers, the throttle, the current step's context, and the no-listener path."""

from __future__ import annotations

import pytest

from zenml.steps import context as context_module
from zenml.steps.context import (
    ProgressTracker,
    StepContext,
    StepProgress,
    current_context,
    current_progress,
    running,
)


class Clock:
    """A ``time.monotonic`` the test moves by hand, so throttling is checked without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(context_module.time, "monotonic", fake)
    return fake


@pytest.fixture
def reports() -> list[StepProgress]:
    return []


@pytest.fixture
def context(reports: list[StepProgress]) -> StepContext:
    return StepContext(step_name="trainer", run_id="run-1", pipeline_name="pipe", progress_sink=reports.append)


def test_a_tracker_reports_its_start_and_its_last_count(context: StepContext, reports: list[StepProgress]) -> None:
    with context.progress("training", total=10, unit="epochs") as progress:
        assert reports == [StepProgress("trainer", "training", 0, 10, "epochs")]
        for _ in range(10):
            progress.advance()
    assert reports[-1] == StepProgress("trainer", "training", 10, 10, "epochs")


def test_reports_are_throttled_to_ten_a_second(context: StepContext, reports: list[StepProgress], clock: Clock) -> None:
    progress = context.progress("reading", unit="rows")
    for _ in range(1000):
        progress.advance(100)
    assert [report.done for report in reports] == [0]  # all within one instant: only the first
    clock.now += 0.05
    progress.advance(100)
    assert len(reports) == 1
    clock.now += 0.06
    progress.advance(100)
    assert [report.done for report in reports] == [0, 100_200]
    progress.close()
    assert [report.done for report in reports] == [0, 100_200, 100_200]  # the last count always goes out
    progress.advance(5)
    assert len(reports) == 3  # a closed tracker only counts


def test_reaching_the_total_is_reported_at_once_but_only_once(
    context: StepContext, reports: list[StepProgress], clock: Clock
) -> None:
    progress = context.progress("training", total=3, unit="epochs")
    progress.advance()
    progress.advance()
    progress.advance()
    assert [report.done for report in reports] == [0, 3]
    progress.advance()  # past the total (a loop counting wrongly): throttled like any other report
    assert [report.done for report in reports] == [0, 3]


def test_update_sets_the_count_and_a_total_learnt_late(context: StepContext, reports: list[StepProgress]) -> None:
    progress = context.progress("copying", unit="files")
    progress.update(7, total=7)
    assert reports[-1] == StepProgress("trainer", "copying", 7, 7, "files")
    assert (progress.done, progress.total) == (7, 7)


def test_trackers_of_one_step_share_the_throttle(
    context: StepContext, reports: list[StepProgress], clock: Clock
) -> None:
    first = context.progress("reading")
    second = context.progress("writing")
    first.advance()
    second.advance()
    assert [report.description for report in reports] == ["reading"]
    clock.now += 0.2
    second.advance()
    assert [(report.description, report.done) for report in reports] == [("reading", 0), ("writing", 2)]


def test_without_a_sink_a_tracker_only_counts() -> None:
    context = StepContext(step_name="s", run_id="r", pipeline_name="p")
    with context.progress("training", total=2) as progress:
        progress.advance()
        progress.advance()
        assert progress.done == 2


def test_a_forked_process_does_not_report(
    context: StepContext, reports: list[StepProgress], monkeypatch: pytest.MonkeyPatch
) -> None:
    context.progress("reading").close()
    assert len(reports) == 2
    parent = context_module.os.getpid()
    monkeypatch.setattr(context_module.os, "getpid", lambda: parent + 1)  # as in a child forked mid-step
    child = context.progress("reading")
    child.advance()
    child.close()
    assert len(reports) == 2


def test_running_makes_a_context_current_for_code_not_handed_one(
    context: StepContext, reports: list[StepProgress]
) -> None:
    assert current_context() is None
    with running(context):
        assert current_context() is context
        inner = StepContext(step_name="inner", run_id="r", pipeline_name="p")
        with running(inner):  # a step running a pipeline in-process
            assert current_context() is inner
        assert current_context() is context
        current_progress("reading", unit="rows").close()
    assert current_context() is None
    assert [report.name for report in reports] == ["trainer", "trainer"]


def test_current_progress_outside_a_step_only_counts() -> None:
    progress = current_progress("reading", total=4)
    assert isinstance(progress, ProgressTracker)
    progress.advance(4)
    assert progress.done == 4
