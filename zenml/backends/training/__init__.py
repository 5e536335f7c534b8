"""Training backends: the abstract launcher and the in-process implementation."""

from zenml.backends.training.base import TrainingBackend, TrainingContext
from zenml.backends.training.local import LocalTraining
from zenml.backends.training.torch_distributed import TorchDistributedTraining
from zenml.backends.training.tensorflow import TensorflowDistributedTraining

__all__ = ["LocalTraining", "TorchDistributedTraining", "TensorflowDistributedTraining", "TrainingBackend", "TrainingContext"]
