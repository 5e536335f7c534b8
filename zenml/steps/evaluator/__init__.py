"""The evaluator tree: ``EvaluatorStep`` with classification and regression evaluators."""

from zenml.steps.evaluator.base import EvaluationOutput, EvaluationReport, EvaluatorStep
from zenml.steps.evaluator.classification import ClassificationEvaluator
from zenml.steps.evaluator.regression import RegressionEvaluator

__all__ = ["ClassificationEvaluator", "EvaluationOutput", "EvaluationReport", "EvaluatorStep", "RegressionEvaluator"]
