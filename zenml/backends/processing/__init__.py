"""Processing backends: the abstract interface, in-process ``LocalProcessing`` and ``BeamProcessing``.

``BeamProcessing`` is exported lazily: importing this package never imports Apache Beam (the
Beam module itself imports Beam only when a pipeline is built).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zenml.backends.processing.base import Combiner, ProcessingBackend
from zenml.backends.processing.local import LocalProcessing

__all__ = ["BeamProcessing", "Combiner", "LocalProcessing", "ProcessingBackend"]

if TYPE_CHECKING:
    from zenml.backends.processing.beam import BeamProcessing


def __getattr__(name: str) -> Any:
    if name == "BeamProcessing":
        from zenml.backends.processing.beam import BeamProcessing

        return BeamProcessing
    raise AttributeError(f"module 'zenml.backends.processing' has no attribute '{name}'")
