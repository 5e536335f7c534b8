"""Orchestrator backends: the abstract base and the in-process implementation."""

from __future__ import annotations

from typing import Any

from zenml.backends.orchestrator.base import BaseOrchestrator
from zenml.backends.orchestrator.local import LocalOrchestrator
from zenml.utils.legacy import legacy_name_error as _legacy_name_error

__all__ = ["BaseOrchestrator", "LocalOrchestrator"]


def __getattr__(name: str) -> Any:
    legacy = _legacy_name_error(__name__, name)  # ``from PKG import TrainingPipeline``: say what it is here
    if legacy is not None:
        raise legacy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
