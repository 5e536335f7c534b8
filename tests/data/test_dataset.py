"""``Dataset``: named splits of Parquet shards plus ``dataset.json``, written by ``DatasetWriter``, read as a stream."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from zenml.artifacts.dataset import INFO_FILE, Dataset, DatasetWriter, check_split_name
from zenml.exceptions import ArtifactError

SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string()), ("score", pa.float64())])


def _table(start: int, rows: int) -> pa.Table:
    ids = list(range(start, start + rows))
    return pa.table(
        {"id": ids, "name": [f"n{i}" if i % 5 else None for i in ids], "score": [i / 2 for i in ids]}, schema=SCHEMA
    )


def test_from_tables_round_trips_splits_in_order(tmp_path: Path) -> None:
    train, test = _table(0, 7), _table(100, 3)
    dataset = Dataset.from_tables(str(tmp_path / "ds"), {"train": train, "test": test})

    reopened = Dataset(str(tmp_path / "ds"))
    assert reopened.splits == ["train", "test"]
    assert reopened.schema.equals(SCHEMA)
    assert reopened.column_names == ["id", "name", "score"]
    assert (reopened.num_rows("train"), reopened.num_rows("test"), reopened.num_rows()) == (7, 3, 10)
    assert reopened.to_table("train").equals(train)
    assert reopened.to_table("test").equals(test)
    assert reopened.to_table().column("id").to_pylist() == [*range(7), 100, 101, 102]
    assert reopened.to_pandas("test")["score"].tolist() == [50.0, 50.5, 51.0]
    assert dataset.ephemeral and not reopened.ephemeral
    assert repr(reopened).endswith("splits: train=7, test=3)")


def test_dataset_json_records_schema_columns_rows_and_shards(tmp_path: Path) -> None:
    Dataset.from_tables(str(tmp_path / "ds"), {"all": _table(0, 4)})
    info = json.loads((tmp_path / "ds" / INFO_FILE).read_text())
    assert info["columns"] == [
        {"name": "id", "type": "int64"},
        {"name": "name", "type": "string"},
        {"name": "score", "type": "double"},
    ]
    assert info["splits"] == {"all": {"rows": 4, "files": ["part-00000.parquet"]}}
    assert (tmp_path / "ds" / "all" / "part-00000.parquet").is_file()


def test_writer_rolls_shards_and_keeps_empty_splits(tmp_path: Path) -> None:
    writer = DatasetWriter(str(tmp_path / "ds"), SCHEMA, shard_rows=4)
    writer.add_split("empty")
    for start in range(0, 10, 2):
        writer.write("train", _table(start, 2).to_batches()[0])
    writer.write("train", pa.RecordBatch.from_pylist([], schema=SCHEMA))  # an empty batch writes nothing
    dataset = writer.close()

    assert dataset.splits == ["empty", "train"]
    assert dataset.files("train") == [
        "train/part-00000.parquet",
        "train/part-00001.parquet",
        "train/part-00002.parquet",
    ]
    assert dataset.num_rows("train") == 10
    assert dataset.files("empty") == []
    assert dataset.num_rows("empty") == 0
    assert dataset.to_table("empty").num_rows == 0
    assert dataset.to_table("empty").schema.equals(SCHEMA)
    assert dataset.to_table("train").column("id").to_pylist() == list(range(10))


def test_batches_stream_with_row_limit_and_column_selection(tmp_path: Path) -> None:
    dataset = Dataset.from_tables(str(tmp_path / "ds"), {"a": _table(0, 10), "b": _table(10, 5)})
    batches = list(dataset.batches("a", batch_rows=3, columns=["score"]))
    assert [batch.num_rows for batch in batches] == [3, 3, 3, 1]
    assert all(batch.schema.names == ["score"] for batch in batches)
    every = list(dataset.batches())  # all splits, in order
    assert sum(batch.num_rows for batch in every) == 15
    assert every[-1].column(0).to_pylist()[-1] == 14


def test_unknown_split_names_the_available_ones(tmp_path: Path) -> None:
    dataset = Dataset.from_tables(str(tmp_path / "ds"), {"train": _table(0, 2), "eval": _table(2, 2)})
    with pytest.raises(ArtifactError, match=r"no split 'test' \(splits: train, eval\)"):
        dataset.num_rows("test")
    with pytest.raises(ArtifactError, match="no split 'test'"):
        list(dataset.batches("test"))


@pytest.mark.parametrize("name", ["", "../up", "a/b", "with space", "x" * 101])
def test_unsafe_split_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ArtifactError, match="is not allowed"):
        check_split_name(name)
    with pytest.raises(ArtifactError, match="is not allowed"):
        Dataset.from_tables(str(tmp_path / "ds"), {name: _table(0, 1)})


def test_a_folder_without_dataset_json_is_not_a_dataset(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    dataset = Dataset(str(tmp_path / "plain"))
    with pytest.raises(ArtifactError, match=r"is not a zenml dataset \(no readable dataset.json\)"):
        _ = dataset.splits
    assert repr(dataset).endswith("splits: ?)")
