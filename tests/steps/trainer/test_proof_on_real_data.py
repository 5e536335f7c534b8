"""Proof on real data: every trainer, on scikit-learn's bundled datasets, matches a plain scikit-learn reference.

On the same seeded split, the PyTorch and TensorFlow feed-forward trainers, a custom subclass of
each that defines only ``model_fn`` (no loss, no task: the label decides), and ``SklearnTrainer``
with three estimators train on breast cancer (0/1 integer label), iris (string label), wine
(three integer classes) and diabetes (regression). Each classification is at most 3 accuracy
points below scikit-learn's ``LogisticRegression`` on the same transformed split; each
regression's MAE at most 10 % above ``Ridge``'s. Set ``ZEN_TEST_PROOF_TABLE=path`` to append the
measured rows (Markdown) to a file: the trainers guide's table comes from there.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.torch,
    pytest.mark.tensorflow,
    pytest.mark.skipif(
        any(importlib.util.find_spec(name) is None for name in ("torch", "tensorflow", "sklearn")),
        reason="needs PyTorch, TensorFlow and scikit-learn (pip install 'zenml[torch,tensorflow,sklearn]')",
    ),
]

from zenml.steps.trainer.tensorflow_trainer import TensorflowBaseTrainer  # noqa: E402
from zenml.steps.trainer.torch_trainer import PyTorchBaseTrainer  # noqa: E402

#: dataset → (scikit-learn loader, task the label must get without any hint)
DATASETS = {
    "breast_cancer": ("load_breast_cancer", "binary"),
    "iris": ("load_iris", "multiclass"),
    "wine": ("load_wine", "multiclass"),
    "diabetes": ("load_diabetes", "regression"),
}
ACCURACY_POINTS = 0.03
MAE_RATIO = 1.10


class CustomTorchTrainer(PyTorchBaseTrainer):
    """What a new user writes: only ``model_fn``; loss, output units and task come from the label."""

    def model_fn(self, n_features: int, n_outputs: int) -> Any:
        import torch

        return torch.nn.Sequential(torch.nn.Linear(n_features, 32), torch.nn.ReLU(), torch.nn.Linear(32, n_outputs))


class CustomKerasTrainer(TensorflowBaseTrainer):
    """The TensorFlow counterpart: only ``model_fn``."""

    def model_fn(self, n_features: int, n_outputs: int) -> Any:
        import keras

        return keras.Sequential(
            [keras.Input((n_features,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(n_outputs)]
        )


def write_dataset(name: str, folder: Path) -> Path:
    """The bundled dataset as a CSV whose label column is ``target`` (iris: the species names)."""
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, DATASETS[name][0])(as_frame=True)
    frame = bunch.frame.rename(columns=lambda column: str(column).replace(" ", "_").replace("(cm)", "cm"))
    if name == "iris":
        frame["target"] = np.asarray(bunch.target_names)[bunch.target]
    path = folder / f"{name}.csv"
    frame.to_csv(path, index=False)
    return path


def estimators(task: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Row name → (estimator class path, parameters) of the ``SklearnTrainer`` rows."""
    if task == "regression":  # the regressor counterparts of the three classifiers
        return {
            "SklearnTrainer(LinearRegression)": ("sklearn.linear_model.LinearRegression", {}),
            "SklearnTrainer(SVR)": ("sklearn.svm.SVR", {"C": 100.0}),
            "SklearnTrainer(RandomForestRegressor)": (
                "sklearn.ensemble.RandomForestRegressor",
                {"n_estimators": 100, "min_samples_leaf": 5, "random_state": 0},
            ),
        }
    return {
        "SklearnTrainer(LogisticRegression)": ("sklearn.linear_model.LogisticRegression", {"max_iter": 1000}),
        "SklearnTrainer(SVC)": ("sklearn.svm.SVC", {}),
        "SklearnTrainer(RandomForestClassifier)": (
            "sklearn.ensemble.RandomForestClassifier",
            {"n_estimators": 100, "random_state": 0},
        ),
    }


NETWORKS = (
    "PyTorchFeedForwardTrainer",
    "TensorflowFeedForwardTrainer",
    "custom PyTorchBaseTrainer (model_fn only)",
    "custom TensorflowBaseTrainer (model_fn only)",
)


def trainer(row: str, task: str) -> Any:
    """The trainer of one row; every network gets the same small budget."""
    from zenml_sklearn import SklearnTrainer

    from zenml.steps.trainer import PyTorchFeedForwardTrainer, TensorflowFeedForwardTrainer

    regression = task == "regression"
    # a regression target in the hundreds needs more steps to reach its scale than classes do
    net: dict[str, Any] = {
        "epochs": 150 if regression else 40,
        "lr": 0.05 if regression else 0.01,
        "batch_size": 32,
        "seed": 0,
    }
    networks = {
        NETWORKS[0]: lambda: PyTorchFeedForwardTrainer(hidden_layers=[32], **net),
        NETWORKS[1]: lambda: TensorflowFeedForwardTrainer(hidden_layers=[32], **net),
        NETWORKS[2]: lambda: CustomTorchTrainer(**net),
        NETWORKS[3]: lambda: CustomKerasTrainer(**net),
    }
    if row in networks:
        return networks[row]()
    estimator, params = estimators(task)[row]
    return SklearnTrainer(estimator=estimator, estimator_params=params)


def cases() -> list[Any]:
    """One case per (dataset, trainer row)."""
    return [
        pytest.param(name, row, id=f"{name}-{row}")
        for name, (_loader, task) in DATASETS.items()
        for row in [*NETWORKS, *estimators(task)]
    ]


def reference(data: Any, label: str, task: str) -> float:
    """scikit-learn's ``LogisticRegression`` accuracy (or ``Ridge``'s MAE) on the same transformed split."""
    from sklearn.linear_model import LogisticRegression, Ridge

    def arrays(split: str) -> tuple[np.ndarray, np.ndarray]:
        frame = data.to_pandas(split)
        return frame.drop(columns=[label]).to_numpy(np.float64), frame[label].to_numpy()

    (x, y), (x_eval, y_eval) = arrays("train"), arrays("eval")
    if task == "regression":
        return float(np.mean(np.abs(Ridge().fit(x, y).predict(x_eval) - y_eval)))
    return float(LogisticRegression(max_iter=1000).fit(x, y).score(x_eval, y_eval))


@pytest.fixture(scope="module")
def proof_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One repository for every case: each dataset's data steps run once and are cached."""
    from zenml.repository import Repository

    with pytest.MonkeyPatch.context() as patch:
        for variable in list(os.environ):
            if variable.startswith("ZEN_") and not variable.startswith("ZEN_TEST_"):
                patch.delenv(variable)
        root = tmp_path_factory.mktemp("proof-repo")
        patch.chdir(root)
        for name in DATASETS:
            write_dataset(name, root)
        repository = Repository.init(root)
        yield root
        repository.close()


def proof_pipeline(name: str, trainer_step: Any) -> Any:
    """CSV → seeded 60/40 split → standard preprocessing → the trainer → the task's evaluator."""
    from zenml.datasources import CSVDatasource
    from zenml.pipelines import SimplePipeline
    from zenml.steps.evaluator import ClassificationEvaluator, RegressionEvaluator
    from zenml.steps.preprocessor import StandardPreprocessor
    from zenml.steps.split import RandomSplit

    pipeline = SimplePipeline(name=f"proof_{name}")
    pipeline.add_datasource(CSVDatasource(path=f"{name}.csv"))
    pipeline.add_split(RandomSplit(ratios={"train": 0.6, "eval": 0.4}, seed=7))
    pipeline.add_preprocessor(StandardPreprocessor(labels=["target"]))
    pipeline.add_trainer(trainer_step)
    pipeline.add_evaluator(RegressionEvaluator() if DATASETS[name][1] == "regression" else ClassificationEvaluator())
    return pipeline


@pytest.mark.parametrize(("name", "row"), cases())
def test_trainer_matches_the_scikit_learn_reference(name: str, row: str, proof_repo: Path) -> None:
    task = DATASETS[name][1]
    run = proof_pipeline(name, trainer(row, task)).run()
    assert run.steps["trainer"].outputs["model"].read().meta["task"] == task
    baseline = reference(run.steps["preprocessor"].outputs["data"].read(), "target", task)
    metric = "mae" if task == "regression" else "accuracy"
    value = run.metrics()["evaluator"][metric]
    _record(name, task, row, metric, value, baseline)
    if task == "regression":
        assert value <= baseline * MAE_RATIO, f"{row} on {name}: MAE {value:.2f} vs Ridge {baseline:.2f}"
    else:
        assert value >= baseline - ACCURACY_POINTS, (
            f"{row} on {name}: accuracy {value:.4f} vs LogisticRegression {baseline:.4f}"
        )


def _record(name: str, task: str, row: str, metric: str, value: float, baseline: float) -> None:
    target = os.environ.get("ZEN_TEST_PROOF_TABLE")
    if target:
        with open(target, "a") as handle:
            handle.write(f"| {name} | {task} | {row} | {metric} {value:.3f} | {baseline:.3f} |\n")
