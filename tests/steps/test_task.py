"""The task contract: a label's default task follows scikit-learn's ``type_of_target``, with a class cap;
a trainer's hints override it and must agree."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from zenml.exceptions import ConfigError
from zenml.steps.task import MAX_CLASSES, DistinctValuesCombiner, resolve_task, values_task

type_of_target = pytest.importorskip("sklearn.utils.multiclass", reason="checked against scikit-learn").type_of_target


@pytest.mark.parametrize("values", [
    np.array([0, 1, 1, 0]),
    np.array([0.0, 1.0, 1.0]),
    np.array([3, 1, 2, 2]),
    np.array([True, False, True]),
    np.array(["setosa", "virginica", "versicolor"], dtype=object),
    np.array([0.5, 1.25, 3.0]),
    np.array([-1, 1, -1]),
])
def test_default_task_follows_type_of_target(values: np.ndarray) -> None:
    expected = {"binary": "binary", "multiclass": "multiclass", "continuous": "regression"}[type_of_target(values)]
    assert values_task(values)["task"] == expected


def test_integer_classes_are_named_by_their_values() -> None:
    assert values_task(np.array([2, 0, 1, 2]))["classes"] == ["0", "1", "2"]
    assert values_task(np.array([1.0, 0.0]))["classes"] == ["0", "1"]


def test_more_integer_values_than_the_cap_is_regression_and_says_so() -> None:
    many = np.arange(MAX_CLASSES + 5)
    assert type_of_target(many) == "multiclass"  # the documented difference from scikit-learn
    decided = values_task(many)
    assert decided["task"] == "regression" and decided["classes"] is None
    assert f"more than {MAX_CLASSES} distinct integer values" in decided["note"]
    assert "task='multiclass'" in decided["note"]
    assert values_task(np.arange(MAX_CLASSES))["task"] == "multiclass"


def test_distinct_values_combine_across_batches_up_to_the_cap() -> None:
    combiner = DistinctValuesCombiner(["y"], limit=3)
    parts = []
    for chunk in ([0.0, 1.0], [1.0, 2.0], [3.0, float("nan")]):
        parts.append(combiner.add(combiner.create(), pa.record_batch({"y": pa.array(chunk)})))
    merged = combiner.extract(combiner.merge(parts))
    assert merged["y"] == {"values": [0.0, 1.0, 2.0], "more": True}
    assert combiner.merge(parts[:2])["y"] == {"values": [0.0, 1.0, 2.0], "more": False}


def test_hints_override_the_label_and_must_agree() -> None:
    assert resolve_task("binary", ["0", "1"], {}, "y", "T") == "binary"
    assert resolve_task("binary", ["0", "1"], {"task='regression'": "regression"}, "y", "T") == "regression"
    assert resolve_task("regression", None, {"estimator 'SVC'": "classification"}, "y", "T") == "classification"
    with pytest.raises(ConfigError, match="T: task='binary' asks for binary but loss='mse' asks for regression"):
        resolve_task("binary", ["0", "1"], {"task='binary'": "binary", "loss='mse'": "regression"}, "y", "T")
    with pytest.raises(ConfigError, match="estimator 'SVC' is a classifier but task='regression' asks for regression"):
        resolve_task("binary", None, {"task='regression'": "regression", "estimator 'SVC'": "classification"}, "y",
                     "T")


def test_hints_that_cannot_apply_to_the_label_are_refused() -> None:
    with pytest.raises(ConfigError, match="label 'species' has the classes a, b, c; use a classification"):
        resolve_task("multiclass", ["a", "b", "c"], {"loss='mse'": "regression"}, "species", "T")
    with pytest.raises(ConfigError, match=r"label 'species' has 3 classes \(a, b, c\); use task='multiclass'"):
        resolve_task("multiclass", ["a", "b", "c"], {"task='binary'": "binary"}, "species", "T")
