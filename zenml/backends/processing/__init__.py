"""Processing backends: the abstract interface, in-process ``LocalProcessing``, ``BeamProcessing``, ``SparkProcessing``.

``BeamProcessing`` and ``SparkProcessing`` are exported lazily: importing this package never imports
Apache Beam or PySpark (their modules import them only when a pipeline or session is built).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from zenml.backends.processing.base import BaseProcessingBackend, Combiner
from zenml.backends.processing.local import LocalProcessing

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
    if name == "ProcessingBackend":  # renamed BaseProcessingBackend (extension-point bases are named Base*)
        warnings.warn(
            "zenml.backends.processing.ProcessingBackend is deprecated: use "
            "zenml.backends.processing.BaseProcessingBackend (renamed by the Base* convention for extension "
            "points; the old name goes in the next release)",
            DeprecationWarning,
            stacklevel=2,
        )
        return BaseProcessingBackend
    raise AttributeError(f"module 'zenml.backends.processing' has no attribute '{name}'")
