"""The scikit-learn trainer (contrib) fits, predicts, is evaluated like any trainer, and never pickles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from zenml.datasources import CSVDatasource
from zenml.exceptions import StepError
from zenml.pipelines import SimplePipeline
from zenml.steps.evaluator import ClassificationEvaluator, RegressionEvaluator
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit
from zenml.testing import check_step

pytest.importorskip("sklearn", reason="the scikit-learn trainer needs the sklearn extra")
from zenml_sklearn import SklearnTrainer  # noqa: E402


def write_data(path: Path, rows: int = 600) -> None:
    rng = np.random.default_rng(4)
    x1, x2 = rng.normal(size=rows), rng.normal(size=rows)
    kind = rng.choice(["p", "q"], rows)
    label = np.where(x1 - x2 + (kind == "p") > 0, "yes", "no")
    target = 3 * x1 - 2 * x2 + rng.normal(0, 0.1, rows)
    lines = ["x1,x2,kind,label,target", *(f"{a},{b},{c},{d},{e}" for a, b, c, d, e in
                                          zip(x1, x2, kind, label, target, strict=True))]
    path.write_text("\n".join(lines) + "\n")


def classification() -> SimplePipeline:
    pipe = SimplePipeline(name="sk_classify")
    pipe.add_datasource(CSVDatasource(path="data.csv"))
    pipe.add_split(RandomSplit(ratios={"train": 0.7, "eval": 0.3}, seed=2))
    pipe.add_preprocessor(StandardPreprocessor(features=["x1", "x2", "kind"], labels=["label"]))
    pipe.add_trainer(SklearnTrainer(estimator="sklearn.linear_model.LogisticRegression",
                                    estimator_params={"C": 10.0}))
    pipe.add_evaluator(ClassificationEvaluator(label="label", metrics=["accuracy", "auc"], slices=["kind"]))
    return pipe


def regression() -> SimplePipeline:
    pipe = SimplePipeline(name="sk_regress")
    pipe.add_datasource(CSVDatasource(path="data.csv"))
    pipe.add_split(RandomSplit(ratios={"train": 0.7, "eval": 0.3}, seed=2))
    pipe.add_preprocessor(StandardPreprocessor(features=["x1", "x2"], labels=["target"]))
    pipe.add_trainer(SklearnTrainer(estimator="sklearn.linear_model.Ridge", estimator_params={"alpha": 0.1}))
    pipe.add_evaluator(RegressionEvaluator(label="target"))
    return pipe


def test_conformance() -> None:
    check_step(SklearnTrainer(estimator="sklearn.linear_model.Ridge", estimator_params={"alpha": 1.0}))


def test_classifier_learns_and_reloads_without_pickle(repo: object, tmp_path: Path) -> None:
    write_data(tmp_path / "data.csv")
    run = classification().run()
    metrics = run.metrics()["evaluator"]
    assert metrics["accuracy"] > 0.9 and metrics["auc"] > 0.95
    model = run.steps["trainer"].outputs["model"].read()
    files = sorted(p.name for p in Path(model.path).iterdir() if p.name != ".zenml-artifact.json")
    assert files == ["estimator.json", "state.npz", "zenml-model.json"]
    predictions = run.steps["trainer"].outputs["predictions"].read().to_pandas("eval")
    features = np.column_stack([predictions_feature(run, name) for name in model.meta["features"]])
    assert np.allclose(model.predict_arrays(features.astype(np.float32))[:, 1], predictions["score"], atol=1e-6)
    report = run.steps["evaluator"].outputs["report"].read()
    assert set(report["splits"]["eval"]["slices"]["kind"]) == {"p", "q"}


def predictions_feature(run: object, name: str) -> np.ndarray:
    data = run.steps["preprocessor"].outputs["data"].read().to_pandas("eval")  # type: ignore[attr-defined]
    return data[name].to_numpy()


def test_regressor_learns(repo: object, tmp_path: Path) -> None:
    write_data(tmp_path / "data.csv")
    run = regression().run()
    assert run.metrics()["evaluator"]["r2"] > 0.95


def test_estimator_with_object_state_is_refused(repo: object, tmp_path: Path) -> None:
    write_data(tmp_path / "data.csv")
    pipe = regression()
    pipe._slots["trainer"] = (SklearnTrainer(estimator="sklearn.tree.DecisionTreeRegressor"), None)
    with pytest.raises(StepError, match="would need a pickle"):
        pipe.run()
