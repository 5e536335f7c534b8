"""``BaseTrainingBackend``: decides where a trainer's loop runs (this process, several, several machines)."""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from zenml.backends.base import BaseBackend
from zenml.utils.deprecation import moved_attribute as _moved_attribute

T = TypeVar("T")


@dataclass(frozen=True)
class TrainingContext:
    """Where this copy of the training loop runs.

    Attributes:
        rank: this process's rank among all training processes (0 writes artifacts).
        world_size: how many processes train together.
        local_rank: the rank on this machine (picks the GPU).
        device: ``cpu``, ``cuda`` or ``cuda:N``.
        distribution: how the processes cooperate, e.g. ``{"framework": "torch", "backend": "gloo"}``
            or ``{"framework": "tensorflow", "strategy": "multi_worker"}``; empty for one process.
    """

    rank: int
    world_size: int
    local_rank: int
    device: str
    distribution: dict[str, Any] = field(default_factory=dict)

    @property
    def is_primary(self) -> bool:
        """Whether this process writes the artifacts (rank 0)."""
        return self.rank == 0


class BaseTrainingBackend(BaseBackend, abc.ABC):
    """Launches a training function once per training process and returns rank 0's result.

    Examples:
        >>> class InProcessTraining(BaseTrainingBackend):
        ...     def launch(self, train_fn):
        ...         return train_fn(TrainingContext(rank=0, world_size=1, local_rank=0, device="cpu"))
        >>> InProcessTraining().launch(lambda ctx: ctx.world_size)
        1
    """

    backend_kind: ClassVar[str] = "training"

    def result_signature(self) -> dict[str, Any]:
        """What about this backend changes a trained model (joins trainers' cache keys).

        Backends are otherwise left out of cache keys, but data-parallel training changes the
        effective batch (``world_size * batch_size``) and so the model: distributed backends
        return ``{"world_size": N}``. In-process training returns ``{}``.
        """
        return {}

    @abc.abstractmethod
    def launch(self, train_fn: Callable[[TrainingContext], T]) -> T:
        """Run ``train_fn`` on every training process; return what rank 0 returned."""


def __getattr__(name: str) -> Any:
    # renamed by the Base* convention for extension points; the old name works for one release
    if name == "TrainingBackend":
        return _moved_attribute(__name__, name, {"TrainingBackend": "zenml.backends.training.BaseTrainingBackend"})
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
