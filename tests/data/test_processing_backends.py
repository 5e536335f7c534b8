"""The processing interface on every backend: ``map_batches``, ``partition``, ``aggregate``, and whole pipelines.

Every test takes the shared ``processing`` fixture, so ``LocalProcessing()``, ``LocalProcessing(workers=2)``
and ``BeamProcessing()`` pass the same tests. Data functions live at module level: worker processes and
Beam pickle them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from data_helpers import assert_json_close, cli_backend_args, write_mixed_csv

from zenml.artifacts.dataset import Dataset, DatasetWriter
from zenml.backends.processing.base import BaseProcessingBackend
from zenml.backends.processing.local import LocalProcessing
from zenml.datasources import CSVDatasource
from zenml.exceptions import BackendError
from zenml.pipelines import SimplePipeline
from zenml.steps.base import BaseStep
from zenml.steps.columns import ProfileCombiner, kinds_of
from zenml.steps.context import StepContext
from zenml.steps.preprocessor import StandardPreprocessor, Transform
from zenml.steps.split import NoSplit

SCHEMA = pa.schema([("id", pa.int64()), ("city", pa.string()), ("score", pa.float64())])
CITIES = ["berlin", "paris", "rome", None]


# -- data functions and combiners (module level: picklable) ----------------------------------------


def add_double(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Keep every column and add ``double`` = 2 × score."""
    doubled = pc.multiply(batch.column("score"), 2.0)
    return pa.RecordBatch.from_arrays([*batch.columns, doubled], names=[*batch.schema.names, "double"])


def keep_even_ids(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Drop the rows with an odd id."""
    return batch.filter(pc.equal(pc.bit_wise_and(batch.column("id"), 1), 0))


def fails_on_empty(batch: pa.RecordBatch) -> pa.RecordBatch:
    """A careless function: ``max`` of zero rows raises."""
    return pa.RecordBatch.from_arrays([pa.array([max(batch.column("id").to_pylist())])], names=["top"])


def returns_a_table(batch: pa.RecordBatch) -> pa.Table:
    """Returns the wrong type."""
    return pa.Table.from_batches([batch])


def route_by_id(batch: pa.RecordBatch) -> np.ndarray:
    """``id % 3``: 0 → first split, 1 → second split, 2 → dropped (-1)."""
    indexes = np.asarray(batch.column("id")) % 3
    return np.where(indexes == 2, -1, indexes).astype(np.int64)


def one_index_too_many(batch: pa.RecordBatch) -> np.ndarray:
    return np.zeros(batch.num_rows + 1, dtype=np.int64)


def float_indexes(batch: pa.RecordBatch) -> np.ndarray:
    return np.zeros(batch.num_rows, dtype=np.float64)


def index_out_of_range(batch: pa.RecordBatch) -> np.ndarray:
    """2 is past the last of two splits, -2 below the drop marker -1."""
    return np.where(np.arange(batch.num_rows) % 2 == 0, 2, -2).astype(np.int64)


class SumCount:
    """Rows, sum of ids and the set of cities seen (merge is associative and commutative)."""

    def create(self) -> dict[str, Any]:
        return {"rows": 0, "id_sum": 0, "cities": []}

    def add(self, accumulator: dict[str, Any], batch: pa.RecordBatch) -> dict[str, Any]:
        accumulator["rows"] += batch.num_rows
        accumulator["id_sum"] += int(pc.sum(batch.column("id")).as_py() or 0)
        accumulator["cities"] = sorted(set(accumulator["cities"]) | set(pc.drop_null(batch.column("city")).to_pylist()))
        return accumulator

    def merge(self, accumulators: Sequence[dict[str, Any]]) -> dict[str, Any]:
        merged = self.create()
        for accumulator in accumulators:
            merged["rows"] += accumulator["rows"]
            merged["id_sum"] += accumulator["id_sum"]
            merged["cities"] = sorted(set(merged["cities"]) | set(accumulator["cities"]))
        return merged

    def extract(self, accumulator: dict[str, Any]) -> dict[str, Any]:
        return {**accumulator, "extracted": True}


def _rows(start: int, count: int) -> pa.RecordBatch:
    ids = list(range(start, start + count))
    return pa.RecordBatch.from_pydict(
        {"id": ids, "city": [CITIES[i % 4] for i in ids], "score": [i * 0.25 for i in ids]}, schema=SCHEMA
    )


@pytest.fixture
def dataset(tmp_path: Path) -> Dataset:
    """``train`` (100 rows in 4 shards), ``eval`` (30 rows in 2 shards) and an empty ``test`` split."""
    writer = DatasetWriter(str(tmp_path / "input"), SCHEMA, shard_rows=25)
    for start in range(0, 100, 25):
        writer.write("train", _rows(start, 25))
    writer.write("eval", _rows(100, 25))
    writer.write("eval", _rows(125, 5))
    writer.add_split("test")
    data = writer.close(ephemeral=False)
    assert len(data.files("train")) == 4 and len(data.files("eval")) == 2  # workers really share the shards
    return data


def _ids(data: Dataset, split: str) -> list[int]:
    return sorted(data.to_table(split).column("id").to_pylist())


# -- map_batches ------------------------------------------------------------------------------


def test_map_batches_transforms_every_split_and_keeps_empty_ones(
    processing: BaseProcessingBackend, dataset: Dataset, tmp_path: Path
) -> None:
    result = processing.map_batches(dataset, add_double, str(tmp_path / "out"))

    assert result.splits == ["train", "eval", "test"]
    assert result.column_names == ["id", "city", "score", "double"]
    assert result.schema.field("double").type == pa.float64()
    assert [result.num_rows(split) for split in result.splits] == [100, 30, 0]
    assert result.files("test") == []
    frame = result.to_pandas("train").sort_values("id")
    assert frame["id"].tolist() == list(range(100))
    assert np.allclose(frame["double"], frame["score"] * 2)
    assert frame["city"].tolist() == [CITIES[i % 4] for i in range(100)]
    assert Dataset(str(tmp_path / "out")).num_rows() == 130  # dataset.json written for the folder


def test_map_batches_on_chosen_splits_may_drop_rows(
    processing: BaseProcessingBackend, dataset: Dataset, tmp_path: Path
) -> None:
    result = processing.map_batches(dataset, keep_even_ids, str(tmp_path / "out"), splits=["eval"])
    assert result.splits == ["eval"]
    assert _ids(result, "eval") == list(range(100, 130, 2))
    assert result.schema.equals(SCHEMA)


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (fails_on_empty, r"fails_on_empty failed on an empty batch: ValueError: .*must handle zero rows"),
        (returns_a_table, r"returns_a_table returned Table, not a pyarrow.RecordBatch"),
    ],
)
def test_map_batches_refuses_bad_batch_functions_before_running(
    processing: BaseProcessingBackend, dataset: Dataset, tmp_path: Path, fn: Callable[..., Any], message: str
) -> None:
    with pytest.raises(BackendError, match=message):
        processing.map_batches(dataset, fn, str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_workers_need_picklable_functions(dataset: Dataset, tmp_path: Path) -> None:
    with pytest.raises(BackendError, match=r"LocalProcessing\(workers=2\) needs picklable data functions"):
        LocalProcessing(workers=2).map_batches(dataset, lambda batch: batch, str(tmp_path / "out"))
    # one worker runs in-process: a lambda is fine there
    result = LocalProcessing().map_batches(dataset, lambda batch: batch, str(tmp_path / "out1"))
    assert result.num_rows() == 130


# -- partition --------------------------------------------------------------------------------


def test_partition_routes_rows_of_every_split_and_drops_minus_one(
    processing: BaseProcessingBackend, dataset: Dataset, tmp_path: Path
) -> None:
    result = processing.partition(dataset, route_by_id, ["even3", "odd3", "never"], str(tmp_path / "out"))

    assert result.splits == ["even3", "odd3", "never"]
    assert _ids(result, "even3") == [i for i in range(130) if i % 3 == 0]
    assert _ids(result, "odd3") == [i for i in range(130) if i % 3 == 1]
    assert result.num_rows("never") == 0 and result.files("never") == []
    assert result.num_rows() == sum(1 for i in range(130) if i % 3 != 2)
    assert result.schema.equals(SCHEMA)
    row = result.to_pandas("odd3").set_index("id").loc[4]
    assert (row["city"], row["score"]) == ("berlin", 1.0)


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (one_index_too_many, r"returned \(\d+,\) indexes for \d+ rows"),
        (float_indexes, r"returned float64 values; it must return integers"),
        (index_out_of_range, r"an index outside -1\.\.1"),
    ],
    ids=["wrong-length", "floats", "out-of-range"],
)
def test_bad_partition_output_is_a_backend_error(
    processing: BaseProcessingBackend, dataset: Dataset, tmp_path: Path, fn: Callable[..., Any], message: str
) -> None:
    with pytest.raises(BackendError, match=message):
        processing.partition(dataset, fn, ["a", "b"], str(tmp_path / "out"))


# -- aggregate --------------------------------------------------------------------------------


def test_aggregate_folds_all_chosen_and_empty_splits(processing: BaseProcessingBackend, dataset: Dataset) -> None:
    everything = processing.aggregate(dataset, SumCount())
    assert everything == {
        "rows": 130,
        "id_sum": sum(range(130)),
        "cities": ["berlin", "paris", "rome"],
        "extracted": True,
    }
    assert processing.aggregate(dataset, SumCount(), splits=["eval"]) == {
        "rows": 30,
        "id_sum": sum(range(100, 130)),
        "cities": ["berlin", "paris", "rome"],
        "extracted": True,
    }
    # nothing to fold: the empty accumulator, extracted
    assert processing.aggregate(dataset, SumCount(), splits=["test"]) == {
        "rows": 0,
        "id_sum": 0,
        "cities": [],
        "extracted": True,
    }


def test_aggregate_profiles_equal_the_in_process_result(processing: BaseProcessingBackend, dataset: Dataset) -> None:
    combiner = ProfileCombiner(kinds_of(dataset.schema))
    expected = LocalProcessing().aggregate(dataset, combiner, splits=["train", "eval"])
    assert expected["columns"]["city"]["missing"] == 32  # every fourth row
    assert_json_close(processing.aggregate(dataset, combiner, splits=["train", "eval"]), expected)


# -- whole pipelines --------------------------------------------------------------------------


class BackendProbe(BaseStep):
    """Reports which processing backend it ran on and what that backend counted."""

    def process(self, data: Dataset, context: StepContext) -> str:
        rows = context.processing.aggregate(data, SumCount())["rows"]
        return f"{context.processing!r}:{rows}"


@pytest.fixture(scope="module")
def source_csv(module_repo: object) -> Path:
    return write_mixed_csv(Path("data.csv").resolve(), rows=120, seed=3)


def _set(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters that were given (the CLI records no ``None`` defaults)."""
    return {key: value for key, value in params.items() if value is not None}


def _check_data_run(run: Any, backend: BaseProcessingBackend) -> None:
    assert run.status == "completed"
    assert {name: step.status for name, step in run.steps.items()} == {
        "datasource": "completed",
        "split": "completed",
        "preprocessor": "completed",
    }
    assert run.spec.backends.processing.type == backend.config_type()
    assert _set(run.spec.backends.processing.params) == _set(backend.get_params())
    split = run.steps["split"].outputs["data"].read()
    transformed = run.steps["preprocessor"].outputs["data"].read()
    assert split.splits == transformed.splits == ["train", "eval"]
    assert split.num_rows() == 120
    assert [transformed.num_rows(s) for s in transformed.splits] == [split.num_rows(s) for s in split.splits]
    statistics = run.steps["split"].outputs["statistics"].read()
    assert statistics["splits"]["eval"]["rows"] == split.num_rows("eval")
    transform = run.steps["preprocessor"].outputs["transform"].read()
    assert isinstance(transform, Transform)
    assert transform["state"]["labels"] == ["label"]
    assert sorted(transformed.to_pandas("train")["label"].unique().tolist()) == [0, 1]


FLOW = """\
from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit

data_pipeline = (
    SimplePipeline(name="cli_data_flow")
    .add_datasource(CSVDatasource(path={path!r}))
    .add_split(RandomSplit(ratios={{"train": 0.75, "eval": 0.25}}, seed=5))
    .add_preprocessor(StandardPreprocessor(labels=["label"]))
)
"""


def test_pipeline_runs_on_the_backend_named_on_the_command_line(
    processing: BaseProcessingBackend, source_csv: Path, module_repo: Any, zen: Any, flow_file: Any
) -> None:
    args = cli_backend_args(processing)
    if type(processing).__name__ == "BeamProcessing":
        assert args == ["--processing", "beam", "--backend-opt", "processing.runner=DirectRunner"]
    target = flow_file(FLOW.format(path=str(source_csv)))
    code, out, err = zen("run", f"{target}:data_pipeline", *args, "--no-cache")
    assert code == 0, err
    assert "completed" in out
    run = module_repo.runs(pipeline="cli_data_flow", limit=1)[0]
    _check_data_run(run, processing)


def test_with_backend_runs_one_step_on_another_backend(processing: BaseProcessingBackend, source_csv: Path) -> None:
    pipeline = (
        SimplePipeline(name="per_step_backend")
        .add_datasource(CSVDatasource(path=str(source_csv)))
        .add_split(NoSplit())
        .add_preprocessor(StandardPreprocessor(labels=["label"]).with_backend(processing))
        .add_step("probe", BackendProbe().with_backend(processing), inputs={"data": "split.data"})
        .add_step("default_probe", BackendProbe(), inputs={"data": "split.data"})
    )
    run = pipeline.run(processing=LocalProcessing(), enable_cache=False)

    assert run.status == "completed"
    assert run.steps["probe"].output() == f"{processing!r}:120"
    assert run.steps["default_probe"].output() == "LocalProcessing(workers=1):120"
    assert run.spec.steps["preprocessor"].processing.type == processing.config_type()
    assert _set(run.spec.steps["preprocessor"].processing.params) == _set(processing.get_params())
    assert run.spec.steps["split"].processing is None
    assert run.steps["preprocessor"].outputs["data"].read().num_rows("train") == 120
