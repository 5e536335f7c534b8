"""Users write their own split and preprocessor by subclassing and overriding a method or two.

The steps below are written exactly as a user would, at module level (worker processes and Beam
pickle them); the same pipeline then runs on every backend with the same results.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from data_helpers import BACKENDS, assert_json_close, backend_param, sorted_rows, write_mixed_csv

from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.preprocessor import BasePreprocessorStep, StandardPreprocessor
from zenml.steps.split import BaseSplitStep

pd = pytest.importorskip("pandas")  # an optional extra, never imported at module level (ruff TID253)

# -- what a user writes -------------------------------------------------------------------------


class ThresholdSplit(BaseSplitStep):
    """Rows whose ``column`` is below ``threshold`` train, the others evaluate; rows without a value are dropped."""

    def __init__(self, column: str = "x", threshold: float = 0.0) -> None:
        self.column = column
        self.threshold = threshold

    def split_names(self) -> list[str]:
        return ["train", "eval"]

    def partition_fn(self, batch: pa.RecordBatch) -> np.ndarray:
        values = batch.column(self.column).cast(pa.float64()).to_numpy(zero_copy_only=False)
        return np.where(np.isnan(values), -1, np.where(values < self.threshold, 0, 1)).astype(np.int64)

    def required_columns(self) -> list[str]:
        return [self.column]


class MeanCombiner:
    """Means of numeric columns (the analyzer of ``Centre``)."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = list(columns)

    def create(self) -> dict[str, list[float]]:
        return {name: [0.0, 0.0] for name in self.columns}

    def add(self, accumulator: dict[str, list[float]], batch: pa.RecordBatch) -> dict[str, list[float]]:
        for name in self.columns:
            column = pc.drop_null(batch.column(name)).cast(pa.float64())
            accumulator[name][0] += pc.sum(column).as_py() or 0.0
            accumulator[name][1] += len(column)
        return accumulator

    def merge(self, accumulators: Sequence[dict[str, list[float]]]) -> dict[str, list[float]]:
        merged = self.create()
        for accumulator in accumulators:
            for name, (total, count) in accumulator.items():
                merged[name][0] += total
                merged[name][1] += count
        return merged

    def extract(self, accumulator: dict[str, list[float]]) -> dict[str, Any]:
        return {"means": {name: total / count if count else 0.0 for name, (total, count) in accumulator.items()}}


class Centre(BasePreprocessorStep):
    """Subtracts the training mean from each numeric column (missing values become 0); keeps the label."""

    def __init__(self, columns: list[str] | None = None, label: str = "label") -> None:
        self.columns = columns
        self.label = label

    def analyzer(self, schema: pa.Schema) -> MeanCombiner:
        return MeanCombiner(self.columns or [])

    def transform_batch(self, batch: pa.RecordBatch, state: dict[str, Any]) -> pa.RecordBatch:
        arrays = [
            pc.fill_null(pc.subtract(batch.column(name).cast(pa.float64()), state["means"][name]), 0.0)
            for name in self.columns or []
        ]
        return pa.RecordBatch.from_arrays(
            [*arrays, batch.column(self.label)], names=[*(self.columns or []), self.label]
        )


class WithRatio(StandardPreprocessor):
    """The standard preprocessing plus one derived feature, ``x_over_z`` (computed on the raw values)."""

    def transform_batch(self, batch: pa.RecordBatch, state: dict[str, Any]) -> pa.RecordBatch:
        encoded = super().transform_batch(batch, state)
        ratio = pc.divide(batch.column("x"), pc.add(batch.column("z"), 1.0))
        return encoded.append_column("x_over_z", pc.fill_null(ratio, 0.0))


# -- the tests ------------------------------------------------------------------------------------


def _pipeline(path: Path) -> SimplePipeline:
    return (
        SimplePipeline(name="custom_steps")
        .add_datasource(CSVDatasource(path=str(path)))
        .add_split(ThresholdSplit(column="x", threshold=11.0))
        .add_preprocessor(Centre(columns=["x", "z", "n"]))
        .add_step("standard", WithRatio(labels=["label"]), inputs={"data": "split.data"})
    )


class _Runs(dict[str, dict[str, Any]]):
    """Backend id → the outputs of the pipeline run on it (each backend runs once per module)."""

    def __init__(self, pipeline: SimplePipeline) -> None:
        super().__init__()
        self.pipeline = pipeline

    def __missing__(self, name: str) -> dict[str, Any]:
        run = self.pipeline.run(processing=BACKENDS[name](), enable_cache=False)  # backends are not in the key
        assert {step.status for step in run.steps.values()} == {"completed"}
        self[name] = {
            "split": run.steps["split"].outputs["data"].read(),
            "centred": run.steps["preprocessor"].outputs["data"].read(),
            "means": run.steps["preprocessor"].outputs["transform"].read(),
            "standard": run.steps["standard"].outputs["data"].read(),
            "standard_transform": run.steps["standard"].outputs["transform"].read(),
        }
        return self[name]


@pytest.fixture(scope="module")
def runs(module_repo: Any) -> _Runs:
    return _Runs(_pipeline(write_mixed_csv(Path("custom.csv").resolve(), rows=400, seed=99)))


def test_custom_split_and_preprocessors_do_what_they_say(runs: _Runs) -> None:
    result = runs["local"]
    split = result["split"]
    assert split.splits == ["train", "eval"]
    train, evaluation = split.to_pandas("train"), split.to_pandas("eval")
    assert (train["x"] < 11.0).all() and (evaluation["x"] >= 11.0).all()
    raw = pd.read_csv("custom.csv")
    assert split.num_rows() == raw["x"].notna().sum()  # rows without x were dropped

    means = result["means"]["state"]["means"]
    assert means["x"] == pytest.approx(train["x"].mean()) and means["n"] == pytest.approx(train["n"].mean())
    centred = result["centred"]
    assert centred.column_names == ["x", "z", "n", "label"]
    assert centred.to_pandas("train")["x"].mean() == pytest.approx(0.0, abs=1e-9)
    assert centred.to_pandas("eval")["x"].min() >= 11.0 - means["x"]  # eval shifted by the *train* mean

    standard = result["standard"]
    assert standard.column_names[-2:] == ["label", "x_over_z"]
    frame = standard.to_pandas("train")
    assert frame["x"].mean() == pytest.approx(0.0, abs=1e-9)  # z-scored by the inherited transform
    expected = (train["x"] / (train["z"] + 1.0)).fillna(0.0)
    assert sorted(frame["x_over_z"]) == pytest.approx(sorted(expected))
    assert result["standard_transform"]["preprocessor"]["type"].endswith("test_custom_data_steps.WithRatio")


@pytest.mark.parametrize("backend", [backend_param(name) for name in BACKENDS if name != "local"])
def test_custom_steps_give_the_same_results_on_every_backend(runs: _Runs, backend: str) -> None:
    reference, other = runs["local"], runs[backend]
    for name in ("train", "eval"):
        pd.testing.assert_frame_equal(
            sorted_rows(other["split"].to_pandas(name)), sorted_rows(reference["split"].to_pandas(name))
        )
        for output in ("centred", "standard"):
            pd.testing.assert_frame_equal(
                sorted_rows(other[output].to_pandas(name)),
                sorted_rows(reference[output].to_pandas(name)),
                check_exact=False,
                rtol=0,
                atol=1e-9,
            )
    assert_json_close(dict(other["means"]), dict(reference["means"]))
    assert_json_close(dict(other["standard_transform"]), dict(reference["standard_transform"]))
