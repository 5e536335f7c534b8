"""Evaluation reports read like the data: class names in the confusion matrix, readable slice keys, per-slice F1."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from zenml.artifacts.dataset import Dataset
from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.context import StepContext
from zenml.steps.evaluator import ClassificationEvaluator
from zenml.steps.evaluator.base import slice_groups
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit

sklearn_metrics = pytest.importorskip("sklearn.metrics", reason="metrics are checked against scikit-learn")
pytest.importorskip("skops", reason="the pipeline uses the scikit-learn trainer")

BIN = re.compile(r"^\[-?\d+(\.\d+)?, -?\d+(\.\d+)?[)\]]$")
NUMBER = re.compile(r"^-?\d+(\.\d{1,3})?$")
SLICED = ["petal_length", "sepal_width"]


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory: pytest.TempPathFactory) -> object:
    """Iris (string class names) through a pipeline whose evaluator slices by two numeric features."""
    from sklearn.datasets import load_iris
    from zenml_sklearn import SklearnTrainer

    from zenml.repository import Repository, close_stores

    root = tmp_path_factory.mktemp("iris")
    frame = load_iris(as_frame=True).frame
    frame.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]
    frame["species"] = np.array(["setosa", "versicolor", "virginica"])[frame["species"]]
    frame.to_csv(root / "iris.csv", index=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        Repository.init(root)
        pipe = SimplePipeline(name="iris_slices")
        pipe.add_datasource(CSVDatasource(path="iris.csv"))
        pipe.add_split(RandomSplit(ratios={"train": 0.6, "eval": 0.4}, seed=5))
        pipe.add_preprocessor(StandardPreprocessor(labels=["species"]))
        pipe.add_trainer(SklearnTrainer(estimator="sklearn.linear_model.LogisticRegression"))
        pipe.add_evaluator(ClassificationEvaluator(metrics=["accuracy", "f1", "precision", "recall"], slices=SLICED))
        run = pipe.run()
        yield run
        close_stores()


def test_confusion_matrix_names_the_classes(iris_run: object) -> None:
    report = iris_run.steps["evaluator"].outputs["report"].read()  # type: ignore[attr-defined]
    confusion = report["splits"]["eval"]["confusion_matrix"]
    assert confusion["labels"] == ["setosa", "versicolor", "virginica"]
    assert sum(map(sum, confusion["matrix"])) == report["splits"]["eval"]["rows"]


def test_numeric_slice_keys_are_readable_ordered_bins(iris_run: object) -> None:
    report = iris_run.steps["evaluator"].outputs["report"].read()  # type: ignore[attr-defined]
    for column in SLICED:
        slices = report["splits"]["eval"]["slices"][column]
        keys = list(slices)
        if len(keys) <= 5:  # many values: bins
            assert all(BIN.match(key) for key in keys) and keys[-1].endswith("]"), keys
            lows = [float(key[1:].split(",")[0]) for key in keys]
        else:  # few values (sepal width has 20 in this split): the values, without float32 noise
            assert all(NUMBER.match(key) for key in keys), keys
            lows = [float(key) for key in keys]
        assert lows == sorted(lows)
        assert sum(entry["count"] for entry in slices.values()) == report["splits"]["eval"]["rows"]


def test_per_slice_f1_is_consistent_with_accuracy(iris_run: object) -> None:
    """Macro F1 over the classes in the slice, as scikit-learn computes it on the slice's rows."""
    report = iris_run.steps["evaluator"].outputs["report"].read()  # type: ignore[attr-defined]
    frame = iris_run.steps["trainer"].outputs["predictions"].read().to_pandas("eval")  # type: ignore[attr-defined]
    groups = slice_groups(frame["petal_length"])
    for key, entry in report["splits"]["eval"]["slices"]["petal_length"].items():
        rows = frame[groups == key]
        expected = sklearn_metrics.f1_score(rows["species"], rows["prediction"], average="macro")
        assert entry["f1"] == pytest.approx(expected), key
        if entry["accuracy"] == 1.0:
            assert entry["f1"] == 1.0  # the all-setosa slice was 0.0 when F1 was of class 1 only


def test_binary_slice_without_positives_has_no_f1(tmp_path: Path) -> None:
    table = pa.table(
        {
            "label": [0, 0, 0, 1, 1, 0],
            "prediction": [0, 0, 0, 1, 0, 1],
            "score": [0.1, 0.2, 0.3, 0.8, 0.4, 0.7],
            "group": ["neg", "neg", "neg", "mix", "mix", "mix"],
        }
    )
    data = Dataset.from_tables(str(tmp_path / "binary"), {"eval": table})
    context = StepContext(step_name="evaluator", run_id="r", pipeline_name="p", scratch_dir=str(tmp_path))
    _metrics, report = ClassificationEvaluator(metrics=["accuracy", "f1"], slices=["group"]).process(data, context)
    slices = report["splits"]["eval"]["slices"]["group"]
    assert slices["neg"] == {"count": 3.0, "accuracy": 1.0, "f1": None}  # undefined, not 0.0
    assert slices["mix"]["f1"] == pytest.approx(sklearn_metrics.f1_score([1, 1, 0], [1, 0, 1]))
    assert report["splits"]["eval"]["confusion_matrix"]["labels"] == [0, 1]  # no names recorded: indexes


def test_float32_noise_is_not_in_slice_keys() -> None:
    import pandas as pd

    values = pd.Series(np.float32([2.2, 3.1, 2.2, 10.0]).astype(np.float64))
    assert list(slice_groups(values)) == ["2.2", "3.1", "2.2", "10"]
    assert list(slice_groups(values).cat.categories) == ["2.2", "3.1", "10"]  # numeric order, not text order
