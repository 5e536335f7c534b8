"""Backends: orchestrators, processing and training, resolved by name through ``zenml.registry``."""

from zenml.backends.base import BaseBackend

__all__ = ["BaseBackend"]
