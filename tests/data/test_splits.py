"""The split tree on every backend: random (seeded row hash), categorical domains and ratios, no split; errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from data_helpers import context

from zenml.artifacts.dataset import Dataset, DatasetWriter
from zenml.backends.processing.base import BaseProcessingBackend
from zenml.backends.processing.local import LocalProcessing
from zenml.exceptions import ConfigError, StepError
from zenml.steps.base import BaseStep
from zenml.steps.split import BaseSplitStep, CategoricalDomainSplit, CategoricalRatioSplit, NoSplit, RandomSplit
from zenml.steps.statistics import Statistics

ROWS = 3000
CITIES = ["berlin", "paris", "rome", "oslo", "lima", "kyiv", "quito", "accra", "hanoi", "perth"]


def _table() -> pa.Table:
    rng = np.random.default_rng(11)
    city = rng.choice(CITIES, size=ROWS).astype(object)
    city[rng.random(ROWS) < 0.05] = None
    return pa.table(
        {
            "id": np.arange(ROWS, dtype=np.int64),
            "user": rng.integers(0, 200, size=ROWS),
            "city": pa.array(city.tolist(), pa.string()),
            "x": rng.normal(size=ROWS),
        }
    )


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return _table()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory, table: pa.Table) -> Dataset:
    """All rows in one split, ``all``, in three shards (so worker processes share the work)."""
    writer = DatasetWriter(str(tmp_path_factory.mktemp("splits") / "data"), table.schema, shard_rows=1000)
    for batch in table.to_batches(max_chunksize=500):
        writer.write("all", batch)
    return writer.close(ephemeral=False)


def _assignment(result: Dataset) -> dict[int, str]:
    """Row id → the split it landed in (every id at most once)."""
    where: dict[int, str] = {}
    for split in result.splits:
        for row_id in result.to_table(split).column("id").to_pylist():
            assert row_id not in where, f"row {row_id} is in both {where[row_id]} and {split}"
            where[row_id] = split
    return where


def _expected(step: BaseSplitStep, table: pa.Table) -> dict[int, str]:
    """What ``partition_fn`` assigns when it sees the whole table as one batch."""
    names = step.split_names()
    indexes = step.partition_fn(table.combine_chunks().to_batches()[0])
    return {int(i): names[k] for i, k in zip(table.column("id").to_pylist(), indexes, strict=True) if k >= 0}


def _partition(processing: BaseProcessingBackend, step: BaseSplitStep, data: Dataset, tmp_path: Path) -> Dataset:
    return processing.partition(data, step.partition_fn, step.split_names(), str(tmp_path / "out"))


# -- RandomSplit --------------------------------------------------------------------------------


def test_random_split_is_reproducible_on_every_backend(
    processing: BaseProcessingBackend, dataset: Dataset, table: pa.Table, tmp_path: Path
) -> None:
    step = RandomSplit(ratios={"train": 0.7, "eval": 0.3}, seed=1)
    result = _partition(processing, step, dataset, tmp_path)
    assert result.splits == ["train", "eval"]
    assignment = _assignment(result)
    assert assignment == _expected(step, table)  # the same rows in the same split, whatever the batching
    assert len(assignment) == ROWS
    assert abs(result.num_rows("train") / ROWS - 0.7) < 0.03


def test_random_split_depends_on_the_seed_only(table: pa.Table) -> None:
    batch = table.combine_chunks().to_batches()[0]
    step = RandomSplit(ratios={"train": 0.6, "eval": 0.2, "test": 0.2}, seed=7)
    whole = step.partition_fn(batch)
    pieces = np.concatenate([step.partition_fn(batch.slice(start, 123)) for start in range(0, ROWS, 123)])
    assert np.array_equal(whole, pieces)  # a row's split never depends on its batch or position
    assert np.array_equal(
        whole, RandomSplit(ratios={"train": 0.6, "eval": 0.2, "test": 0.2}, seed=7).partition_fn(batch)
    )
    fractions = np.bincount(whole, minlength=3) / ROWS
    assert np.allclose(fractions, [0.6, 0.2, 0.2], atol=0.03)

    other = RandomSplit(ratios={"train": 0.6, "eval": 0.2, "test": 0.2}, seed=8).partition_fn(batch)
    assert (other != whole).mean() > 0.3
    assert np.allclose(np.bincount(other, minlength=3) / ROWS, [0.6, 0.2, 0.2], atol=0.03)
    assert step.partition_fn(batch.slice(0, 0)).shape == (0,)


def test_random_split_on_key_columns_keeps_each_key_together(table: pa.Table) -> None:
    batch = table.combine_chunks().to_batches()[0]
    step = RandomSplit(ratios={"train": 0.5, "eval": 0.5}, seed=3, key_columns=["user"])
    indexes = step.partition_fn(batch)
    users = np.asarray(batch.column("user"))
    for user in np.unique(users):
        assert len(set(indexes[users == user].tolist())) == 1, f"user {user} is in two splits"
    assert 0 < indexes.mean() < 1
    assert step.required_columns() == ["user"]


def test_split_step_outputs_split_data_and_its_statistics(
    processing: BaseProcessingBackend, dataset: Dataset, table: pa.Table, tmp_path: Path
) -> None:
    step = RandomSplit(ratios={"train": 0.8, "eval": 0.2}, seed=2)
    output = step.process(dataset, context(processing, tmp_path, "split"))
    assert _assignment(output.data) == _expected(step, table)
    assert isinstance(output.statistics, Statistics)
    for split in ("train", "eval"):
        stats = output.statistics.split(split)
        assert stats["rows"] == output.data.num_rows(split)
        assert stats["columns"]["id"]["count"] == output.data.num_rows(split)
        ids = output.data.to_table(split).column("id").to_pylist()
        assert stats["columns"]["id"]["min"] == min(ids) and stats["columns"]["id"]["max"] == max(ids)
    assert output.data.num_rows() == ROWS


# -- categorical splits -----------------------------------------------------------------------


def test_domain_split_drops_or_collects_unknown_values(
    processing: BaseProcessingBackend, dataset: Dataset, table: pa.Table, tmp_path: Path
) -> None:
    domains = {"train": ["berlin", "paris", "rome"], "eval": ["oslo"]}
    skip = CategoricalDomainSplit(column="city", domains=domains, unknown="skip")
    skip.validate()
    result = _partition(processing, skip, dataset, tmp_path / "skip")
    cities = dict(zip(table.column("id").to_pylist(), table.column("city").to_pylist(), strict=True))
    assert result.splits == ["train", "eval"]
    assert {row_id: split for row_id, split in _assignment(result).items()} == {
        row_id: ("train" if city in domains["train"] else "eval")
        for row_id, city in cities.items()
        if city in {"berlin", "paris", "rome", "oslo"}
    }

    collect = CategoricalDomainSplit(column="city", domains=domains, unknown="rest")
    assert collect.split_names() == ["train", "eval", "rest"]
    result = _partition(processing, collect, dataset, tmp_path / "collect")
    rest = set(result.to_table("rest").column("city").to_pylist())
    assert rest == {"lima", "kyiv", "quito", "accra", "hanoi", "perth", None}  # other values and missing ones
    assert result.num_rows() == ROWS

    # naming an existing split for unknown values adds them to it
    into_eval = CategoricalDomainSplit(column="city", domains=domains, unknown="eval")
    assert into_eval.split_names() == ["train", "eval"]
    evaluation = [row_id for row_id, split in _expected(into_eval, table).items() if split == "eval"]
    assert len(evaluation) == result.num_rows("eval") + result.num_rows("rest")


def test_ratio_split_keeps_each_category_in_one_split(
    processing: BaseProcessingBackend, dataset: Dataset, table: pa.Table, tmp_path: Path
) -> None:
    step = CategoricalRatioSplit(column="city", ratios={"train": 0.6, "eval": 0.4}, unknown="eval", seed=4)
    step.validate()
    result = _partition(processing, step, dataset, tmp_path)
    assert _assignment(result) == _expected(step, table)
    train = set(result.to_table("train").column("city").to_pylist())
    evaluation = set(result.to_table("eval").column("city").to_pylist())
    assert not train & evaluation
    assert None in evaluation and None not in train  # missing values go to the `unknown` split
    assert train | evaluation == {*CITIES, None}
    assert len(train) > 0 and len(evaluation) > 1

    skipping = CategoricalRatioSplit(column="city", ratios={"train": 0.6, "eval": 0.4}, unknown="skip", seed=4)
    assert sum(1 for _ in _expected(skipping, table)) == sum(1 for city in table.column("city").to_pylist() if city)
    other_seed = CategoricalRatioSplit(column="city", ratios={"train": 0.6, "eval": 0.4}, unknown="eval", seed=5)
    assert _expected(other_seed, table) != _expected(step, table)


def test_no_split_puts_every_row_in_one_split(
    processing: BaseProcessingBackend, dataset: Dataset, tmp_path: Path
) -> None:
    result = _partition(processing, NoSplit(), dataset, tmp_path)
    assert result.splits == ["train"] and result.num_rows("train") == ROWS
    assert NoSplit(name="everything").split_names() == ["everything"]


@pytest.mark.parametrize(
    "step",
    [
        CategoricalDomainSplit(column="city", domains={"train": ["rome"], "eval": ["oslo"]}, unknown="eval"),
        CategoricalRatioSplit(column="city", ratios={"a": 0.5, "b": 0.5}, unknown="b", seed=3),
        RandomSplit(ratios={"train": 0.5, "eval": 0.5}, seed=9, key_columns=["user"]),
    ],
    ids=["domain", "ratio", "random"],
)
def test_split_steps_round_trip_through_their_config(step: BaseSplitStep) -> None:
    rebuilt = BaseStep.from_config(step.to_config())
    assert rebuilt == step
    assert rebuilt.split_names() == step.split_names()


# -- bad configuration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (
            RandomSplit(ratios={"train": 0.7, "eval": 0.2}),
            r"ratios must sum to 1, but train=0\.7, eval=0\.2 sum to 0\.9",
        ),
        (RandomSplit(ratios={"train": 0.8, "eval": 0.3}), r"RandomSplit ratios must sum to 1.* sum to 1\.1"),
        (RandomSplit(ratios={"train": 1.2, "eval": -0.2}), r"ratio of split 'eval' must be a positive number"),
        (RandomSplit(ratios={}), r"needs at least one split"),
        (CategoricalRatioSplit(column="c", ratios={"a": 0.5, "b": 0.6}), r"CategoricalRatioSplit ratios must sum to 1"),
        (CategoricalRatioSplit(column="c", ratios={"a": 0.5, "b": 0.5}, unknown="c"), r"unknown='c' must be 'skip'"),
        (
            CategoricalDomainSplit(column="c", domains={"a": ["x", "y"], "b": ["y"]}),
            r"value 'y' is in both 'a' and 'b'",
        ),
        (
            CategoricalDomainSplit(column="c", domains={"a": ["x"]}, unknown="b"),
            r"unknown='b' must be 'skip' or one of",
        ),
    ],
)
def test_bad_split_configuration_is_a_config_error(step: BaseSplitStep, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        step.validate()


@pytest.mark.parametrize(
    "step",
    [
        CategoricalDomainSplit(column="town", domains={"train": ["rome"]}),
        CategoricalRatioSplit(column="town", ratios={"train": 0.5, "eval": 0.5}),
        RandomSplit(key_columns=["id", "town"]),
    ],
    ids=["domain", "ratio", "random-key"],
)
def test_unknown_split_column_lists_the_available_ones(step: BaseSplitStep, dataset: Dataset, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"column 'town' does not exist; available columns: id, user, city, x"):
        step.process(dataset, context(LocalProcessing(), tmp_path))


def test_a_split_that_comes_out_empty_is_named(
    processing: BaseProcessingBackend, dataset: Dataset, tmp_path: Path
) -> None:
    step = CategoricalDomainSplit(column="city", domains={"train": ["rome"], "eval": ["atlantis"]})
    with pytest.raises(StepError, match=r"split 'eval' came out empty \(0 of 3000 rows\)"):
        step.process(dataset, context(processing, tmp_path, "split"))
