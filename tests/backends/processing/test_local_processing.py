"""``LocalProcessing``: map_batches, partition and aggregate over Arrow record batches, in or across processes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from zenml.artifacts.dataset import Dataset, DatasetWriter
from zenml.backends.processing.local import LocalProcessing
from zenml.exceptions import BackendError, ConfigError

SCHEMA = pa.schema([("id", pa.int64()), ("value", pa.float64()), ("group", pa.string())])


# -- data functions (module level: picklable for worker processes) ----------------------------------


def add_doubled(batch: pa.RecordBatch) -> pa.RecordBatch:
    doubled = pc.multiply(batch.column("value"), 2.0)
    return pa.RecordBatch.from_arrays([*batch.columns, doubled], names=[*batch.schema.names, "doubled"])


def keep_id_only(batch: pa.RecordBatch) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([batch.column("id")], names=["id"])


def fails_on_empty(batch: pa.RecordBatch) -> pa.RecordBatch:
    if batch.num_rows == 0:
        raise ZeroDivisionError("no rows")
    return batch


def returns_a_table(batch: pa.RecordBatch) -> pa.Table:
    return pa.Table.from_batches([batch])


def by_parity_dropping_multiples_of_five(batch: pa.RecordBatch) -> np.ndarray:
    ids = batch.column("id").to_numpy()
    return np.where(ids % 5 == 0, -1, ids % 2)


def out_of_range(batch: pa.RecordBatch) -> np.ndarray:
    return np.full(batch.num_rows, 2)


def below_minus_one(batch: pa.RecordBatch) -> np.ndarray:
    return np.full(batch.num_rows, -2)


def too_few(batch: pa.RecordBatch) -> np.ndarray:
    return np.zeros(max(batch.num_rows - 1, 0), dtype=np.int64)


def floats(batch: pa.RecordBatch) -> np.ndarray:
    return np.zeros(batch.num_rows, dtype=np.float64)


class MeanCombiner:
    """Sum and count of ``value``: a small create/add/merge/extract combiner."""

    def create(self) -> tuple[float, int]:
        return (0.0, 0)

    def add(self, accumulator: tuple[float, int], batch: pa.RecordBatch) -> tuple[float, int]:
        total, count = accumulator
        return (total + float(pc.sum(batch.column("value")).as_py() or 0.0), count + batch.num_rows)

    def merge(self, accumulators: Sequence[tuple[float, int]]) -> tuple[float, int]:
        return (sum(a[0] for a in accumulators), sum(a[1] for a in accumulators))

    def extract(self, accumulator: tuple[float, int]) -> dict[str, Any]:
        total, count = accumulator
        return {"count": count, "mean": total / count if count else None}


class VocabularyCombiner:
    def create(self) -> set[str]:
        return set()

    def add(self, accumulator: set[str], batch: pa.RecordBatch) -> set[str]:
        return accumulator | set(batch.column("group").to_pylist())

    def merge(self, accumulators: Sequence[set[str]]) -> set[str]:
        return set().union(*accumulators)

    def extract(self, accumulator: set[str]) -> list[str]:
        return sorted(accumulator)


# -- fixtures -------------------------------------------------------------------------------------------


def _rows(start: int, stop: int) -> pa.RecordBatch:
    ids = list(range(start, stop))
    return pa.record_batch(
        {"id": ids, "value": [i * 0.5 for i in ids], "group": ["a" if i % 3 else "b" for i in ids]}, schema=SCHEMA
    )


@pytest.fixture
def dataset(tmp_path: Path) -> Dataset:
    """Two splits; 'train' has 4 shards of 5 rows (ids 0-19), 'eval' 1 shard (ids 100-104)."""
    writer = DatasetWriter(str(tmp_path / "input"), SCHEMA, shard_rows=5)
    for start in range(0, 20, 5):
        writer.write("train", _rows(start, start + 5))
    writer.write("eval", _rows(100, 105))
    return writer.close(ephemeral=False)


# -- map_batches ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
def test_map_batches_applies_fn_per_batch_and_keeps_splits(dataset: Dataset, tmp_path: Path, workers: int) -> None:
    result = LocalProcessing(workers=workers).map_batches(dataset, add_doubled, str(tmp_path / "out"))
    assert result.splits == ["train", "eval"]
    assert result.column_names == ["id", "value", "group", "doubled"]
    assert result.schema.field("doubled").type == pa.float64()
    assert (result.num_rows("train"), result.num_rows("eval")) == (20, 5)
    assert len(result.files("train")) == 4, "one output shard per input shard"
    train = result.to_table("train")
    assert train.column("id").to_pylist() == list(range(20))
    assert train.column("doubled").to_pylist() == [i * 1.0 for i in range(20)]
    assert result.to_table("eval").column("doubled").to_pylist() == [i * 1.0 for i in range(100, 105)]
    assert dataset.to_table("train").column_names == ["id", "value", "group"], "the input is untouched"


def test_map_batches_on_chosen_splits_can_change_the_schema(dataset: Dataset, tmp_path: Path) -> None:
    result = LocalProcessing().map_batches(dataset, keep_id_only, str(tmp_path / "out"), splits=["eval"])
    assert result.splits == ["eval"]
    assert result.column_names == ["id"]
    assert result.to_table().column("id").to_pylist() == [100, 101, 102, 103, 104]


def test_map_batches_requires_fn_to_handle_empty_batches(dataset: Dataset, tmp_path: Path) -> None:
    with pytest.raises(BackendError, match=r"fails_on_empty failed on an empty batch.*ZeroDivisionError.*zero rows"):
        LocalProcessing().map_batches(dataset, fails_on_empty, str(tmp_path / "out"))


def test_map_batches_requires_a_record_batch_back(dataset: Dataset, tmp_path: Path) -> None:
    with pytest.raises(BackendError, match=r"returns_a_table returned Table, not a pyarrow.RecordBatch"):
        LocalProcessing().map_batches(dataset, returns_a_table, str(tmp_path / "out"))


def test_workers_need_picklable_functions(dataset: Dataset, tmp_path: Path) -> None:
    with pytest.raises(BackendError, match=r"workers=2\) needs picklable data functions"):
        LocalProcessing(workers=2).map_batches(dataset, lambda batch: batch, str(tmp_path / "out"))


# -- partition ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
def test_partition_routes_rows_and_minus_one_drops(dataset: Dataset, tmp_path: Path, workers: int) -> None:
    result = LocalProcessing(workers=workers).partition(
        dataset, by_parity_dropping_multiples_of_five, ["even", "odd"], str(tmp_path / "out")
    )
    assert result.splits == ["even", "odd"]
    assert result.schema.equals(SCHEMA)
    all_ids = list(range(20)) + list(range(100, 105))
    kept = [i for i in all_ids if i % 5]
    assert sorted(result.to_table("even").column("id").to_pylist()) == [i for i in kept if i % 2 == 0]
    assert sorted(result.to_table("odd").column("id").to_pylist()) == [i for i in kept if i % 2 == 1]
    assert result.num_rows() == len(kept)
    row = result.to_table("odd").to_pylist()[0]
    assert row == {"id": 1, "value": 0.5, "group": "a"}, "rows keep every column"


def test_partition_into_a_split_nobody_gets_is_recorded_empty(dataset: Dataset, tmp_path: Path) -> None:
    result = LocalProcessing().partition(dataset, by_parity_dropping_multiples_of_five, ["even", "odd", "never"],
                                         str(tmp_path / "out"))
    assert result.splits == ["even", "odd", "never"]
    assert result.num_rows("never") == 0
    assert result.to_table("never").num_rows == 0


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (out_of_range, r"index outside -1\.\.1"),
        (below_minus_one, r"index outside -1\.\.1"),
        (too_few, r"returned \(4,\) indexes for 5 rows"),
        (floats, r"returned float64 values; it must return integers"),
    ],
    ids=["too-big", "below-minus-one", "wrong-length", "floats"],
)
def test_partition_rejects_bad_indexes(dataset: Dataset, tmp_path: Path, fn: Any, message: str) -> None:
    with pytest.raises(BackendError, match=message):
        LocalProcessing().partition(dataset, fn, ["even", "odd"], str(tmp_path / "out"))


def test_partition_rejects_unsafe_split_names(dataset: Dataset, tmp_path: Path) -> None:
    from zenml.exceptions import ArtifactError

    with pytest.raises(ArtifactError, match="split name '../up' is not allowed"):
        LocalProcessing().partition(dataset, by_parity_dropping_multiples_of_five, ["ok", "../up"],
                                    str(tmp_path / "out"))
    assert not (tmp_path / "up").exists()


# -- aggregate ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 3])
def test_aggregate_folds_every_shard_with_the_combiner(dataset: Dataset, workers: int) -> None:
    processing = LocalProcessing(workers=workers)
    all_ids = list(range(20)) + list(range(100, 105))
    everything = processing.aggregate(dataset, MeanCombiner())
    assert everything["count"] == 25
    assert everything["mean"] == pytest.approx(sum(i * 0.5 for i in all_ids) / 25)
    train = processing.aggregate(dataset, MeanCombiner(), splits=["train"])
    assert train == {"count": 20, "mean": pytest.approx(sum(i * 0.5 for i in range(20)) / 20)}
    assert processing.aggregate(dataset, VocabularyCombiner()) == ["a", "b"]


def test_aggregate_of_an_empty_split_extracts_the_fresh_accumulator(tmp_path: Path) -> None:
    writer = DatasetWriter(str(tmp_path / "empty"), SCHEMA)
    writer.add_split("train")
    empty = writer.close(ephemeral=False)
    assert LocalProcessing().aggregate(empty, MeanCombiner()) == {"count": 0, "mean": None}


def test_aggregate_of_an_unknown_split_is_an_error(dataset: Dataset) -> None:
    from zenml.exceptions import ArtifactError

    with pytest.raises(ArtifactError, match=r"no split 'test' \(splits: train, eval\)"):
        LocalProcessing().aggregate(dataset, MeanCombiner(), splits=["test"])


# -- configuration --------------------------------------------------------------------------------------


def test_workers_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="workers must be at least 1, got 0"):
        LocalProcessing.from_config({"type": "zenml.backends.processing.local.LocalProcessing",
                                     "params": {"workers": 0}})
    with pytest.raises(ConfigError, match="parameter 'workers' of LocalProcessing must be int"):
        LocalProcessing().set_params(workers="2")


def test_config_round_trip() -> None:
    processing = LocalProcessing(workers=4)
    config = processing.to_config()
    assert config == {"type": "zenml.backends.processing.local.LocalProcessing", "params": {"workers": 4}}
    assert LocalProcessing.from_config(config) == processing
