"""Running steps: ``execute_step`` (shared by every orchestrator), cache keys and run events."""

from zenml.runtime.events import NullListener, RunListener, StepOutcome
from zenml.runtime.executor import execute_step
from zenml.runtime.stores import Stores

__all__ = ["NullListener", "RunListener", "StepOutcome", "Stores", "execute_step"]
