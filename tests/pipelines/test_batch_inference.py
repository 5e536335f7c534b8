"""Batch inference applies a stored run's transform and model to new data, with lineage to that run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from zenml.datasources import CSVDatasource
from zenml.pipelines import BatchInferencePipeline, SimplePipeline
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit

pytest.importorskip("sklearn", reason="the model is trained with the contrib scikit-learn trainer")
from zenml_sklearn import SklearnTrainer  # noqa: E402


def write(path: Path, rows: int, seed: int, with_label: bool = True) -> None:
    rng = np.random.default_rng(seed)
    x, kind = rng.normal(size=rows), rng.choice(["p", "q"], rows)
    header = "x,kind,label" if with_label else "x,kind"
    lines = [header] + [f"{a},{k}" + (f",{'yes' if a > 0 else 'no'}" if with_label else "") for a, k in zip(x, kind,
                                                                                                     strict=True)]
    path.write_text("\n".join(lines) + "\n")


def training() -> SimplePipeline:
    pipe = SimplePipeline(name="to_infer")
    pipe.add_datasource(CSVDatasource(path="train.csv"))
    pipe.add_split(RandomSplit(ratios={"train": 0.8, "eval": 0.2}, seed=1))
    pipe.add_preprocessor(StandardPreprocessor(labels=["label"]))
    pipe.add_trainer(SklearnTrainer(estimator_params={"C": 100.0}))
    return pipe


def test_predicts_new_data_without_labels(repo: object, tmp_path: Path) -> None:
    write(tmp_path / "train.csv", 500, 1)
    write(tmp_path / "new.csv", 50, 2, with_label=False)
    trained = training().run()
    run = BatchInferencePipeline(model_run=trained.id, datasource=CSVDatasource(path="new.csv")).run()
    predicted = run.steps["inference"].outputs["output"].read().to_pandas()
    assert list(predicted.columns) == ["x", "kind", "prediction", "score"]
    metadata = run.steps["inference"].outputs["output"].read().schema.metadata
    assert (metadata[b"zenml.task"], metadata[b"zenml.classes"]) == (b"binary", b'["no", "yes"]')
    assert ((predicted.x > 0) == (predicted.prediction == 1)).mean() > 0.95
    inputs = run.steps["inference"].inputs
    assert inputs["model"].id == trained.steps["trainer"].outputs["model"].id
    producers = {step.run_id for step in run.steps["inference"].outputs["output"].lineage().steps.values()}
    assert trained.id in producers and run.id in producers


def test_unknown_model_run_is_a_clear_error(repo: object, tmp_path: Path) -> None:
    write(tmp_path / "new.csv", 10, 2, with_label=False)
    with pytest.raises(Exception, match="no run 'missing-run'"):
        BatchInferencePipeline(model_run="missing-run", datasource=CSVDatasource(path="new.csv")).run()


def test_new_data_missing_a_feature_is_refused(repo: object, tmp_path: Path) -> None:
    write(tmp_path / "train.csv", 300, 1)
    (tmp_path / "new.csv").write_text("x\n0.5\n-0.5\n")
    trained = training().run()
    with pytest.raises(Exception, match="kind"):
        BatchInferencePipeline(model_run=trained.id, datasource=CSVDatasource(path="new.csv")).run()
