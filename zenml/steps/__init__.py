"""Steps: ``BaseStep`` for class steps, ``@step`` for function steps, and the step context."""

from zenml.steps.base import BaseStep
from zenml.steps.context import Metrics, StepContext
from zenml.steps.function import SimpleStep, step
from zenml.steps.options import StepOptions
from zenml.steps.signature import StepSignature
from zenml.steps.wiring import OutputHandle

__all__ = ["BaseStep", "Metrics", "OutputHandle", "SimpleStep", "StepContext", "StepOptions", "StepSignature", "step"]
