"""The evaluator tree: ``BaseEvaluatorStep`` with classification and regression evaluators."""

from __future__ import annotations

from typing import Any

from zenml.steps.evaluator.base import BaseEvaluatorStep, EvaluationOutput, EvaluationReport
from zenml.steps.evaluator.classification import ClassificationEvaluator
from zenml.steps.evaluator.regression import RegressionEvaluator
from zenml.utils.deprecation import moved_attribute as _moved_attribute
from zenml.utils.legacy import legacy_name_error as _legacy_name_error

__all__ = [
    "BaseEvaluatorStep",
    "ClassificationEvaluator",
    "EvaluationOutput",
    "EvaluationReport",
    "RegressionEvaluator",
]

#: renamed by the Base<Role> convention for extension points (docs/contributing/naming.md); one release
_RENAMED = {"EvaluatorStep": "zenml.steps.evaluator.BaseEvaluatorStep"}


def __getattr__(name: str) -> Any:
    if name in _RENAMED:
        return _moved_attribute(__name__, name, _RENAMED)
    legacy = _legacy_name_error(__name__, name)  # ``from PKG import TrainingPipeline``: say what it is here
    if legacy is not None:
        raise legacy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
