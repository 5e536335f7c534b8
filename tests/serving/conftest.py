"""A project trained once per session on scikit-learn's datasets: breast cancer (0/1), iris (class names) and
diabetes (a value), with a scikit-learn, a custom PyTorch and a TensorFlow trainer, for the serving tests."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from serve_helpers import Server
from serving_helpers import raw_rows

#: the project's pipelines; ``IrisNet`` is a trainer subclass only this project defines
FLOWS = """
from zenml import pipeline
from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.deployer import LocalDeployer
from zenml.steps.evaluator import ClassificationEvaluator, RegressionEvaluator
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit
from zenml.steps.trainer import PyTorchBaseTrainer


class IrisNet(PyTorchBaseTrainer):
    def model_fn(self, n_features, n_outputs):
        import torch

        return torch.nn.Sequential(torch.nn.Linear(n_features, 16), torch.nn.ReLU(), torch.nn.Linear(16, n_outputs))


def build(name, data, label, trainer, evaluator, deployer=None):
    flow = SimplePipeline(name=name)
    flow.add_datasource(CSVDatasource(path=data + ".csv"))
    flow.add_split(RandomSplit(ratios={"train": 0.7, "eval": 0.3}, seed=1))
    flow.add_preprocessor(StandardPreprocessor(labels=[label]))
    flow.add_trainer(trainer)
    flow.add_evaluator(evaluator)
    if deployer is not None:
        flow.add_deployer(deployer)
    return flow


def cancer_sklearn(deployer=None, name="cancer_sklearn"):
    from zenml_sklearn import SklearnTrainer

    trainer = SklearnTrainer(estimator="sklearn.linear_model.LogisticRegression", estimator_params={"max_iter": 500})
    return build(name, "cancer", "target", trainer, ClassificationEvaluator(), deployer)


def iris_torch():
    return build("iris_torch", "iris", "species", IrisNet(epochs=15, lr=0.02, batch_size=16), ClassificationEvaluator())


def diabetes_tf():
    from zenml.steps.trainer import TensorflowFeedForwardTrainer

    trainer = TensorflowFeedForwardTrainer(hidden_layers=[16], epochs=3, lr=0.01)
    return build("diabetes_tf", "diabetes", "target", trainer, RegressionEvaluator())


gated = LocalDeployer(target="deployed/{pipeline}", min_metrics={"accuracy": 0.9})
cancer_gated = cancer_sklearn(gated, "cancer_gated")
held = LocalDeployer(target="held/{pipeline}", min_metrics={"accuracy": 0.999})
cancer_held_back = cancer_sklearn(held, "cancer_held")
cancer_misnamed = cancer_sklearn(LocalDeployer(target="x", min_metrics={"acuracy": 0.9}), "cancer_misnamed")


@pipeline
def cancer_decorated():
    from zenml_sklearn import SklearnTrainer

    # RandomSplit outputs data and statistics
    data = RandomSplit(ratios={"train": 0.7, "eval": 0.3}, seed=1)(CSVDatasource(path="cancer.csv")())
    prepared = StandardPreprocessor(labels=["target"])(data.data)
    trained = SklearnTrainer(estimator_params={"max_iter": 500})(prepared.data, prepared.transform)
    evaluation = ClassificationEvaluator()(trained.predictions)
    LocalDeployer(target="decorated/{run_id}")(prepared.transform, trained.model, evaluation.metrics)
"""


def write_datasets(root: Path) -> None:
    """breast cancer, iris (species names as labels) and diabetes as CSVs with plain column names."""
    import sklearn.datasets

    for name, loader in (("cancer", "load_breast_cancer"), ("iris", "load_iris"), ("diabetes", "load_diabetes")):
        loaded = getattr(sklearn.datasets, loader)(as_frame=True)
        frame = loaded.frame
        frame.columns = [str(c).replace(" (cm)", "").replace(" ", "_") for c in frame.columns]
        if name == "iris":
            frame = frame.assign(species=[str(loaded.target_names[i]) for i in frame.pop("target")])
        frame.to_csv(root / f"{name}.csv", index=False)


@pytest.fixture(scope="session")
def serving_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The project folder (a repository holding the CSVs and ``serving_flows.py``)."""
    pytest.importorskip("sklearn")
    from zenml.repository import Repository

    root = tmp_path_factory.mktemp("serving-project")
    write_datasets(root)
    (root / "serving_flows.py").write_text(FLOWS)
    Repository.init(root)
    yield root


@pytest.fixture
def in_project(serving_project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The project as the working directory and import path (its stores closed afterwards)."""
    from zenml.repository import close_stores

    monkeypatch.chdir(serving_project)
    monkeypatch.syspath_prepend(str(serving_project))
    yield serving_project
    close_stores()


_RUNS: dict[str, str] = {}


@pytest.fixture
def trained(in_project: Path) -> Callable[[str], Any]:
    """``trained("cancer_sklearn")``: the run of that flow (trained once per session)."""
    from zenml.repository import Repository

    def run_of(flow: str) -> Any:
        if flow not in _RUNS:
            flows = importlib.import_module("serving_flows")  # a name no other test project uses
            _RUNS[flow] = getattr(flows, flow)().run().id
        return Repository().run(_RUNS[flow])

    return run_of


# -- zen serve: one real server of the scikit-learn run, for the HTTP tests --------------------------


@dataclass(frozen=True)
class ServedRun:
    """The project folder and the id of its breast-cancer scikit-learn run."""

    root: Path
    run_id: str

    def rows(self, count: int) -> list[dict[str, Any]]:
        """The first ``count`` rows of the CSV the run trained on, label (``target``) included."""
        return raw_rows(self.root, "cancer", count)


@pytest.fixture(scope="session")
def cancer_run(serving_project: Path) -> ServedRun:
    """The ``cancer_sklearn`` run (the one ``trained`` makes), for tests that start ``zen serve`` on it."""
    from zenml.repository import close_stores

    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(serving_project)
        patch.syspath_prepend(str(serving_project))
        if "cancer_sklearn" not in _RUNS:
            flows = importlib.import_module("serving_flows")
            _RUNS["cancer_sklearn"] = flows.cancer_sklearn().run().id
        close_stores()
    return ServedRun(serving_project, _RUNS["cancer_sklearn"])


@pytest.fixture(scope="session")
def server(cancer_run: ServedRun) -> Iterator[Server]:
    """``zen serve RUN_ID`` of that run on a free port of 127.0.0.1, shared by the tests (stopped at the end)."""
    pytest.importorskip("uvicorn")
    with Server(cancer_run.root, cancer_run.run_id) as running:
        yield running
