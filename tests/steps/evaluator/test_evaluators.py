"""Evaluators compute correct metrics from any trainer's predictions, per split and per slice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from zenml.artifacts.dataset import Dataset
from zenml.exceptions import ConfigError
from zenml.steps.context import StepContext
from zenml.steps.evaluator import ClassificationEvaluator, RegressionEvaluator
from zenml.testing import check_step

sklearn_metrics = pytest.importorskip("sklearn.metrics", reason="metrics are checked against scikit-learn")


def predictions(tmp_path: Path, task: str) -> Dataset:
    rng = np.random.default_rng(3)
    tables = {}
    for split, rows in (("eval", 400), ("test", 200)):
        city = rng.choice(["a", "b", "c"], rows)
        age = rng.integers(20, 80, rows).astype("float64")
        if task == "binary":
            truth = rng.integers(0, 2, rows)
            score = np.clip(truth * 0.6 + rng.uniform(0, 0.5, rows), 0, 1)
            columns = {"label": truth, "prediction": (score >= 0.5).astype("int64"), "score": score}
        elif task == "multiclass":
            truth = rng.integers(0, 3, rows)
            logits = rng.normal(size=(rows, 3)) + np.eye(3)[truth] * 1.5
            proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
            columns = {"label": truth, "prediction": proba.argmax(axis=1), "score": proba.max(axis=1),
                       **{f"proba_{i}": proba[:, i] for i in range(3)}}
        else:
            truth = rng.normal(50, 10, rows)
            columns = {"label": truth, "prediction": truth + rng.normal(0, 3, rows), "score": truth}
        tables[split] = pa.table({**columns, "city": city, "age": age})
    return Dataset.from_tables(str(tmp_path / f"predictions-{task}"), tables)


def context(tmp_path: Path) -> StepContext:
    return StepContext(step_name="evaluator", run_id="r", pipeline_name="p", scratch_dir=str(tmp_path))


def test_binary_metrics_match_scikit_learn(tmp_path: Path) -> None:
    data = predictions(tmp_path, "binary")
    metrics, report = ClassificationEvaluator(
        label="label", metrics=["accuracy", "auc", "f1", "precision", "recall", "log_loss"], slices=["city", "age"]
    ).process(data, context(tmp_path))
    frame = data.to_pandas("eval")
    assert metrics["accuracy"] == pytest.approx(sklearn_metrics.accuracy_score(frame.label, frame.prediction))
    assert metrics["auc"] == pytest.approx(sklearn_metrics.roc_auc_score(frame.label, frame.score))
    assert metrics["f1"] == pytest.approx(sklearn_metrics.f1_score(frame.label, frame.prediction))
    assert metrics["precision"] == pytest.approx(sklearn_metrics.precision_score(frame.label, frame.prediction))
    assert metrics["recall"] == pytest.approx(sklearn_metrics.recall_score(frame.label, frame.prediction))
    assert metrics["log_loss"] == pytest.approx(sklearn_metrics.log_loss(frame.label, frame.score), rel=1e-6)
    assert "test_accuracy" in metrics
    eval_report = report["splits"]["eval"]
    assert eval_report["confusion_matrix"]["matrix"] == sklearn_metrics.confusion_matrix(
        frame.label, frame.prediction).tolist()
    city_a = frame[frame.city == "a"]
    assert eval_report["slices"]["city"]["a"]["accuracy"] == pytest.approx(
        sklearn_metrics.accuracy_score(city_a.label, city_a.prediction))
    assert eval_report["slices"]["city"]["a"]["count"] == len(city_a)
    assert len(eval_report["slices"]["age"]) == 5  # many values: quantile bins


def test_multiclass_metrics_match_scikit_learn(tmp_path: Path) -> None:
    data = predictions(tmp_path, "multiclass")
    metrics, _report = ClassificationEvaluator(label="label", metrics=["accuracy", "auc", "f1", "log_loss"]).process(
        data, context(tmp_path))
    frame = data.to_pandas("eval")
    proba = frame[["proba_0", "proba_1", "proba_2"]].to_numpy()
    assert metrics["auc"] == pytest.approx(sklearn_metrics.roc_auc_score(frame.label, proba, multi_class="ovr"))
    assert metrics["f1"] == pytest.approx(sklearn_metrics.f1_score(frame.label, frame.prediction, average="macro"))
    assert metrics["log_loss"] == pytest.approx(sklearn_metrics.log_loss(frame.label, proba), rel=1e-6)


def test_regression_metrics_match_scikit_learn(tmp_path: Path) -> None:
    data = predictions(tmp_path, "regression")
    metrics, report = RegressionEvaluator(label="label", metrics=["mae", "rmse", "mse", "r2"],
                                          slices=["city"]).process(data, context(tmp_path))
    frame = data.to_pandas("eval")
    assert metrics["mae"] == pytest.approx(sklearn_metrics.mean_absolute_error(frame.label, frame.prediction))
    assert metrics["mse"] == pytest.approx(sklearn_metrics.mean_squared_error(frame.label, frame.prediction))
    assert metrics["r2"] == pytest.approx(sklearn_metrics.r2_score(frame.label, frame.prediction))
    residuals = report["splits"]["eval"]["residuals"]
    assert sum(residuals["counts"]) == len(frame) and len(residuals["points"]) <= 500
    assert set(report["splits"]["eval"]["slices"]["city"]) == {"a", "b", "c"}


def test_undefined_metrics_are_null_in_the_report(tmp_path: Path) -> None:
    table = pa.table({"label": [1, 1], "prediction": [1, 0], "score": [0.9, 0.4], "group": ["x", "x"]})
    data = Dataset.from_tables(str(tmp_path / "one-class"), {"eval": table})
    metrics, report = ClassificationEvaluator(metrics=["accuracy", "auc"], slices=["group"]).process(
        data, context(tmp_path))
    assert "auc" not in metrics  # undefined with one class: not logged
    assert report["splits"]["eval"]["metrics"]["auc"] is None


def test_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="metric 'acc' is unknown; use one of accuracy"):
        ClassificationEvaluator(metrics=["acc"]).validate()
    with pytest.raises(ConfigError, match="metric 'mape' is unknown"):
        RegressionEvaluator(metrics=["mape"]).validate()
    data = predictions(tmp_path, "binary")
    with pytest.raises(ConfigError, match="label column 'target' is not in the predictions"):
        ClassificationEvaluator(label="target").process(data, context(tmp_path))
    with pytest.raises(ConfigError, match="slice column 'zip' is not in the predictions"):
        ClassificationEvaluator(slices=["zip"]).process(data, context(tmp_path))


def test_conformance() -> None:
    check_step(ClassificationEvaluator(label="y", metrics=["accuracy"], slices=["a"]))
    check_step(RegressionEvaluator(label="y", metrics=["mae"]))
