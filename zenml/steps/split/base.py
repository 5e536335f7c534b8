"""``BaseSplitStep``: divides a dataset's rows into named splits with one vectorised function."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from zenml.artifacts.dataset import Dataset
from zenml.exceptions import ConfigError, StepError
from zenml.steps.base import BaseStep
from zenml.steps.context import StepContext
from zenml.steps.statistics import Statistics, compute_statistics
from zenml.utils.deprecation import moved_attribute as _moved_attribute

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


class SplitOutput(NamedTuple):
    """What every split step produces: the split dataset and its statistics per split."""

    data: Dataset
    statistics: Statistics


def check_ratios(ratios: dict[str, float], owner: str) -> None:
    """Ratios must be positive and sum to 1.

    Raises:
        ConfigError: naming the offending ratio or the sum.
    """
    if not ratios:
        raise ConfigError(f"{owner} needs at least one split in ratios")
    for name, ratio in ratios.items():
        if not isinstance(ratio, (int, float)) or isinstance(ratio, bool) or ratio <= 0:
            raise ConfigError(f"{owner} ratio of split '{name}' must be a positive number, got {ratio!r}")
    total = sum(ratios.values())
    if abs(total - 1.0) > 1e-9:
        raise ConfigError(
            f"{owner} ratios must sum to 1, but {', '.join(f'{k}={v}' for k, v in ratios.items())} sum to {total:g}"
        )


class BaseSplitStep(BaseStep):
    """Routes each row to a split; subclasses give the split names and a vectorised ``partition_fn``.

    Examples:
        >>> import numpy as np
        >>> class EvenOddSplit(BaseSplitStep):
        ...     def __init__(self, column: str = "id"):
        ...         self.column = column
        ...     def split_names(self):
        ...         return ["even", "odd"]
        ...     def required_columns(self):
        ...         return [self.column]
        ...     def partition_fn(self, batch):
        ...         return np.asarray(batch.column(self.column)) % 2
    """

    @abc.abstractmethod
    def split_names(self) -> list[str]:
        """The names of the splits, in order; ``partition_fn`` returns indexes into this list."""

    @abc.abstractmethod
    def partition_fn(self, batch: pa.RecordBatch) -> np.ndarray:
        """For each row of ``batch``, the index of its split (-1 to drop the row). Must be vectorised."""

    def required_columns(self) -> list[str]:
        """Columns ``partition_fn`` reads (checked against the data before anything runs)."""
        return []

    def allow_empty(self) -> bool:
        """Whether an empty split is acceptable (default: no, it is an error naming the split)."""
        return False

    def process(self, data: Dataset, context: StepContext) -> SplitOutput:
        """Partition ``data`` on the processing backend, then profile the result."""
        self._check_columns(data)
        names = self.split_names()
        result = context.processing.partition(data, self.partition_fn, names, context.new_path("split"))
        empty = [name for name in names if result.num_rows(name) == 0]
        if empty and not self.allow_empty():
            raise StepError(
                context.step_name,
                "ValueError",
                f"split '{empty[0]}' came out empty (0 of {data.num_rows()} rows); "
                "adjust the ratios, domains or column of the split",
            )
        return SplitOutput(result, compute_statistics(context.processing, result))

    def _check_columns(self, data: Dataset) -> None:
        available = data.column_names
        for column in self.required_columns():
            if column not in available:
                raise ConfigError(
                    f"{type(self).__name__}: column '{column}' does not exist; "
                    f"available columns: {', '.join(available)}"
                )


def text_values(batch: pa.RecordBatch, column: str) -> list[Any]:
    """A column's values as Python objects (strings for categorical data)."""
    import pyarrow.types as pat

    from zenml.steps.columns import as_text, column_kind

    array = batch.column(column)
    if pat.is_nested(array.type):  # lists and structs have no single value to look up
        raise ConfigError(
            f"column '{column}' is nested ({array.type}); split by a column of plain values "
            "(text, numbers, booleans), e.g. one field of it computed by a step before the split"
        )
    values: list[Any] = as_text(array).to_pylist() if column_kind(array.type) == "categorical" else array.to_pylist()
    return values


def names_in_order(values: Sequence[str]) -> list[str]:
    """Split names without repeats, keeping order."""
    return list(dict.fromkeys(values))


#: renamed by the Base<Role> convention for extension points (docs/contributing/naming.md); one release
_RENAMED = {"SplitStep": "zenml.steps.split.base.BaseSplitStep"}


def __getattr__(name: str) -> Any:
    return _moved_attribute(__name__, name, _RENAMED)
