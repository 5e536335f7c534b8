"""``LocalProcessing``: streams Arrow record batches through the data functions in this process."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from zenml.backends.processing.base import BatchFn, Combiner, PartitionFn, ProcessingBackend
from zenml.exceptions import BackendError

if TYPE_CHECKING:
    import pyarrow as pa


class LocalProcessing(ProcessingBackend):
    """In-process processing: one batch at a time, nothing to install or start."""

    def map_batches(self, batches: Iterable[pa.RecordBatch], fn: BatchFn) -> list[pa.RecordBatch]:
        """Apply ``fn`` to each batch in order."""
        return [fn(batch) for batch in batches]

    def partition(
        self, batches: Iterable[pa.RecordBatch], fn: PartitionFn, names: Sequence[str]
    ) -> dict[str, list[pa.RecordBatch]]:
        """Route each row to ``names[fn(batch)[row]]`` (rows with index -1 are dropped)."""
        import numpy as np

        result: dict[str, list[pa.RecordBatch]] = {name: [] for name in names}
        for batch in batches:
            indexes = np.asarray(fn(batch))
            if indexes.shape != (batch.num_rows,):
                raise BackendError(f"partition function returned {indexes.shape} indexes for {batch.num_rows} rows")
            if indexes.size and (indexes.max() >= len(names) or indexes.min() < -1):
                raise BackendError(f"partition function returned an index outside -1..{len(names) - 1}")
            for position, name in enumerate(names):
                mask = indexes == position
                if mask.any():
                    result[name].append(batch.filter(mask))
        return result

    def aggregate(self, batches: Iterable[pa.RecordBatch], combiner: Combiner) -> Any:
        """Fold the batches into one accumulator, then extract the result."""
        accumulator = combiner.create()
        for batch in batches:
            accumulator = combiner.add(accumulator, batch)
        return combiner.extract(combiner.merge([accumulator]))
