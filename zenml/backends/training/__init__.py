"""Training backends: the abstract launcher and the in-process implementation."""

from zenml.backends.training.base import TrainingBackend, TrainingContext
from zenml.backends.training.local import LocalTraining
from zenml.backends.training.tensorflow import TensorflowDistributedTraining
from zenml.backends.training.torch_distributed import TorchDistributedTraining

__all__ = [
    "LocalTraining",
    "TensorflowDistributedTraining",
    "TorchDistributedTraining",
    "TrainingBackend",
    "TrainingContext",
]
