"""``ProcessingBackend``: the narrow interface every data step is written against (DESIGN §5).

Three operations over Arrow record batches cover data steps: a vectorised map, a partition into
named splits, and an aggregate through a ``create/add/merge/extract`` combiner (Beam's
``CombineFn`` shape), so the same step code runs in-process or on a distributed engine.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from zenml.backends.base import BaseBackend

if TYPE_CHECKING:
    import pyarrow as pa


class Combiner(Protocol):
    """Folds record batches into one value; ``merge`` must be associative for parallel backends."""

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


class ProcessingBackend(BaseBackend, abc.ABC):
    """Runs data work over record batches.

    Example:
        >>> from zenml.backends.processing.local import LocalProcessing
        >>> class EagerProcessing(ProcessingBackend):
        ...     def map_batches(self, batches, fn):
        ...         return [fn(b) for b in batches]
        ...     def partition(self, batches, fn, names):
        ...         return LocalProcessing().partition(batches, fn, names)
        ...     def aggregate(self, batches, combiner):
        ...         return LocalProcessing().aggregate(batches, combiner)
    """

    backend_kind: ClassVar[str] = "processing"

    @abc.abstractmethod
    def map_batches(self, batches: Iterable[pa.RecordBatch], fn: BatchFn) -> list[pa.RecordBatch]:
        """Apply ``fn`` to every batch."""

    @abc.abstractmethod
    def partition(
        self, batches: Iterable[pa.RecordBatch], fn: PartitionFn, names: Sequence[str]
    ) -> dict[str, list[pa.RecordBatch]]:
        """Split rows by ``fn(batch)`` (an integer array of indexes into ``names``; -1 drops a row)."""

    @abc.abstractmethod
    def aggregate(self, batches: Iterable[pa.RecordBatch], combiner: Combiner) -> Any:
        """Fold every batch with ``combiner`` and return ``combiner.extract(...)``."""
