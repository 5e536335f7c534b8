"""Processing backends: the abstract interface and the in-process implementation."""

from zenml.backends.processing.base import Combiner, ProcessingBackend
from zenml.backends.processing.local import LocalProcessing

__all__ = ["Combiner", "LocalProcessing", "ProcessingBackend"]
