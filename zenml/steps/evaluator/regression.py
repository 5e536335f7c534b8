"""``RegressionEvaluator``: MAE, RMSE, R² and a residual summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zenml.steps.evaluator.base import BaseEvaluatorStep, as_array

if TYPE_CHECKING:
    import pandas as pd

REGRESSION_METRICS = ("mae", "rmse", "mse", "r2")


class RegressionEvaluator(BaseEvaluatorStep):
    """Regression metrics on each predicted split, overall and per slice.

    Args:
        label: the label column of the predictions (default: the trainer's label).
        metrics: any of mae, rmse, mse, r2.
        slices: columns to slice by.
    """

    known_metrics = REGRESSION_METRICS
    tasks = ("regression",)
    other_evaluator = "ClassificationEvaluator"

    def __init__(self, label: str = "", metrics: list[str] | None = None, slices: list[str] | None = None) -> None:
        self.label = label
        self.metrics = metrics
        self.slices = slices

    def compute(self, frame: pd.DataFrame, label: str) -> dict[str, float]:
        """The chosen metrics for one group of rows."""
        import numpy as np

        truth = as_array(frame[label]).astype(np.float64)
        error = as_array(frame["prediction"]).astype(np.float64) - truth
        variance = float(np.sum((truth - truth.mean()) ** 2))
        values = {
            "mae": float(np.mean(np.abs(error))),
            "mse": float(np.mean(error**2)),
            "rmse": float(np.sqrt(np.mean(error**2))),
            "r2": 1 - float(np.sum(error**2)) / variance if variance > 0 else float("nan"),
        }
        return {name: values[name] for name in self.metrics or ["mae", "rmse", "r2"]}

    def extras(self, frame: pd.DataFrame, label: str) -> dict[str, Any]:
        """Residuals (prediction - truth) as a histogram plus up to 500 (truth, prediction) points."""
        import numpy as np

        truth = as_array(frame[label]).astype(np.float64)
        predicted = as_array(frame["prediction"]).astype(np.float64)
        counts, edges = np.histogram(predicted - truth, bins=20)
        step = max(len(truth) // 500, 1)
        return {
            "residuals": {
                "edges": edges.tolist(),
                "counts": counts.tolist(),
                "points": [[float(t), float(p)] for t, p in zip(truth[::step], predicted[::step], strict=True)],
            }
        }
