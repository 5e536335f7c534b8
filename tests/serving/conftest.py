"""Serving fixtures: a repository with a real scikit-learn run on breast-cancer data, and ``zen serve`` of it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from serve_helpers import Server, breast_cancer_csv


@dataclass(frozen=True)
class Trained:
    """A repository folder, its scikit-learn run's id, and the CSV the run trained on."""

    root: Path
    run_id: str
    csv: Path

    def rows(self, count: int, start: int = 0) -> list[dict[str, Any]]:
        """``count`` rows of the CSV as JSON-able dicts, label included."""
        import pandas as pd

        frame = pd.read_csv(self.csv).iloc[start : start + count]
        return [dict(row) for row in frame.to_dict("records")]  # pandas 2 gives Python floats and ints


@pytest.fixture(scope="package")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    """One repository with one completed breast-cancer run of the contrib scikit-learn trainer."""
    pytest.importorskip("sklearn")
    pytest.importorskip("uvicorn")
    from zenml_sklearn import SklearnTrainer

    from zenml.datasources import CSVDatasource
    from zenml.launch import run_pipeline
    from zenml.pipelines import SimplePipeline
    from zenml.repository import Repository, close_stores
    from zenml.steps.evaluator import ClassificationEvaluator
    from zenml.steps.preprocessor import StandardPreprocessor
    from zenml.steps.split import RandomSplit

    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("ZEN_") and not name.startswith("ZEN_TEST_"):
                patch.delenv(name)
        root = tmp_path_factory.mktemp("serving-repo")
        csv = breast_cancer_csv(root / "data" / "breast_cancer.csv")
        repository = Repository.init(root)
        flow = SimplePipeline(name="cancer")
        flow.add_datasource(CSVDatasource(path=str(csv)))
        flow.add_split(RandomSplit(ratios={"train": 0.8, "eval": 0.2}, seed=3))
        flow.add_preprocessor(StandardPreprocessor(labels=["malignant"]))
        flow.add_trainer(SklearnTrainer())
        flow.add_evaluator(ClassificationEvaluator(label="malignant", metrics=["accuracy"]))
        run = run_pipeline(flow, repository=repository)
        try:
            yield Trained(root, run.id, csv)
        finally:
            close_stores()


@pytest.fixture(scope="package")
def server(trained: Trained) -> Iterator[Server]:
    """``zen serve RUN_ID`` of that run, listening on a free port of 127.0.0.1 for the package's tests."""
    with Server(trained.root, trained.run_id) as running:
        yield running
