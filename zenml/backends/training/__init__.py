"""Training backends: the abstract launcher and the in-process implementation."""

from zenml.backends.training.base import TrainingBackend, TrainingContext
from zenml.backends.training.local import LocalTraining

__all__ = ["LocalTraining", "TrainingBackend", "TrainingContext"]
