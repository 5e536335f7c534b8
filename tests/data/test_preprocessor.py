"""``StandardPreprocessor`` on every backend: defaults per type, every overwrite, no leakage, ``Transform``, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from data_helpers import context

from zenml.artifacts.dataset import Dataset
from zenml.backends.processing.base import BaseProcessingBackend
from zenml.backends.processing.local import LocalProcessing
from zenml.datasources import DataFrameDatasource
from zenml.exceptions import BackendError, ConfigError
from zenml.pipelines import SimplePipeline
from zenml.steps.preprocessor import BasePreprocessorStep, StandardPreprocessor, Transform
from zenml.steps.split import CategoricalDomainSplit

NUM = [1.0, 2.0, 3.0, 4.0, None, 6.0, 7.0, 9.0]  # train; the missing value is filled before scaling
PRESENT = np.array([v for v in NUM if v is not None])
MEAN, STD = PRESENT.mean(), PRESENT.std()
SCHEMA = pa.schema(
    [
        ("num", pa.float64()),
        ("cnt", pa.int64()),
        ("cat", pa.string()),
        ("flag", pa.bool_()),
        ("label_c", pa.string()),
        ("label_n", pa.int64()),
    ]
)
TRAIN = {
    "num": NUM,
    "cnt": list(range(8)),
    "cat": ["b", "a", "b", "c", "a", "b", None, "c"],  # b ×3, a ×2, c ×2 → vocabulary b, a, c (ties by value)
    "flag": [True, False, True, None, True, False, True, True],  # mode True
    "label_c": ["no", "yes", "no", "maybe", "yes", "no", "no", "yes"],
    "label_n": [1, 0, 1, 1, 0, 0, 1, 0],
}
EVAL = {
    "num": [100.0, None, -5.0, 4.0],
    "cnt": [10, 11, 12, 13],
    "cat": ["a", "zzz", None, "c"],
    "flag": [None, False, True, True],
    "label_c": ["yes", "no", "maybe", "no"],
    "label_n": [1, 1, 0, None],
}


def _dataset(
    path: Path, evaluation: dict[str, list[Any]] | None = None, train: dict[str, list[Any]] | None = None
) -> Dataset:
    tables = {
        "train": pa.table(train or TRAIN, schema=SCHEMA),
        "eval": pa.table(evaluation or EVAL, schema=SCHEMA),
        "test": pa.table({name: [] for name in SCHEMA.names}, schema=SCHEMA),
    }
    return Dataset.from_tables(str(path), tables, ephemeral=False)


@pytest.fixture
def dataset(tmp_path: Path) -> Dataset:
    return _dataset(tmp_path / "data")


def _column(data: Dataset, split: str, name: str) -> list[Any]:
    return data.to_table(split).column(name).to_pylist()


def _zscore(values: list[float | None]) -> list[float]:
    return [((MEAN if v is None else v) - MEAN) / STD for v in values]


# -- defaults ---------------------------------------------------------------------------------


def test_defaults_per_type(processing: BaseProcessingBackend, dataset: Dataset, tmp_path: Path) -> None:
    step = StandardPreprocessor(labels=["label_c", "label_n"])
    output = step.process(dataset, context(processing, tmp_path, "preprocessor"))
    data, transform = output.data, output.transform

    assert data.splits == ["train", "eval", "test"]
    assert data.column_names == ["num", "cnt", "cat", "flag", "label_c", "label_n"]
    assert (data.num_rows("train"), data.num_rows("eval"), data.num_rows("test")) == (8, 4, 0)
    types = {field.name: field.type for field in data.schema}
    assert types == {
        "num": pa.float64(),
        "cnt": pa.float64(),
        "cat": pa.int64(),
        "flag": pa.float64(),
        "label_c": pa.int64(),
        "label_n": pa.float64(),
    }

    # numeric: fill with the train mean, then z-score with the train mean and std
    assert _column(data, "train", "num") == pytest.approx(_zscore(NUM), abs=1e-12)
    assert _column(data, "eval", "num") == pytest.approx(_zscore(EVAL["num"]), abs=1e-12)
    counts = np.arange(8)
    assert _column(data, "eval", "cnt") == pytest.approx(((np.arange(10, 14) - counts.mean()) / counts.std()).tolist())
    # categorical: index into the train vocabulary (most frequent first), 0 for unknown and missing
    assert _column(data, "train", "cat") == [1, 2, 1, 3, 2, 1, 0, 3]
    assert _column(data, "eval", "cat") == [2, 0, 0, 3]
    # boolean: 0/1, missing → the train mode
    assert _column(data, "train", "flag") == [1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0]
    assert _column(data, "eval", "flag") == [1.0, 0.0, 1.0, 1.0]
    # labels: categorical → index of the sorted classes; numeric → float (never scaled)
    assert _column(data, "train", "label_c") == [1, 2, 1, 0, 2, 1, 1, 2]
    assert _column(data, "eval", "label_c") == [2, 1, 0, 1]
    assert _column(data, "eval", "label_n") == [1.0, 1.0, 0.0, None]

    state = transform["state"]
    assert (state["features"], state["labels"]) == (["num", "cnt", "cat", "flag"], ["label_c", "label_n"])
    assert state["columns"]["cat"]["vocabulary"] == ["b", "a", "c"]
    assert state["columns"]["label_c"]["vocabulary"] == ["maybe", "no", "yes"]
    assert state["columns"]["num"]["mean"] == pytest.approx(MEAN) and state["columns"]["num"]["std"] == pytest.approx(
        STD
    )
    assert transform["preprocessor"] == step.to_config()


# -- overwrites -------------------------------------------------------------------------------

OVERWRITE = {
    "minmax": {"transform": "minmax"},
    "none": {"transform": "none"},
    "bucket": {"transform": "bucketize", "buckets": 4},
    "median": {"transform": "none", "filling": "median"},
    "min": {"transform": "none", "filling": "min"},
    "max": {"transform": "none", "filling": "max"},
    "zero": {"transform": "none", "filling": "zero"},
    "constant": {"transform": "none", "filling": "constant", "value": 42.0},
    "mean": {"transform": "none", "filling": "mean"},
    "zscore_min": {"transform": "zscore", "filling": "min"},
    "onehot": {"transform": "onehot"},
    "flag": {"filling": "constant", "value": 0.0},
}


@pytest.fixture
def wide(tmp_path: Path) -> Dataset:
    """``num`` copied under the name of each numeric overwrite, ``cat`` as ``onehot``, ``flag``."""
    numeric = [name for name in OVERWRITE if name not in ("onehot", "flag")]

    def table(source: dict[str, list[Any]]) -> pa.Table:
        columns = {name: pa.array(source["num"], pa.float64()) for name in numeric}
        columns["onehot"] = pa.array(source["cat"], pa.string())
        columns["flag"] = pa.array(source["flag"], pa.bool_())
        return pa.table(columns)

    return Dataset.from_tables(str(tmp_path / "wide"), {"train": table(TRAIN), "eval": table(EVAL)}, ephemeral=False)


def test_every_overwrite_option(processing: BaseProcessingBackend, wide: Dataset, tmp_path: Path) -> None:
    step = StandardPreprocessor(overwrite=OVERWRITE)
    step.validate()
    output = step.process(wide, context(processing, tmp_path, "preprocessor"))
    data, state = output.data, output.transform["state"]["columns"]
    train = {name: _column(data, "train", name) for name in data.column_names}
    evaluation = {name: _column(data, "eval", name) for name in data.column_names}

    assert train["minmax"] == pytest.approx([((MEAN if v is None else v) - 1.0) / 8.0 for v in NUM])
    assert evaluation["minmax"] == pytest.approx([99 / 8, (MEAN - 1) / 8, -6 / 8, 3 / 8])  # no clipping
    assert train["none"] == pytest.approx([MEAN if v is None else v for v in NUM])
    filled = {"mean": MEAN, "min": 1.0, "max": 9.0, "zero": 0.0, "constant": 42.0}
    for name, value in filled.items():
        assert train[name][4] == pytest.approx(value), name
        assert evaluation[name] == pytest.approx([100.0, value, -5.0, 4.0]), name
    assert train["median"][4] == pytest.approx(4.0, abs=0.01)  # quantiles are exact to one fine bin
    assert train["zscore_min"] == pytest.approx([((1.0 if v is None else v) - MEAN) / STD for v in NUM])

    # bucketize: train quartile boundaries; every value (and the filled mean) gets a bucket 0..3
    assert state["bucket"]["boundaries"] == pytest.approx([2.0, 4.0, 7.0], abs=0.01)
    assert data.schema.field("bucket").type == pa.int64()
    assert train["bucket"] == [0, 0, 1, 1, 2, 2, 2, 3]
    assert evaluation["bucket"] == [3, 2, 0, 1]

    # one-hot: an unknown/missing column, then one per vocabulary value
    hot = ["onehot__unknown", "onehot__b", "onehot__a", "onehot__c"]
    assert [name for name in data.column_names if name.startswith("onehot")] == hot
    assert [[train[name][row] for name in hot] for row in (0, 1, 6)] == [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0]]
    assert [[evaluation[name][row] for name in hot] for row in range(4)] == [
        [0, 0, 1, 0],
        [1, 0, 0, 0],
        [1, 0, 0, 0],
        [0, 0, 0, 1],
    ]
    # boolean with a constant filling
    assert train["flag"][3] == 0.0 and evaluation["flag"] == [0.0, 0.0, 1.0, 1.0]


@pytest.mark.parametrize(
    ("overwrite", "message"),
    [
        (
            {"num": {"transfrom": "minmax"}},
            r"overwrite of column 'num' has unknown key 'transfrom'; use transform, filling",
        ),
        ({"num": {"transform": "log"}}, r"transform 'log' is unknown; use one of .*bucketize.*zscore"),
        ({"num": {"filling": "mode_of_mean"}}, r"filling 'mode_of_mean' is unknown; use one of mean, median"),
    ],
)
def test_bad_overwrite_keys_are_config_errors(overwrite: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        StandardPreprocessor(overwrite=overwrite).validate()


def test_a_transform_for_another_type_is_a_config_error(dataset: Dataset, tmp_path: Path) -> None:
    step = StandardPreprocessor(labels=["label_c"], overwrite={"num": {"transform": "onehot"}})
    with pytest.raises(ConfigError, match=r"column 'num' is numeric; transform 'onehot' needs another type"):
        step.process(dataset, context(LocalProcessing(), tmp_path))


# -- no leakage -------------------------------------------------------------------------------


def test_no_leakage_eval_and_test_rows_never_influence_the_fit(
    processing: BaseProcessingBackend, tmp_path: Path
) -> None:
    step = StandardPreprocessor(labels=["label_c"], overwrite={"num": {"transform": "bucketize", "filling": "median"}})
    original = _dataset(tmp_path / "a")
    wild_eval = {
        "num": [1e6, -1e6, None, 5e5],
        "cnt": [-100, 100, 1000, 7],
        "cat": ["new", "new", "c", "c"],
        "flag": [False, False, False, False],
        "label_c": ["yes", "yes", "yes", "yes"],
        "label_n": [9, 9, 9, 9],
    }
    changed = _dataset(tmp_path / "b", evaluation=wild_eval)
    only_train = Dataset.from_tables(str(tmp_path / "c"), {"train": pa.table(TRAIN, schema=SCHEMA)})

    fitted = [step.fit(processing, data, step.fit_splits(data)) for data in (original, changed, only_train)]
    assert step.fit_splits(original) == ["train"]
    assert json.dumps(fitted[0], sort_keys=True) == json.dumps(fitted[1], sort_keys=True)
    assert json.dumps(fitted[0], sort_keys=True) == json.dumps(fitted[2], sort_keys=True)
    train_batch = original.to_table("train").to_batches()[0]
    assert step.transform_batch(train_batch, fitted[0]).equals(step.transform_batch(train_batch, fitted[1]))


def test_fitting_needs_a_train_split(tmp_path: Path) -> None:
    data = Dataset.from_tables(str(tmp_path / "d"), {"all": pa.table(TRAIN, schema=SCHEMA)})
    with pytest.raises(ConfigError, match=r"fits on the 'train' split, but the data has splits all"):
        StandardPreprocessor().process(data, context(LocalProcessing(), tmp_path))


# -- the Transform artifact -------------------------------------------------------------------


def test_transform_applies_to_new_data(processing: BaseProcessingBackend, dataset: Dataset, tmp_path: Path) -> None:
    output = StandardPreprocessor(labels=["label_c"]).process(dataset, context(LocalProcessing(), tmp_path / "fit"))
    transform = Transform(json.loads(json.dumps(output.transform)))  # as stored: plain JSON
    assert transform.input_columns() == ["num", "cnt", "cat", "flag", "label_n", "label_c"]

    fresh = pa.RecordBatch.from_pydict(
        {
            "num": [MEAN, None],
            "cnt": [0, 7],
            "cat": ["c", "never-seen"],
            "flag": [False, None],
            "label_c": ["maybe", "yes"],
            "label_n": [0, 0],
            "extra": ["ignored", "too"],
        },
    )
    applied = transform.apply(fresh)
    assert applied.schema.names == ["num", "cnt", "cat", "flag", "label_n", "label_c"]  # fitted order; no extra
    assert applied.column("num").to_pylist() == pytest.approx([0.0, 0.0])
    assert applied.column("cat").to_pylist() == [3, 0]
    assert applied.column("flag").to_pylist() == [0.0, 1.0]
    assert applied.column("label_c").to_pylist() == [0, 2]

    new = Dataset.from_tables(str(tmp_path / "new"), {"batch": pa.Table.from_batches([fresh])}, ephemeral=False)
    result = transform.apply_to(processing, new, str(tmp_path / "out"))
    assert result.splits == ["batch"]
    assert result.to_table("batch").to_pylist() == pa.Table.from_batches([applied]).to_pylist()

    lacking = Dataset.from_tables(str(tmp_path / "lacking"), {"x": pa.table({"num": [1.0]})})
    with pytest.raises(
        ConfigError, match=r"lacks column 'cnt' that the transform was fitted on; available columns: num"
    ):
        transform.apply_to(processing, lacking, str(tmp_path / "out2"))


def test_transform_is_stored_by_a_pipeline_and_reapplied(repo: Any) -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {"x": [1.0, 2.0, 3.0, 10.0], "part": ["train", "train", "train", "eval"], "y": ["a", "b", "a", "b"]}
    )
    pipeline = (
        SimplePipeline(name="stored_transform")
        .add_datasource(DataFrameDatasource.from_frame(frame))
        .add_split(CategoricalDomainSplit(column="part", domains={"train": ["train"], "eval": ["eval"]}))
        .add_preprocessor(StandardPreprocessor(features=["x"], labels=["y"]))
    )
    run = pipeline.run()
    stored = run.steps["preprocessor"].outputs["transform"]
    assert stored.format == "transform"
    transform = stored.read()
    assert isinstance(transform, Transform)
    assert isinstance(transform.preprocessor, StandardPreprocessor)
    batch = pa.RecordBatch.from_pydict({"x": [2.0], "y": ["b"]})
    assert transform.apply(batch).to_pylist() == [{"x": 0.0, "y": 1}]
    assert run.steps["preprocessor"].outputs["data"].read().to_table("eval").to_pylist() == [
        {"x": pytest.approx((10.0 - 2.0) / np.std([1.0, 2.0, 3.0])), "y": 1}
    ]


# -- bad input ---------------------------------------------------------------------------------


def test_unseen_label_class_fails_naming_the_label(processing: BaseProcessingBackend, tmp_path: Path) -> None:
    data = _dataset(tmp_path / "d", evaluation={**EVAL, "label_c": ["yes", "perhaps", "no", "no"]})
    step = StandardPreprocessor(labels=["label_c"])
    with pytest.raises(
        (ValueError, BackendError),
        match=r"label 'label_c' has class 'perhaps', unseen in the training "
        r"split \(known: 'maybe', 'no', 'yes'\)",
    ):
        step.process(data, context(processing, tmp_path, "preprocessor"))


@pytest.mark.parametrize(
    ("step", "column"),
    [
        (StandardPreprocessor(features=["num", "size"]), "size"),
        (StandardPreprocessor(labels=["target"]), "target"),
        (StandardPreprocessor(overwrite={"weight": {"transform": "minmax"}}), "weight"),
    ],
    ids=["feature", "label", "overwrite"],
)
def test_unknown_columns_list_the_available_ones(
    step: BasePreprocessorStep, column: str, dataset: Dataset, tmp_path: Path
) -> None:
    with pytest.raises(
        ConfigError,
        match=rf"column '{column}' does not exist; available columns: num, cnt, cat, flag, label_c, label_n",
    ):
        step.process(dataset, context(LocalProcessing(), tmp_path))


def test_columns_of_other_types_must_be_left_out(tmp_path: Path) -> None:
    table = pa.table({"when": pa.array([1, 2], pa.timestamp("s")), "x": [1.0, 2.0]})
    data = Dataset.from_tables(str(tmp_path / "d"), {"train": table})
    with pytest.raises(ConfigError, match=r"cannot encode column 'when' of type timestamp\[s\]; leave it out"):
        StandardPreprocessor().process(data, context(LocalProcessing(), tmp_path))
    output = StandardPreprocessor(features=["x"]).process(data, context(LocalProcessing(), tmp_path / "ok"))
    assert output.data.column_names == ["x"]


def test_median_filling_of_a_0_1_column_is_0_or_1(tmp_path: Path) -> None:
    """The median is a sample value (it was 0.0008, interpolated inside a fine histogram bin)."""
    flags = [0.0] * 30 + [1.0] * 20 + [None] * 5
    table = pa.table({"flag": pa.array(flags, pa.float64()), "label": [i % 2 for i in range(len(flags))]})
    data = Dataset.from_tables(str(tmp_path / "flags"), {"train": table}, ephemeral=False)
    step = StandardPreprocessor(labels=["label"], overwrite={"flag": {"filling": "median", "transform": "none"}})
    state = step.process(data, context(LocalProcessing(), tmp_path, "preprocessor")).transform["state"]
    assert state["columns"]["flag"]["fill"] == 0.0
