"""Pipelines: ``BasePipeline``, ``SimplePipeline``, ``@pipeline`` and the run spec models."""

from zenml.pipelines.base import BasePipeline, CompileContext, StepNode
from zenml.pipelines.decorator import FunctionPipeline, pipeline
from zenml.pipelines.inference import BatchInferencePipeline
from zenml.pipelines.simple import SimplePipeline
from zenml.pipelines.spec import RunSpec, StepSpec

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
