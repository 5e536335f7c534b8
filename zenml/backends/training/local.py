"""``LocalTraining``: the training loop runs in this process, on CUDA when available, else the CPU."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable
from typing import TypeVar

from zenml.backends.training.base import TrainingBackend, TrainingContext
from zenml.exceptions import ConfigError

T = TypeVar("T")
_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def cuda_available() -> bool:
    """Whether PyTorch is installed and sees a CUDA device (imports torch only if it is installed)."""
    if "torch" not in sys.modules and importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


class LocalTraining(TrainingBackend):
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

    def resolve_device(self) -> str:
        """The concrete device: ``auto`` becomes ``cuda`` when available, else ``cpu``.

        Raises:
            ConfigError: ``cuda`` was asked for but no CUDA device is visible.
        """
        self.validate()
        if self.device == "auto":
            return "cuda" if cuda_available() else "cpu"
        if self.device.startswith("cuda") and not cuda_available():
            raise ConfigError(
                f"LocalTraining(device='{self.device}') but no CUDA device is available; use 'auto' or 'cpu'"
            )
        return self.device

    def launch(self, train_fn: Callable[[TrainingContext], T]) -> T:
        """Call ``train_fn`` once, here, as rank 0 of 1."""
        return train_fn(TrainingContext(rank=0, world_size=1, local_rank=0, device=self.resolve_device()))
