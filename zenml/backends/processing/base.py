"""``BaseProcessingBackend``: the narrow interface every data step is written against (DESIGN §5).

Three operations over a ``Dataset`` cover data steps: a vectorised ``map_batches``, a
``partition`` of rows into named splits, and an ``aggregate`` through a
``create/add/merge/extract`` combiner (Beam's ``CombineFn`` shape). Step code written against
them runs unchanged in-process (``LocalProcessing``) or on Apache Beam (``BeamProcessing``).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from zenml.backends.base import BaseBackend
from zenml.exceptions import BackendError
from zenml.utils.deprecation import moved_attribute as _moved_attribute

if TYPE_CHECKING:
    import pyarrow as pa

    from zenml.artifacts.dataset import Dataset


class Combiner(Protocol):
    """Folds record batches into one value; ``merge`` must be associative and commutative."""

    def create(self) -> Any:
        """A fresh, empty accumulator."""
        ...

    def add(self, accumulator: Any, batch: pa.RecordBatch) -> Any:
        """Fold one batch into the accumulator and return it."""
        ...

    def merge(self, accumulators: Sequence[Any]) -> Any:
        """Combine partial accumulators (from different workers) into one."""
        ...

    def extract(self, accumulator: Any) -> Any:
        """Turn the final accumulator into the result."""
        ...


BatchFn = Callable[["pa.RecordBatch"], "pa.RecordBatch"]
PartitionFn = Callable[["pa.RecordBatch"], Any]


def output_schema(dataset: Dataset, fn: BatchFn) -> pa.Schema:
    """The schema ``fn`` produces, found by applying it to an empty batch of the input schema.

    Raises:
        BackendError: ``fn`` does not accept an empty batch or does not return a record batch.
    """
    import pyarrow as pa

    empty = pa.RecordBatch.from_pylist([], schema=dataset.schema)
    try:
        result = fn(empty)
    except Exception as exc:
        raise BackendError(
            f"batch function {_name(fn)} failed on an empty batch: {type(exc).__name__}: {exc}; "
            "data functions must handle zero rows"
        ) from exc
    if not isinstance(result, pa.RecordBatch):
        raise BackendError(f"batch function {_name(fn)} returned {type(result).__name__}, not a pyarrow.RecordBatch")
    return result.schema


def _name(fn: Any) -> str:
    return getattr(fn, "__qualname__", None) or type(fn).__name__


class BaseProcessingBackend(BaseBackend, abc.ABC):
    """Runs data work over datasets.

    ``map_batches`` and ``partition`` write a new dataset into ``output`` (a folder the caller
    owns, usually the step's scratch folder) and return it; ``aggregate`` returns a value.

    Examples:
        >>> from zenml.backends.processing.local import LocalProcessing
        >>> class LoggingProcessing(LocalProcessing):
        ...     def map_batches(self, dataset, fn, output, *, splits=None):
        ...         print("mapping", dataset.splits)
        ...         return super().map_batches(dataset, fn, output, splits=splits)
    """

    backend_kind: ClassVar[str] = "processing"

    @abc.abstractmethod
    def map_batches(
        self, dataset: Dataset, fn: BatchFn, output: str, *, splits: Sequence[str] | None = None
    ) -> Dataset:
        """Apply ``fn`` to every batch of the given splits (default: all), keeping split names."""

    @abc.abstractmethod
    def partition(self, dataset: Dataset, fn: PartitionFn, names: Sequence[str], output: str) -> Dataset:
        """Route every row of every split to split ``names[fn(batch)[row]]`` (index -1 drops the row)."""

    @abc.abstractmethod
    def aggregate(self, dataset: Dataset, combiner: Combiner, *, splits: Sequence[str] | None = None) -> Any:
        """Fold the batches of the given splits (default: all) with ``combiner``; return its result."""


def check_indexes(indexes: Any, rows: int, names: Sequence[str]) -> Any:
    """Validate a partition function's result: one integer per row, each in -1..len(names)-1."""
    import numpy as np

    array = np.asarray(indexes)
    if array.shape != (rows,):
        raise BackendError(f"partition function returned {array.shape} indexes for {rows} rows")
    if not np.issubdtype(array.dtype, np.integer):
        raise BackendError(f"partition function returned {array.dtype} values; it must return integers")
    if array.size and (array.max() >= len(names) or array.min() < -1):
        raise BackendError(f"partition function returned an index outside -1..{len(names) - 1}")
    return array


def __getattr__(name: str) -> Any:
    # renamed by the Base* convention for extension points; the old name works for one release
    if name == "ProcessingBackend":
        return _moved_attribute(
            __name__, name, {"ProcessingBackend": "zenml.backends.processing.BaseProcessingBackend"}
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
