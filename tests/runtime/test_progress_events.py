"""Progress events: a real step's reports reach a ``ProgressListener``; other listeners cost it nothing."""

from __future__ import annotations

from zenml import StepContext, pipeline, step
from zenml.engine import run_pipeline
from zenml.repository import Repository
from zenml.runtime.events import ProgressListener, StepOutcome, StepProgress


@step
def count(context: StepContext, n: int = 25) -> int:
    with context.progress("counting", total=n, unit="items") as progress:
        for _ in range(n):
            progress.advance()
    return n


@step
def reports_to(context: StepContext) -> bool:
    """Whether this step's progress goes anywhere (the executor wires it only for a ``ProgressListener``)."""
    return context.progress_sink is not None


@step
def after(x: int) -> int:
    return x + 1


@pipeline
def counting() -> None:
    after(x=count())


@pipeline
def probing() -> None:
    reports_to()


class ProgressRecorder:
    """A ``ProgressListener`` keeping every event."""

    def __init__(self) -> None:
        self.finished: dict[str, str] = {}
        self.progress: list[StepProgress] = []

    def step_started(self, name: str) -> None:
        """Nothing to keep."""

    def step_finished(self, outcome: StepOutcome) -> None:
        self.finished[outcome.name] = outcome.status

    def step_progress(self, progress: StepProgress) -> None:
        self.progress.append(progress)


class StatusRecorder:
    """A listener written before progress existed: ``step_started`` and ``step_finished`` only."""

    def __init__(self) -> None:
        self.finished: dict[str, str] = {}

    def step_started(self, name: str) -> None:
        """Nothing to keep."""

    def step_finished(self, outcome: StepOutcome) -> None:
        self.finished[outcome.name] = outcome.status


def test_a_steps_progress_reaches_the_listener(repo: Repository) -> None:
    recorder = ProgressRecorder()
    assert isinstance(recorder, ProgressListener)
    run = run_pipeline(counting, repository=repo, listener=recorder)
    assert run.status == "completed"
    assert {report.name for report in recorder.progress} == {"count"}  # 'after' reports nothing
    assert recorder.progress[0] == StepProgress("count", "counting", 0, 25, "items")
    assert recorder.progress[-1] == StepProgress("count", "counting", 25, 25, "items")
    done = [report.done for report in recorder.progress]
    assert done == sorted(done)


def test_a_cache_hit_reports_no_progress(repo: Repository) -> None:
    run_pipeline(counting, repository=repo)
    recorder = ProgressRecorder()
    run_pipeline(counting, repository=repo, listener=recorder)
    assert recorder.finished == {"count": "cached", "after": "cached"}
    assert recorder.progress == []


def test_listeners_without_step_progress_keep_working_and_cost_steps_nothing(repo: Repository) -> None:
    recorder = StatusRecorder()
    assert not isinstance(recorder, ProgressListener)
    run = run_pipeline(probing, repository=repo, listener=recorder)
    assert recorder.finished == {"reports_to": "completed"}
    assert run.steps["reports_to"].output() is False
    assert run_pipeline(probing, repository=repo, enable_cache=False).steps["reports_to"].output() is False
    wired = run_pipeline(probing, repository=repo, enable_cache=False, listener=ProgressRecorder())
    assert wired.steps["reports_to"].output() is True


def test_steps_in_worker_processes_report_no_progress(repo: Repository) -> None:
    recorder = ProgressRecorder()
    run = run_pipeline(counting, orchestrator="parallel", repository=repo, listener=recorder)
    assert run.status == "completed"
    assert recorder.finished == {"count": "completed", "after": "completed"}  # statuses still arrive
    assert recorder.progress == []  # progress stays in the worker (see ProgressListener)
