"""``LocalProcessing``: streams a dataset's shards through data functions, here or in worker processes."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from zenml.artifacts.dataset import Dataset, DatasetWriter, finalize_dataset
from zenml.backends.processing.base import (
    BaseProcessingBackend,
    BatchFn,
    Combiner,
    PartitionFn,
    check_indexes,
    output_schema,
)
from zenml.exceptions import BackendError, ConfigError

if TYPE_CHECKING:
    import pyarrow as pa

Task = tuple[int, str, str]  # (task index, split, shard path relative to the dataset)


def _map_shard(dataset: Dataset, task: Task, fn: BatchFn, output: str, schema: pa.Schema) -> None:
    index, split, relative = task
    writer = DatasetWriter(output, schema, prefix=f"part-{index:05d}", shard_rows=1 << 62)
    for batch in dataset.read_shard(relative):
        writer.write(split, fn(batch))
    for shard_writer in writer._writers.values():
        shard_writer.close()


def _partition_shard(dataset: Dataset, task: Task, fn: PartitionFn, names: Sequence[str], output: str) -> None:
    index, _split, relative = task
    writer = DatasetWriter(output, dataset.schema, prefix=f"part-{index:05d}", shard_rows=1 << 62)
    for batch in dataset.read_shard(relative):
        indexes = check_indexes(fn(batch), batch.num_rows, names)
        for position, name in enumerate(names):
            mask = indexes == position
            if mask.any():
                writer.write(name, batch.filter(mask))
    for shard_writer in writer._writers.values():
        shard_writer.close()


def _aggregate_shard(dataset: Dataset, task: Task, combiner: Combiner) -> Any:
    accumulator = combiner.create()
    for batch in dataset.read_shard(task[2]):
        accumulator = combiner.add(accumulator, batch)
    return accumulator


class LocalProcessing(BaseProcessingBackend):
    """In-process processing, shard by shard; ``workers > 1`` spreads shards over worker processes.

    Args:
        workers: processes to use; with more than one, data functions and combiners must be
            picklable (module-level functions, methods of importable classes).
    """

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers

    def check_params(self, params: dict[str, object]) -> None:
        """Also require at least one worker."""
        super().check_params(params)
        workers = params.get("workers", 1)
        if isinstance(workers, int) and workers < 1:
            raise ConfigError(f"LocalProcessing workers must be at least 1, got {workers}")

    def _tasks(self, dataset: Dataset, splits: Sequence[str] | None) -> list[Task]:
        chosen = list(splits) if splits is not None else dataset.splits
        tasks = [(split, relative) for split in chosen for relative in dataset.files(split)]
        return [(index, split, relative) for index, (split, relative) in enumerate(tasks)]

    def _run(self, function: Callable[..., Any], dataset: Dataset, tasks: list[Task], *args: Any) -> list[Any]:
        if self.workers == 1 or len(tasks) <= 1:
            return [function(dataset, task, *args) for task in tasks]
        try:
            with ProcessPoolExecutor(max_workers=min(self.workers, len(tasks))) as pool:
                futures = [pool.submit(function, dataset, task, *args) for task in tasks]
                return [future.result() for future in futures]
        except (AttributeError, TypeError, pickle.PicklingError) as exc:  # lambdas raise PicklingError
            if "pickle" in str(exc).lower():
                raise BackendError(
                    f"LocalProcessing(workers={self.workers}) needs picklable data functions "
                    f"(module-level functions or methods): {exc}"
                ) from exc
            raise

    def map_batches(
        self, dataset: Dataset, fn: BatchFn, output: str, *, splits: Sequence[str] | None = None
    ) -> Dataset:
        """Apply ``fn`` to every batch, writing one output shard per input shard."""
        schema = output_schema(dataset, fn)
        chosen = list(splits) if splits is not None else dataset.splits
        self._run(_map_shard, dataset, self._tasks(dataset, chosen), fn, output, schema)
        return finalize_dataset(output, schema, chosen)

    def partition(self, dataset: Dataset, fn: PartitionFn, names: Sequence[str], output: str) -> Dataset:
        """Route rows to the named splits, shard by shard."""
        os.makedirs(output, exist_ok=True)
        self._run(_partition_shard, dataset, self._tasks(dataset, None), fn, list(names), output)
        return finalize_dataset(output, dataset.schema, names)

    def aggregate(self, dataset: Dataset, combiner: Combiner, *, splits: Sequence[str] | None = None) -> Any:
        """Fold every shard into an accumulator (in parallel with workers), merge, extract."""
        accumulators = self._run(_aggregate_shard, dataset, self._tasks(dataset, splits), combiner)
        return combiner.extract(combiner.merge(accumulators or [combiner.create()]))
