"""The scikit-learn trainer (contrib) fits any estimator, stores it with skops (no pickle) and reads it back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from zenml import BaseStep
from zenml.datasources import CSVDatasource
from zenml.exceptions import ArtifactError
from zenml.pipelines import SimplePipeline
from zenml.steps.evaluator import ClassificationEvaluator, RegressionEvaluator
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit
from zenml.testing import check_step

pytest.importorskip("sklearn", reason="the scikit-learn trainer needs the sklearn extra")
pytest.importorskip("skops", reason="the scikit-learn trainer needs the sklearn extra")
from zenml_sklearn import SklearnModel, SklearnTrainer  # noqa: E402

SCALED_SVC = {
    "steps": [
        ["scale", {"estimator": "sklearn.preprocessing.StandardScaler"}],
        ["svc", {"estimator": "sklearn.svm.SVC", "params": {"C": 1.0}}],
    ]
}

#: dataset, estimator, its parameters, task (integer labels are classes only when told), least score
CASES = [
    ("breast_cancer", "sklearn.svm.SVC", {}, "binary", 0.9),
    ("iris", "sklearn.ensemble.RandomForestClassifier", {"n_estimators": 20, "random_state": 0}, None, 0.85),
    ("wine", "sklearn.pipeline.Pipeline", SCALED_SVC, "multiclass", 0.9),
    ("wine", "sklearn.ensemble.HistGradientBoostingClassifier", {"max_iter": 30}, "multiclass", 0.85),
    ("diabetes", "sklearn.ensemble.GradientBoostingRegressor", {"n_estimators": 30}, None, 0.2),
]


def write_dataset(name: str, path: Path) -> str:
    """One of scikit-learn's bundled datasets as CSV; returns the label column (iris: class names)."""
    from sklearn import datasets

    frame = getattr(datasets, f"load_{name}")(as_frame=True).frame
    if name == "iris":
        frame["target"] = np.array(["setosa", "versicolor", "virginica"])[frame["target"]]
    frame.columns = [
        str(c).replace(" ", "_").replace("/", "_").replace("(", "").replace(")", "") for c in frame.columns
    ]
    frame.to_csv(path, index=False)
    return "target"


def sklearn_pipeline(
    dataset: str, estimator: str, params: dict[str, Any], task: str | None, evaluator: BaseStep | None = None
) -> SimplePipeline:
    pipe = SimplePipeline(name=f"sk_{dataset}")
    pipe.add_datasource(CSVDatasource(path=f"{dataset}.csv"))
    pipe.add_split(RandomSplit(ratios={"train": 0.7, "eval": 0.3}, seed=3))
    pipe.add_preprocessor(StandardPreprocessor(labels=["target"]))
    pipe.add_trainer(SklearnTrainer(estimator=estimator, estimator_params=params, task=task))
    if evaluator is None:
        evaluator = RegressionEvaluator() if dataset == "diabetes" else ClassificationEvaluator(metrics=["accuracy"])
    pipe.add_evaluator(evaluator)
    return pipe


def test_conformance() -> None:
    check_step(SklearnTrainer(estimator="sklearn.linear_model.Ridge", estimator_params={"alpha": 1.0}))
    check_step(SklearnTrainer(estimator="sklearn.pipeline.Pipeline", estimator_params=SCALED_SVC))


@pytest.mark.parametrize(
    ("dataset", "estimator", "params", "task", "least"), CASES, ids=[f"{c[0]}-{c[1].rpartition('.')[2]}" for c in CASES]
)
def test_estimator_round_trips(
    repo: object, tmp_path: Path, dataset: str, estimator: str, params: dict[str, Any], task: str | None, least: float
) -> None:
    write_dataset(dataset, tmp_path / f"{dataset}.csv")
    run = sklearn_pipeline(dataset, estimator, params, task).run()
    metrics = run.metrics()["evaluator"]
    assert (metrics["r2"] if dataset == "diabetes" else metrics["accuracy"]) > least
    model = run.steps["trainer"].outputs["model"].read()
    assert isinstance(model, SklearnModel)
    assert {p.name for p in Path(model.path).iterdir()} >= {"estimator.skops", "zenml-model.json"}
    # the estimator read back predicts exactly what the trainer predicted when it ran
    transformed = run.steps["preprocessor"].outputs["data"].read().to_pandas("eval")
    predictions = run.steps["trainer"].outputs["predictions"].read().to_pandas("eval")
    outputs = model.predict(_batch(transformed, model.meta["features"]))
    assert np.allclose(outputs["score"], predictions["score"])
    assert np.array_equal(outputs["prediction"], predictions["prediction"])


def _batch(frame: Any, columns: list[str]) -> Any:
    import pyarrow as pa

    return pa.RecordBatch.from_pandas(frame[columns], preserve_index=False)


def test_svc_binary_scores_rank_like_its_margin(repo: object, tmp_path: Path) -> None:
    """SVC has no predict_proba: scores are a logistic of its margin, so AUC is its margin's AUC."""
    write_dataset("breast_cancer", tmp_path / "breast_cancer.csv")
    pipe = sklearn_pipeline("breast_cancer", "sklearn.svm.SVC", {}, "binary",
                            evaluator=ClassificationEvaluator(metrics=["accuracy", "auc"]))
    metrics = pipe.run().metrics()["evaluator"]
    assert metrics["auc"] > 0.97 and metrics["accuracy"] > 0.9


PIPELINE_FILE = """\
from zenml import BaseStep
from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.evaluator import ClassificationEvaluator
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit
from zenml_sklearn import SklearnTrainer

wine = SimplePipeline(name="wine_svc")
wine.add_datasource(CSVDatasource(path="wine.csv"))
wine.add_split(RandomSplit(ratios={"train": 0.7, "eval": 0.3}, seed=3))
wine.add_preprocessor(StandardPreprocessor(labels=["target"]))
wine.add_trainer(SklearnTrainer(estimator="sklearn.svm.SVC", task="multiclass"))
wine.add_evaluator(ClassificationEvaluator(metrics=["accuracy"]))
"""

READ_SCRIPT = """\
import numpy as np
from zenml.repository import Repository

run = Repository().runs()[0]
model = run.steps["trainer"].outputs["model"].read()
data = run.steps["preprocessor"].outputs["data"].read().to_pandas("eval")
print(type(model.estimator()).__name__, model.predict_arrays(data[model.meta["features"]].to_numpy(np.float32)).shape)
"""


def test_zen_run_then_plain_script_reads_the_model(repo: object, tmp_path: Path) -> None:
    write_dataset("wine", tmp_path / "wine.csv")
    (tmp_path / "wine_flow.py").write_text(PIPELINE_FILE)
    (tmp_path / "read_model.py").write_text(READ_SCRIPT)
    zen = Path(sys.executable).with_name("zen")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "contrib")}
    ran = subprocess.run(
        [str(zen), "run", "wine_flow.py:wine"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=240
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    read = subprocess.run(
        [sys.executable, "read_model.py"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120
    )
    assert read.returncode == 0, read.stderr
    assert read.stdout.split()[0] == "SVC" and read.stdout.strip().endswith(", 3)")


def untrusted_model(folder: Path) -> Path:
    """A stored model whose estimator holds a function neither skops nor zenml trusts (``operator.neg``)."""
    import operator

    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    x, y = np.random.default_rng(0).normal(size=(40, 2)), np.arange(40) % 2
    estimator = make_pipeline(FunctionTransformer(operator.neg), LogisticRegression()).fit(x, y)
    folder.mkdir()
    sio.dump(estimator, folder / "estimator.skops")
    meta = {
        "framework": "sklearn",
        "loader": "zenml_sklearn.trainer.SklearnModel",
        "features": ["a", "b"],
        "label": "y",
        "task": "binary",
        "classes": ["0", "1"],
    }
    (folder / "zenml-model.json").write_text(json.dumps(meta))
    return folder


def test_untrusted_types_are_refused_by_name_until_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import skops.io as sio

    from zenml.utils import trust

    folder = untrusted_model(tmp_path / "model")
    names = sio.get_untrusted_types(file=str(folder / "estimator.skops"))
    outside = [name for name in names if not name.startswith("sklearn.")]
    assert outside == ["_operator.neg"]
    with pytest.raises(ArtifactError, match=r"types zenml does not trust: _operator.neg; .*trust_types"):
        SklearnModel(str(folder)).estimator()
    trust.trust_types(outside)
    try:
        assert SklearnModel(str(folder)).predict_arrays(np.ones((3, 2), np.float32)).shape == (3, 2)
    finally:
        trust.untrust_types(outside)


def test_nested_estimator_params_build_a_pipeline() -> None:
    from zenml_sklearn.trainer import build_estimator

    built = build_estimator("sklearn.pipeline.Pipeline", SCALED_SVC, "test")
    assert [type(step).__name__ for _, step in built.steps] == ["StandardScaler", "SVC"]
    with pytest.raises(Exception, match="not a scikit-learn estimator class"):
        build_estimator("sklearn.pipeline.Pipeline", {"steps": [["x", {"estimator": "sklearn.base.clone"}]]}, "test")


def test_models_of_the_old_format_are_refused_with_the_fix(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "zenml-model.json").write_text(json.dumps({"task": "binary", "features": [], "classes": ["0", "1"]}))
    (folder / "state.npz").write_bytes(b"")
    with pytest.raises(ArtifactError, match="older zenml_sklearn.*retrain"):
        SklearnModel(str(folder)).estimator()
