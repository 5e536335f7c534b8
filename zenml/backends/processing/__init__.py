"""Processing backends: the abstract interface, in-process ``LocalProcessing``, ``BeamProcessing``, ``SparkProcessing``.

``BeamProcessing`` and ``SparkProcessing`` are exported lazily: importing this package never imports
Apache Beam or PySpark (their modules import them only when a pipeline or session is built).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zenml.backends.processing.base import BaseProcessingBackend, Combiner
from zenml.backends.processing.local import LocalProcessing
from zenml.utils.deprecation import moved_attribute as _moved_attribute

__all__ = ["BaseProcessingBackend", "BeamProcessing", "Combiner", "LocalProcessing", "SparkProcessing"]

if TYPE_CHECKING:
    from zenml.backends.processing.beam import BeamProcessing
    from zenml.backends.processing.spark import SparkProcessing


def __getattr__(name: str) -> Any:
    if name == "BeamProcessing":
        from zenml.backends.processing.beam import BeamProcessing

        return BeamProcessing
    if name == "SparkProcessing":
        from zenml.backends.processing.spark import SparkProcessing

        return SparkProcessing
    if name == "ProcessingBackend":  # renamed by the Base* convention for extension points; one release
        return _moved_attribute(
            __name__, name, {"ProcessingBackend": "zenml.backends.processing.BaseProcessingBackend"}
        )
    raise AttributeError(f"module 'zenml.backends.processing' has no attribute '{name}'")
