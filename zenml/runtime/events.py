"""What the engine reports while a run progresses, for progress displays and orchestrators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from zenml.exceptions import StepError


@dataclass(frozen=True)
class StepOutcome:
    """How one step ended."""

    name: str
    status: str
    duration: float
    error: StepError | None = None


class RunListener(Protocol):
    """Receives step events; every method is called from the orchestrating process."""

    def step_started(self, name: str) -> None:
        """``name`` began executing (after its inputs were resolved)."""
        ...

    def step_finished(self, outcome: StepOutcome) -> None:
        """``outcome.name`` ended as completed, cached or failed."""
        ...


class NullListener:
    """A listener that ignores every event."""

    def step_started(self, name: str) -> None:
        """Ignore."""

    def step_finished(self, outcome: StepOutcome) -> None:
        """Ignore."""
