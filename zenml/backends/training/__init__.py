"""Training backends: the abstract launcher and the in-process implementation."""

from __future__ import annotations

from typing import Any

from zenml.backends.training.base import BaseTrainingBackend, TrainingContext
from zenml.backends.training.local import LocalTraining
from zenml.backends.training.tensorflow import TensorflowDistributedTraining
from zenml.backends.training.torch_distributed import TorchDistributedTraining
from zenml.utils.deprecation import moved_attribute as _moved_attribute

__all__ = [
    "BaseTrainingBackend",
    "LocalTraining",
    "TensorflowDistributedTraining",
    "TorchDistributedTraining",
    "TrainingContext",
]


def __getattr__(name: str) -> Any:
    # TrainingBackend was renamed BaseTrainingBackend (extension-point bases are named Base*); one release
    if name == "TrainingBackend":  # renamed by the Base* convention for extension points; one release
        return _moved_attribute(__name__, name, {"TrainingBackend": "zenml.backends.training.BaseTrainingBackend"})
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
