"""Steps: ``BaseStep`` for class steps, ``@step`` for function steps, and the step context."""

from typing import Any

from zenml.steps.base import BaseStep
from zenml.steps.context import Metrics, StepContext
from zenml.steps.function import FunctionStep, step
from zenml.steps.options import StepOptions
from zenml.steps.signature import StepSignature
from zenml.steps.wiring import OutputHandle
from zenml.utils.deprecation import moved_attribute as _moved_attribute

_RENAMED = {"SimpleStep": "zenml.steps.FunctionStep"}


def __getattr__(name: str) -> Any:
    return _moved_attribute(__name__, name, _RENAMED)


__all__ = [
    "BaseStep",
    "FunctionStep",
    "Metrics",
    "OutputHandle",
    "StepContext",
    "StepOptions",
    "StepSignature",
    "step",
]
