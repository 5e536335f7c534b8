"""Training backends: the abstract launcher and the in-process implementation."""

from __future__ import annotations

import warnings
from typing import Any

from zenml.backends.training.base import BaseTrainingBackend, TrainingContext
from zenml.backends.training.local import LocalTraining
from zenml.backends.training.tensorflow import TensorflowDistributedTraining
from zenml.backends.training.torch_distributed import TorchDistributedTraining

__all__ = [
    "BaseTrainingBackend",
    "LocalTraining",
    "TensorflowDistributedTraining",
    "TorchDistributedTraining",
    "TrainingContext",
]


def __getattr__(name: str) -> Any:
    # TrainingBackend was renamed BaseTrainingBackend (extension-point bases are named Base*); one release
    if name == "TrainingBackend":
        warnings.warn(
            "zenml.backends.training.TrainingBackend is deprecated: use zenml.backends.training.BaseTrainingBackend "
            "(renamed by the Base* convention for extension points; the old name goes in the next release)",
            DeprecationWarning,
            stacklevel=2,
        )
        return BaseTrainingBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
