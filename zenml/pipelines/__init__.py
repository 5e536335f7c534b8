"""Pipelines: ``BasePipeline``, ``SimplePipeline``, ``@pipeline`` and the run spec models."""

from __future__ import annotations

from typing import Any

from zenml.pipelines.base import BasePipeline, CompileContext, StepNode
from zenml.pipelines.decorator import FunctionPipeline, pipeline
from zenml.pipelines.inference import BatchInferencePipeline
from zenml.pipelines.simple import SimplePipeline
from zenml.pipelines.spec import RunSpec, StepSpec
from zenml.utils.legacy import legacy_name_error as _legacy_name_error

__all__ = [
    "BasePipeline",
    "BatchInferencePipeline",
    "CompileContext",
    "FunctionPipeline",
    "RunSpec",
    "SimplePipeline",
    "StepNode",
    "StepSpec",
    "pipeline",
]


def __getattr__(name: str) -> Any:
    legacy = _legacy_name_error(__name__, name)  # ``from PKG import TrainingPipeline``: say what it is here
    if legacy is not None:
        raise legacy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
