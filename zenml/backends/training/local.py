"""``LocalTraining``: the training loop runs in this process, on CUDA when available, else the CPU."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable
from typing import TypeVar

from zenml.backends.training.base import BaseTrainingBackend, TrainingContext
from zenml.exceptions import ConfigError
from zenml.utils.quiet import import_tensorflow

T = TypeVar("T")
_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def cuda_available(framework: str = "torch") -> bool:
    """Whether ``framework`` is installed and sees a CUDA device.

    The question goes to the framework that will train: a TensorFlow run never imports PyTorch
    (seconds, and its own CUDA warnings) just to ask, and a PyTorch run never imports TensorFlow.
    An unnamed framework (``""``) asks PyTorch, as before; another named one (``sklearn``) has no
    CUDA device zenml could ask about, so the answer is no without importing anything.
    """
    if framework not in ("torch", "tensorflow", ""):
        return False
    if framework == "tensorflow":
        if "tensorflow" not in sys.modules and importlib.util.find_spec("tensorflow") is None:
            return False
        return bool(import_tensorflow().config.list_physical_devices("GPU"))
    if "torch" not in sys.modules and importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


class LocalTraining(BaseTrainingBackend):
    """In-process training.

    Args:
        device: ``auto`` (CUDA when available, else CPU), ``cpu``, ``cuda`` or ``cuda:N``.
    """

    def __init__(self, device: str = "auto") -> None:
        self.device = device

    def check_params(self, params: dict[str, object]) -> None:
        """Also require a known device name."""
        super().check_params(params)
        device = params.get("device", "auto")
        if isinstance(device, str) and not _DEVICE.match(device):
            raise ConfigError(f"LocalTraining device '{device}' is not one of auto, cpu, cuda, cuda:N")

    def resolve_device(self, framework: str = "") -> str:
        """The concrete device: ``auto`` becomes ``cuda`` when ``framework`` sees one, else ``cpu``.

        Raises:
            ConfigError: ``cuda`` was asked for but no CUDA device is visible.
        """
        self.validate()
        if self.device == "auto":
            return "cuda" if cuda_available(framework) else "cpu"
        if self.device.startswith("cuda") and not cuda_available(framework):
            raise ConfigError(
                f"LocalTraining(device='{self.device}') but no CUDA device is available; use 'auto' or 'cpu'"
            )
        return self.device

    def launch(self, train_fn: Callable[[TrainingContext], T]) -> T:
        """Call ``train_fn`` once, here, as rank 0 of 1 (a ``TrainJob`` names its framework for the device)."""
        device = self.resolve_device(str(getattr(train_fn, "framework", "")))
        return train_fn(TrainingContext(rank=0, world_size=1, local_rank=0, device=device))
