"""What the engine reports while a run progresses, for progress displays and orchestrators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from zenml.exceptions import StepError
from zenml.steps.context import StepProgress

__all__ = ["NullListener", "ProgressListener", "RunListener", "StepOutcome", "StepProgress"]


@dataclass(frozen=True)
class StepOutcome:
    """How one step ended.

    ``attempts`` counts the executions of the step in this call (1, or more when it was retried);
    when a worker process failed, the ``error`` it sent back also carries its count as ``attempts``.
    """

    name: str
    status: str
    duration: float
    error: StepError | None = None
    attempts: int = 1


class RunListener(Protocol):
    """Receives step events; every method is called from the orchestrating process."""

    def step_started(self, name: str) -> None:
        """``name`` began executing (after its inputs were resolved)."""
        ...

    def step_finished(self, outcome: StepOutcome) -> None:
        """``outcome.name`` ended as completed, cached, failed, timed_out or skipped."""
        ...


@runtime_checkable
class ProgressListener(RunListener, Protocol):
    """A ``RunListener`` that also wants the progress steps report (``StepContext.progress``).

    A separate protocol rather than a method every listener must have: listeners written before it
    keep working, and when the run's listener is not one, trackers cost a step nothing.

    Progress does not cross process boundaries. ``step_progress`` is called in the process and
    thread executing the step, so only steps run in the orchestrating process report it (the
    local orchestrator, with in-process training); steps run by the parallel, Dask or Airflow
    orchestrators, and training processes of distributed backends, report nothing, and a display
    shows their status and elapsed time only. Sending progress back from workers would need a
    channel per orchestrator (queues, Dask events, Airflow's database) for a cosmetic feature.
    """

    def step_progress(self, progress: StepProgress) -> None:
        """A step reported progress (at most ~10 times a second per step, plus each task's last count)."""
        ...


class NullListener:
    """A listener that ignores every event."""

    def step_started(self, name: str) -> None:
        """Ignore."""

    def step_finished(self, outcome: StepOutcome) -> None:
        """Ignore."""
