"""The trainer trees: neutral ``BaseTrainerStep`` and ``FrameworkTrainer``; PyTorch and TensorFlow load lazily.

``from zenml.steps.trainer import PyTorchFeedForwardTrainer`` imports the PyTorch module (not
PyTorch itself) on first use, so importing this package never imports a framework.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from zenml.steps.trainer.base import BaseTrainerStep, History, TrainedModel, TrainerOutput
from zenml.steps.trainer.data import TrainingData
from zenml.steps.trainer.loop import FrameworkTrainer
from zenml.utils.legacy import legacy_name_error as _legacy_name_error

_LAZY = {
    "PyTorchBaseTrainer": "zenml.steps.trainer.torch_trainer",
    "PyTorchFeedForwardTrainer": "zenml.steps.trainer.torch_trainer",
    "TorchModel": "zenml.steps.trainer.torch_trainer",
    "TensorflowBaseTrainer": "zenml.steps.trainer.tensorflow_trainer",
    "TensorflowFeedForwardTrainer": "zenml.steps.trainer.tensorflow_trainer",
    "KerasModel": "zenml.steps.trainer.tensorflow_trainer",
}

__all__ = [
    "BaseTrainerStep",
    "FrameworkTrainer",
    "History",
    "KerasModel",
    "PyTorchBaseTrainer",
    "PyTorchFeedForwardTrainer",
    "TensorflowBaseTrainer",
    "TensorflowFeedForwardTrainer",
    "TorchModel",
    "TrainedModel",
    "TrainerOutput",
    "TrainingData",
]

if TYPE_CHECKING:
    from zenml.steps.trainer.tensorflow_trainer import KerasModel, TensorflowBaseTrainer, TensorflowFeedForwardTrainer
    from zenml.steps.trainer.torch_trainer import PyTorchBaseTrainer, PyTorchFeedForwardTrainer, TorchModel


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        legacy = _legacy_name_error(__name__, name)  # ``from zenml.steps.trainer import TFFeedForwardTrainer``
        if legacy is not None:
            raise legacy
        raise AttributeError(f"module 'zenml.steps.trainer' has no attribute '{name}'")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
