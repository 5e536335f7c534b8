"""``ClassificationEvaluator``: accuracy, AUC, F1, precision, recall, log loss and a confusion matrix."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zenml.steps.evaluator.base import BaseEvaluatorStep, as_array, as_classes
from zenml.steps.task import CLASSIFICATION

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

CLASSIFICATION_METRICS = ("accuracy", "auc", "f1", "precision", "recall", "log_loss")


class ClassificationEvaluator(BaseEvaluatorStep):
    """Classification metrics on each predicted split, overall and per slice.

    Args:
        label: the label column of the predictions (default: the trainer's label).
        metrics: any of accuracy, auc, f1, precision, recall, log_loss (F1, precision and recall
            are for the positive class when binary, macro-averaged otherwise).
        slices: columns to slice by (raw feature values; numbers with many values are binned).
    """

    known_metrics = CLASSIFICATION_METRICS
    tasks = CLASSIFICATION
    other_evaluator = "RegressionEvaluator"

    def __init__(self, label: str = "", metrics: list[str] | None = None, slices: list[str] | None = None) -> None:
        self.label = label
        self.metrics = metrics
        self.slices = slices

    def compute(self, frame: pd.DataFrame, label: str) -> dict[str, float]:
        """The chosen metrics for one group of rows."""
        import numpy as np

        truth, predicted = self._classes(frame, label)
        probabilities = _probabilities(frame)
        names = self.metrics or ["accuracy", "auc", "f1", "log_loss"]
        functions = {
            "accuracy": lambda: float(np.mean(truth == predicted)),
            "auc": lambda: auc(truth, probabilities),
            "f1": lambda: _prf(truth, predicted, probabilities.shape[1])[2],
            "precision": lambda: _prf(truth, predicted, probabilities.shape[1])[0],
            "recall": lambda: _prf(truth, predicted, probabilities.shape[1])[1],
            "log_loss": lambda: log_loss(truth, probabilities),
        }
        return {name: functions[name]() for name in names}

    def _classes(self, frame: pd.DataFrame, label: str) -> tuple[np.ndarray, np.ndarray]:
        """True and predicted class indexes (refused when either holds non-integer values)."""
        name = type(self).__name__
        return as_classes(frame[label], label, name), as_classes(frame["prediction"], "prediction", name)

    def extras(self, frame: pd.DataFrame, label: str) -> dict[str, Any]:
        """The confusion matrix (rows: true class, columns: predicted class), labelled with the class names if known."""
        import numpy as np

        truth, predicted = self._classes(frame, label)
        size = int(max(truth.max(initial=0), predicted.max(initial=0), _probabilities(frame).shape[1] - 1)) + 1
        matrix = np.zeros((size, size), dtype=np.int64)
        np.add.at(matrix, (truth, predicted), 1)
        names = frame.attrs.get("classes")
        labels: list[Any] = list(names) if names and len(names) == size else list(range(size))
        return {"confusion_matrix": {"labels": labels, "matrix": matrix.tolist()}}


def _probabilities(frame: pd.DataFrame) -> np.ndarray:
    """Class probabilities: ``proba_i`` columns (multi-class) or ``[1 - score, score]`` (binary)."""
    import numpy as np

    columns = sorted((c for c in frame.columns if str(c).startswith("proba_")), key=lambda c: int(str(c)[6:]))
    if columns:
        return np.column_stack([as_array(frame[c]) for c in columns]).astype(np.float64)
    score = as_array(frame["score"]).astype(np.float64)
    return np.column_stack([1 - score, score])


def _prf(truth: np.ndarray, predicted: np.ndarray, n_classes: int) -> tuple[float, float, float]:
    """Precision, recall, F1: of class 1 for a binary task, else macro-averaged over the classes present.

    The task's class count decides, not the rows at hand: a slice with two of three classes is
    still macro-averaged. Undefined values are NaN (``None`` in reports): binary metrics of a
    slice with no positive row, true or predicted (its accuracy may well be 1).
    """
    import numpy as np

    chosen = [1] if n_classes <= 2 else list(np.union1d(truth, predicted))
    if n_classes <= 2 and not np.any(truth == 1) and not np.any(predicted == 1):
        return float("nan"), float("nan"), float("nan")
    scores = []
    for cls in chosen:
        tp = float(np.sum((predicted == cls) & (truth == cls)))
        precision = tp / max(float(np.sum(predicted == cls)), 1.0)
        recall = tp / max(float(np.sum(truth == cls)), 1.0)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append((precision, recall, f1))
    means = np.mean(np.array(scores), axis=0)
    return float(means[0]), float(means[1]), float(means[2])


def auc(truth: np.ndarray, probabilities: np.ndarray) -> float:
    """ROC AUC: binary from the positive class, multi-class as the one-vs-rest macro average."""
    import numpy as np

    from zenml.steps.metrics import binary_auc

    if probabilities.shape[1] == 2:
        return binary_auc(probabilities[:, 1], (truth == 1).astype(np.int64))
    values = [binary_auc(probabilities[:, k], (truth == k).astype(np.int64)) for k in range(probabilities.shape[1])]
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def log_loss(truth: np.ndarray, probabilities: np.ndarray, eps: float = 1e-15) -> float:
    """Mean negative log-likelihood of the true class."""
    import numpy as np

    chosen = probabilities[np.arange(len(truth)), np.clip(truth, 0, probabilities.shape[1] - 1)]
    return float(-np.mean(np.log(np.clip(chosen, eps, 1 - eps))))
