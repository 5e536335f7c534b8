"""zenml: reproducible machine-learning pipelines. Top-level names load lazily to keep imports fast."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zenml.utils.legacy import install_legacy_module_finder

__version__ = "0.1.0"

_EXPORTS = {
    "step": "zenml.steps.function",
    "BaseStep": "zenml.steps.base",
    "StepContext": "zenml.steps.context",
    "Metrics": "zenml.steps.context",
    "pipeline": "zenml.pipelines.decorator",
    "SimplePipeline": "zenml.pipelines.simple",
    "Repository": "zenml.repository",
}

__all__ = ["BaseStep", "Metrics", "Repository", "SimplePipeline", "StepContext", "__version__", "pipeline", "step"]

if TYPE_CHECKING:
    from zenml.pipelines.decorator import pipeline
    from zenml.pipelines.simple import SimplePipeline
    from zenml.repository import Repository
    from zenml.steps.base import BaseStep
    from zenml.steps.context import Metrics, StepContext
    from zenml.steps.function import step


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'zenml' has no attribute '{name}'")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


install_legacy_module_finder()  # ``import zenml.core.…`` (legacy ZenML) says where its names live now
