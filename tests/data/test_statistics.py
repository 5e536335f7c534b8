"""Statistics per split and column on every backend, stored as an artifact and shown by ``zen artifacts show``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from data_helpers import assert_json_close, context

from zenml.artifacts.dataset import Dataset, DatasetWriter
from zenml.backends.processing.base import BaseProcessingBackend
from zenml.backends.processing.local import LocalProcessing
from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.split import CategoricalDomainSplit
from zenml.steps.statistics import Statistics, StatisticsStep, compute_statistics

SCHEMA = pa.schema(
    [
        ("v", pa.float64()),
        ("k", pa.int64()),
        ("c", pa.string()),
        ("b", pa.bool_()),
        ("sparse", pa.float64()),
        ("when", pa.timestamp("s")),
    ]
)
COLOURS = ["red", "red", "red", "blue", "blue", "green", None, "amber"]


def _train_batch(start: int) -> pa.RecordBatch:
    """250 rows of train: v = 0..999 in order (every 10th missing → see ``_v``)."""
    index = np.arange(start, start + 250)
    return pa.RecordBatch.from_pydict(
        {
            "v": [_v(i) for i in index],
            "k": [int(i % 7) for i in index],
            "c": [COLOURS[i % 8] for i in index],
            "b": [None if i % 25 == 0 else bool(i % 4 == 0) for i in index],
            "sparse": [float(i) if i % 100 == 0 else None for i in index],
            "when": [int(i) for i in index],
        },
        schema=SCHEMA,
    )


def _v(i: int) -> float | None:
    return None if i % 10 == 3 else float(i)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """``train``: 1000 rows in 4 shards; ``eval``: 3 rows with an all-missing ``sparse``; ``test``: empty."""
    writer = DatasetWriter(str(tmp_path_factory.mktemp("stats") / "data"), SCHEMA, shard_rows=250)
    for start in range(0, 1000, 250):
        writer.write("train", _train_batch(start))
    writer.write(
        "eval",
        pa.RecordBatch.from_pydict(
            {
                "v": [5.0, -1.0, 2.5],
                "k": [1, 1, 2],
                "c": ["blue", "teal", "teal"],
                "b": [True, True, False],
                "sparse": [None, None, None],
                "when": [1, 2, 3],
            },
            schema=SCHEMA,
        ),
    )
    writer.add_split("test")
    return writer.close(ephemeral=False)


@pytest.fixture(scope="module")
def reference(dataset: Dataset) -> Statistics:
    return compute_statistics(LocalProcessing(), dataset)


def test_numeric_columns(reference: Statistics) -> None:
    values = np.array([v for v in (_v(i) for i in range(1000)) if v is not None])
    v = reference.split("train")["columns"]["v"]
    assert (v["kind"], v["type"]) == ("numeric", "double")
    assert (v["count"], v["missing"]) == (900, 100)
    assert (v["min"], v["max"]) == (0.0, 999.0)
    assert v["mean"] == pytest.approx(values.mean(), rel=1e-12)
    assert v["std"] == pytest.approx(values.std(), rel=1e-9)  # population standard deviation
    bin_width = 999.0 / 1000
    assert list(v["quantiles"]) == ["0.01", "0.05", "0.25", "0.5", "0.75", "0.95", "0.99"]
    for q, value in v["quantiles"].items():
        assert abs(value - np.quantile(values, float(q))) <= 2 * bin_width, q
    histogram = v["histogram"]
    assert histogram["edges"] == pytest.approx(np.linspace(0.0, 999.0, 11).tolist())
    assert sum(histogram["counts"]) == 900
    assert histogram["counts"] == np.histogram(values, bins=10, range=(0.0, 999.0))[0].tolist()

    k = reference.split("train")["columns"]["k"]
    assert (k["kind"], k["type"], k["min"], k["max"], k["count"]) == ("numeric", "int64", 0.0, 6.0, 1000)
    assert k["mean"] == pytest.approx(np.mean(np.arange(1000) % 7))


def test_categorical_boolean_and_other_columns(reference: Statistics) -> None:
    columns = reference.split("train")["columns"]
    c = columns["c"]
    assert (c["kind"], c["count"], c["missing"], c["distinct"]) == ("categorical", 875, 125, 4)
    assert c["top"] == [["red", 375], ["blue", 250], ["amber", 125], ["green", 125]]  # ties by value
    b = columns["b"]
    assert (b["kind"], b["count"], b["missing"], b["true"]) == ("boolean", 960, 40, 240)
    assert columns["when"] == {"kind": "other", "type": "timestamp[s]", "count": 1000, "missing": 0}


def test_statistics_are_per_split(reference: Statistics) -> None:
    assert list(reference["splits"]) == ["train", "eval", "test"]
    assert [reference.split(name)["rows"] for name in ("train", "eval", "test")] == [1000, 3, 0]
    evaluation = reference.split("eval")["columns"]
    assert (evaluation["v"]["min"], evaluation["v"]["max"], evaluation["v"]["mean"]) == (-1.0, 5.0, 6.5 / 3)
    assert evaluation["c"]["top"] == [["teal", 2], ["blue", 1]]
    assert evaluation["b"]["true"] == 2
    # a column with no values in a split: counts, but no moments, quantiles or histogram
    sparse = evaluation["sparse"]
    assert (sparse["count"], sparse["missing"], sparse["mean"], sparse["std"]) == (0, 3, None, None)
    assert "quantiles" not in sparse and "histogram" not in sparse
    empty = reference.split("test")["columns"]["v"]
    assert (empty["count"], empty["missing"], empty["min"]) == (0, 0, None)


def test_every_backend_computes_the_same_statistics(
    processing: BaseProcessingBackend, dataset: Dataset, reference: Statistics
) -> None:
    assert_json_close(
        compute_statistics(processing, dataset, splits=["train", "eval"]),
        {"splits": {name: reference["splits"][name] for name in ("train", "eval")}},
    )


def test_statistics_step_outputs_a_statistics_artifact(dataset: Dataset, reference: Statistics, tmp_path: Path) -> None:
    result = StatisticsStep().process(dataset, context(LocalProcessing(), tmp_path))
    assert isinstance(result, Statistics)
    assert result == reference


def _cells(line: str) -> list[str]:
    return [cell for cell in re.split(r"[\s│┃|]+", line) if cell]


def test_zen_artifacts_show_renders_statistics_as_a_table(repo: Any, tmp_path: Path, zen: Any) -> None:
    path = tmp_path / "shop.csv"
    rows = ["price,colour,sold"] + [
        f"{i % 13 + 0.5},{['red', 'blue', 'red'][i % 3]},{str(i % 2 == 0).lower()}" for i in range(60)
    ]
    path.write_text("\n".join(rows) + "\n")
    pipeline = (
        SimplePipeline(name="stats_flow")
        .add_datasource(CSVDatasource(path=str(path)))
        .add_split(CategoricalDomainSplit(column="colour", domains={"train": ["red"], "eval": ["blue"]}))
        .add_step("profile", StatisticsStep(), inputs={"data": "datasource"})
    )
    run = pipeline.run()
    profile = run.steps["profile"].outputs["output"]
    split_stats = run.steps["split"].outputs["statistics"]
    stored = profile.read()
    assert isinstance(stored, Statistics) and profile.format == "statistics"
    assert stored.split("all")["columns"]["colour"]["top"] == [["red", 40], ["blue", 20]]
    assert split_stats.read().split("eval")["rows"] == 20

    code, out, err = zen("artifacts", "show", str(split_stats.id))
    assert code == 0, err
    header = next(line for line in out.splitlines() if "split" in line and "summary" in line)
    assert _cells(header) == ["split", "column", "kind", "count", "missing", "summary"]
    table = {tuple(_cells(line)[:5]) for line in out.splitlines()}
    assert ("train", "price", "numeric", "40", "0") in table
    assert ("eval", "colour", "categorical", "20", "0") in table
    assert ("train", "sold", "boolean", "40", "0") in table
    train_price = next(line for line in out.splitlines() if "train" in line and "price" in line)
    price = split_stats.read().split("train")["columns"]["price"]
    assert f"min {price['min']:.4g}" in train_price and f"mean {price['mean']:.4g}" in train_price
    assert "median" in train_price and f"max {price['max']:.4g}" in train_price
    assert "1 distinct; top: blue (20)" in next(
        line for line in out.splitlines() if "eval" in line and "colour" in line
    )
    assert "20 true" in next(line for line in out.splitlines() if "train" in line and "sold" in line)


@pytest.fixture(scope="module")
def binary_and_wide(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dataset, np.ndarray, np.ndarray]:
    """Breast cancer's 0/1 ``target`` and a column of over 1000 distinct values, in three shards."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    wide = np.concatenate([frame["mean area"].to_numpy(np.float64), np.arange(1707) / 7.0])  # 2276 rows
    flag = np.resize(frame["target"].to_numpy(np.int64), len(wide))  # four copies of the 0/1 label
    schema = pa.schema([("target", pa.int64()), ("area", pa.float64())])
    writer = DatasetWriter(str(tmp_path_factory.mktemp("binary") / "data"), schema, shard_rows=800)
    writer.write("train", pa.RecordBatch.from_pydict({"target": flag, "area": wide}, schema=schema))
    return writer.close(ephemeral=False), flag, wide


def test_quantiles_are_sample_values(binary_and_wide: tuple[Dataset, np.ndarray, np.ndarray]) -> None:
    """A 0/1 column's median is 0 or 1 (it was 0.0007827, interpolated inside a fine bin)."""
    dataset, flag, wide = binary_and_wide
    columns = compute_statistics(LocalProcessing(), dataset).split("train")["columns"]
    for q, value in columns["target"]["quantiles"].items():
        assert value == np.quantile(flag, float(q), method="inverted_cdf"), q
    assert columns["target"]["quantiles"]["0.5"] == 1.0
    assert "median 1 " in Statistics({"splits": {"train": {"columns": {"target": columns["target"]}}}}).rows()[0][5]
    # more distinct values than are counted exactly: quantiles from the fine histogram, within one bin
    assert len(np.unique(wide)) > 1000
    bin_width = (wide.max() - wide.min()) / 1000
    for q, value in columns["area"]["quantiles"].items():
        assert abs(value - np.quantile(wide, float(q), method="inverted_cdf")) <= bin_width, q


def test_exact_quantiles_merge_across_workers(binary_and_wide: tuple[Dataset, np.ndarray, np.ndarray]) -> None:
    dataset = binary_and_wide[0]
    assert compute_statistics(LocalProcessing(workers=2), dataset) == compute_statistics(LocalProcessing(), dataset)
