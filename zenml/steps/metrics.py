"""Metric functions shared by trainers (per-epoch history) and evaluators; NumPy only."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def epoch_metrics(outputs: np.ndarray, labels: np.ndarray, task: str, names: list[str]) -> dict[str, float]:
    """Per-epoch metrics from model outputs: ``accuracy``, ``auc`` (binary), ``mae``, ``mse``."""
    import numpy as np

    values = outputs.reshape(len(outputs), -1)
    result: dict[str, float] = {}
    for name in names:
        if name in ("mae", "mse"):
            error = values[:, 0] - labels if task == "regression" else values[:, -1] - labels
            result[name] = float(np.mean(np.abs(error) if name == "mae" else error**2))
        elif name == "accuracy" and task != "regression":
            predicted = (values[:, -1] >= 0.5).astype(np.int64) if task == "binary" else values.argmax(axis=1)
            result[name] = float(np.mean(predicted == labels))
        elif name == "auc" and task == "binary":
            result[name] = binary_auc(values[:, -1], labels)
    return result


def binary_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """ROC AUC by the rank-sum formula (ties get average ranks)."""
    import numpy as np

    positives = labels == 1
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    if not n_pos or not n_neg:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=np.float64)
    sorted_scores = scores[order]
    start = 0
    while start < len(scores):
        end = start
        while end + 1 < len(scores) and sorted_scores[end + 1] == sorted_scores[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
