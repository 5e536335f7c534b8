"""How calling a step inside a ``@pipeline`` function records an edge instead of running it.

The steps layer only defines the handles and the hook; the pipelines layer installs a graph
builder for the duration of a ``@pipeline`` function call.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from zenml.steps.base import BaseStep


@dataclass(frozen=True)
class OutputHandle:
    """A promise of a step's output, passed to another step call to connect them."""

    step: str
    output: str
    annotation: Any

    @property
    def reference(self) -> str:
        """The ``step.output`` reference a run spec stores."""
        return f"{self.step}.{self.output}"


class StepOutputs:
    """The handles of a step with several outputs: by attribute, by name, or unpacked in order."""

    def __init__(self, handles: dict[str, OutputHandle]) -> None:
        self._handles = handles

    def __getattr__(self, name: str) -> OutputHandle:
        try:
            return self.__dict__["_handles"][name]  # type: ignore[no-any-return]
        except KeyError:
            raise AttributeError(f"step has no output '{name}' (outputs: {', '.join(self._handles)})") from None

    def __getitem__(self, name: str) -> OutputHandle:
        return self._handles[name]

    def __iter__(self) -> Iterator[OutputHandle]:
        return iter(self._handles.values())

    def __len__(self) -> int:
        return len(self._handles)


class GraphBuilder(Protocol):
    """What a step call needs from the pipeline being defined."""

    def add_call(self, step: BaseStep, inputs: dict[str, OutputHandle]) -> str:
        """Add ``step`` with its wired inputs; return the name it was given."""
        ...


active_builder: contextvars.ContextVar[GraphBuilder | None] = contextvars.ContextVar(
    "zenml_active_builder", default=None
)
