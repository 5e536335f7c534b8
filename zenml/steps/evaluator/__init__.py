"""The evaluator tree: ``EvaluatorStep`` with classification and regression evaluators."""

from __future__ import annotations

from typing import Any

from zenml.steps.evaluator.base import EvaluationOutput, EvaluationReport, EvaluatorStep
from zenml.steps.evaluator.classification import ClassificationEvaluator
from zenml.steps.evaluator.regression import RegressionEvaluator
from zenml.utils.legacy import legacy_name_error as _legacy_name_error

__all__ = ["ClassificationEvaluator", "EvaluationOutput", "EvaluationReport", "EvaluatorStep", "RegressionEvaluator"]


def __getattr__(name: str) -> Any:
    legacy = _legacy_name_error(__name__, name)  # ``from PKG import TrainingPipeline``: say what it is here
    if legacy is not None:
        raise legacy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
