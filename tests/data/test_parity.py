"""Backend parity: one pipeline on every processing backend (local, Beam, Spark) gives the same splits and values.

A seeded 3,000-row CSV (numeric, categorical and boolean columns with missing values) goes through
datasource → random split → standard preprocessing, run with ``pipeline.run(processing=backend)`` for
each backend of the shared ``processing`` fixture. Each result is compared with the in-process one:
the same rows in the same split (compared after sorting by all columns), statistics equal as JSON
(floats within 1e-9) and transformed values within 1e-9.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from data_helpers import assert_json_close, sorted_rows, write_mixed_csv

from zenml.backends.processing.base import BaseProcessingBackend
from zenml.backends.processing.local import LocalProcessing
from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.preprocessor import StandardPreprocessor, Transform
from zenml.steps.split import RandomSplit
from zenml.steps.statistics import Statistics

pd = pytest.importorskip("pandas")  # an optional extra, never imported at module level (ruff TID253)

SPLITS = ["train", "eval", "test"]
ROWS = 3000
TOLERANCE = 1e-9


def _pipeline(path: Path) -> SimplePipeline:
    return (
        SimplePipeline(name="parity")
        .add_datasource(CSVDatasource(path=str(path)))
        .add_split(RandomSplit(ratios={"train": 0.6, "eval": 0.2, "test": 0.2}, seed=13))
        .add_preprocessor(
            StandardPreprocessor(
                labels=["label"],
                overwrite={
                    "z": {"transform": "bucketize", "buckets": 5, "filling": "median"},
                    "n": {"transform": "minmax"},
                    "city": {"transform": "onehot"},
                },
            )
        )
    )


class _Runs:
    """What the pipeline produced on each backend, run on first use (once per backend and module)."""

    def __init__(self, pipeline: SimplePipeline) -> None:
        self.pipeline = pipeline
        self._results: dict[str, dict[str, Any]] = {}

    def on(self, backend: BaseProcessingBackend) -> dict[str, Any]:
        key = json.dumps(backend.to_config(), sort_keys=True)
        if key not in self._results:
            # the cache key leaves backends out on purpose, so each backend must really run here
            run = self.pipeline.run(processing=backend, enable_cache=False)
            split, preprocessed = run.steps["split"].outputs, run.steps["preprocessor"].outputs
            self._results[key] = {
                "run": run,
                "split": split["data"].read(),
                "statistics": split["statistics"].read(),
                "data": preprocessed["data"].read(),
                "transform": preprocessed["transform"].read(),
            }
        return self._results[key]


@pytest.fixture(scope="module")
def runs(module_repo: Any) -> _Runs:
    return _Runs(_pipeline(write_mixed_csv(Path("parity.csv").resolve(), rows=ROWS, seed=2024)))


@pytest.fixture(scope="module")
def reference(runs: _Runs) -> dict[str, Any]:
    return runs.on(LocalProcessing())


@pytest.fixture
def result(runs: _Runs, processing: BaseProcessingBackend) -> dict[str, Any]:
    return runs.on(processing)


def test_the_run_used_the_backend_object(result: dict[str, Any], processing: BaseProcessingBackend) -> None:
    run = result["run"]
    assert run.status == "completed"
    assert {name: step.status for name, step in run.steps.items()} == {
        "datasource": "completed",
        "split": "completed",
        "preprocessor": "completed",
    }
    assert run.spec.backends.processing.type == processing.config_type()
    assert run.spec.backends.processing.params == processing.get_params()
    assert isinstance(result["statistics"], Statistics) and isinstance(result["transform"], Transform)
    split = result["split"]
    assert split.splits == SPLITS and split.num_rows() == ROWS
    for name, ratio in zip(SPLITS, (0.6, 0.2, 0.2), strict=True):
        assert abs(split.num_rows(name) / ROWS - ratio) < 0.04
        assert result["data"].num_rows(name) == split.num_rows(name)
    assert set(result["data"].to_pandas("train")["label"]) == {0, 1}


def test_identical_splits(result: dict[str, Any], reference: dict[str, Any]) -> None:
    mine, theirs = result["split"], reference["split"]
    assert mine.splits == theirs.splits
    assert mine.schema.equals(theirs.schema)
    for name in SPLITS:
        pd.testing.assert_frame_equal(
            sorted_rows(mine.to_pandas(name)), sorted_rows(theirs.to_pandas(name)), check_exact=True
        )


def test_identical_statistics(result: dict[str, Any], reference: dict[str, Any]) -> None:
    assert list(result["statistics"]["splits"]) == SPLITS
    assert_json_close(dict(result["statistics"]), dict(reference["statistics"]), TOLERANCE)


def test_identical_fitted_transform(result: dict[str, Any], reference: dict[str, Any]) -> None:
    assert_json_close(dict(result["transform"]), dict(reference["transform"]), TOLERANCE)


def test_identical_transformed_values(result: dict[str, Any], reference: dict[str, Any]) -> None:
    mine, theirs = result["data"], reference["data"]
    assert mine.schema.equals(theirs.schema)
    assert theirs.column_names[:3] == ["id", "x", "z"]
    for name in SPLITS:
        # ``id`` is a unique (z-scored) number, so sorting by it pairs the rows however the backend ordered them
        left = mine.to_pandas(name).sort_values("id", kind="mergesort").reset_index(drop=True)
        right = theirs.to_pandas(name).sort_values("id", kind="mergesort").reset_index(drop=True)
        assert len(left) == len(right) == theirs.num_rows(name)
        pd.testing.assert_frame_equal(left, right, check_exact=False, rtol=0, atol=TOLERANCE)


def test_cache_keys_leave_the_backend_out(result: dict[str, Any], reference: dict[str, Any], runs: _Runs,
                                          processing: BaseProcessingBackend) -> None:
    """A step's cache key is the same on every backend, so a run on one reuses the other's results.

    Keys cover the content hashes of the inputs: Beam writes the same rows into differently cut shards,
    so the preprocessor after a Beam split has other input bytes (and key); every other backend writes
    byte-identical shards.
    """
    mine, theirs = result["run"], reference["run"]
    keys = {name: (step.record.cache_key, theirs.steps[name].record.cache_key) for name, step in mine.steps.items()}
    assert keys["datasource"][0] == keys["datasource"][1] and keys["split"][0] == keys["split"][1]
    same_bytes = mine.steps["split"].outputs["data"].content_hash == theirs.steps["split"].outputs["data"].content_hash
    assert same_bytes or processing.config_type().endswith("BeamProcessing")
    assert (keys["preprocessor"][0] == keys["preprocessor"][1]) == same_bytes
    again = runs.pipeline.run(processing=processing)
    assert {name: step.status for name, step in again.steps.items()} == dict.fromkeys(mine.steps, "cached")
    assert again.spec.backends.processing.type == processing.config_type()
