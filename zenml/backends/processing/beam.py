"""``BeamProcessing``: the same data work built as Apache Beam pipelines (Direct, Dataflow, Flink, Spark …).

Each operation is one Beam pipeline: Parquet shards are read with ``ReadFromParquetBatched``,
data functions run in ``FlatMap``/``Partition``/``CombineGlobally`` transforms, and results are
written back with ``WriteToParquetBatched`` (or, for aggregates, to one file under the output
folder that the driver reads back). Any runner and pipeline option is passed through, so a
distributed runner needs only its usual options (and an output location it can write to).
"""

from __future__ import annotations

import os
import pickle
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from zenml.artifacts.dataset import Dataset, finalize_dataset
from zenml.backends.base import require_module
from zenml.backends.processing.base import (
    BaseProcessingBackend,
    BatchFn,
    Combiner,
    PartitionFn,
    check_indexes,
    output_schema,
)
from zenml.exceptions import BackendError, ConfigError
from zenml.utils.quiet import import_beam

if TYPE_CHECKING:
    import pyarrow as pa

#: runners Beam ships; any other name must be a dotted path to a runner class
KNOWN_RUNNERS = (
    "DirectRunner",
    "BundleBasedDirectRunner",
    "SwitchingDirectRunner",
    "PrismRunner",
    "PortableRunner",
    "DataflowRunner",
    "TestDataflowRunner",
    "FlinkRunner",
    "SparkRunner",
    "InteractiveRunner",
)


def _import_beam() -> Any:
    try:
        beam = import_beam()  # without its notices about optional Google Cloud libraries
    except ImportError as exc:
        raise ConfigError("BeamProcessing needs Apache Beam: pip install 'zenml[beam]'") from exc
    return beam


def _tables_to_batches(fn: BatchFn) -> Any:
    def apply(table: pa.Table) -> Iterator[pa.Table]:
        import pyarrow as pa

        for batch in table.to_batches():
            result = fn(batch)
            if result.num_rows:
                yield pa.Table.from_batches([result])

    return apply


class _CombineAdapter:
    """A Beam ``CombineFn`` around a zenml combiner (record batches in, the combiner's result out)."""

    def __new__(cls, combiner: Combiner) -> Any:
        beam = _import_beam()

        class Adapter(beam.CombineFn):  # type: ignore[misc,name-defined]
            def create_accumulator(self) -> Any:
                return combiner.create()

            def add_input(self, accumulator: Any, table: pa.Table) -> Any:
                for batch in table.to_batches():
                    accumulator = combiner.add(accumulator, batch)
                return accumulator

            def merge_accumulators(self, accumulators: Any) -> Any:
                return combiner.merge(list(accumulators))

            def extract_output(self, accumulator: Any) -> Any:
                return combiner.extract(accumulator)

        return Adapter()


class BeamProcessing(BaseProcessingBackend):
    """Data work as Apache Beam pipelines.

    Args:
        runner: a Beam runner name (``DirectRunner``, ``DataflowRunner``, ``FlinkRunner``,
            ``SparkRunner``, …) or a dotted path to a runner class.
        options: Beam pipeline options, e.g. ``{"direct_num_workers": 2}`` or Dataflow's
            ``project``/``region``/``temp_location``.
    """

    def __init__(self, runner: str = "DirectRunner", options: dict[str, Any] | None = None) -> None:
        self.runner = runner
        self.options = options

    def check_available(self) -> None:
        """Apache Beam must be installed (checked when the run is compiled)."""
        require_module("apache_beam", "BeamProcessing", "beam")

    def check_params(self, params: dict[str, object]) -> None:
        """Also require a runner Beam knows (checked before anything runs)."""
        super().check_params(params)
        runner = params.get("runner", "DirectRunner")
        if isinstance(runner, str) and runner not in KNOWN_RUNNERS and "." not in runner:
            raise ConfigError(
                f"Beam runner '{runner}' does not exist; use one of {', '.join(KNOWN_RUNNERS)} "
                "or a dotted path to a runner class"
            )

    def _pipeline(self) -> Any:
        beam = _import_beam()
        from apache_beam.options.pipeline_options import PipelineOptions

        options = PipelineOptions(flags=[], **{"save_main_session": False, **(self.options or {})})
        try:
            return beam.Pipeline(runner=self.runner, options=options)
        except ValueError as exc:
            raise ConfigError(f"cannot create a Beam pipeline with runner '{self.runner}': {exc}") from exc

    def _run(self, pipeline: Any) -> None:
        try:
            pipeline.run().wait_until_finish()
        except BackendError:
            raise
        except Exception as exc:
            raise BackendError(f"Beam pipeline on {self.runner} failed: {type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _read(pipeline: Any, dataset: Dataset, split: str, label: str) -> Any:
        beam = _import_beam()

        files = dataset.files(split)
        if not files:
            return pipeline | f"{label} empty" >> beam.Create([])
        paths = [f"{dataset.path.rstrip('/')}/{relative}" for relative in files]
        return pipeline | f"{label} files" >> beam.Create(paths) | f"{label} read" >> beam.FlatMap(_read_parquet_file)

    @staticmethod
    def _write(collection: Any, output: str, split: str, schema: pa.Schema, label: str) -> None:
        from apache_beam.io.parquetio import WriteToParquetBatched

        os.makedirs(os.path.join(output, split), exist_ok=True)
        _ = collection | f"{label} write" >> WriteToParquetBatched(
            file_path_prefix=os.path.join(output, split, "part"),
            schema=schema,
            file_name_suffix=".parquet",
            shard_name_template="-SSSSS-of-NNNNN",
        )

    def map_batches(
        self, dataset: Dataset, fn: BatchFn, output: str, *, splits: Sequence[str] | None = None
    ) -> Dataset:
        """One Beam pipeline mapping every chosen split."""
        beam = _import_beam()
        schema = output_schema(dataset, fn)
        chosen = list(splits) if splits is not None else dataset.splits
        pipeline = self._pipeline()
        for split in chosen:
            mapped = self._read(pipeline, dataset, split, f"{split}") | f"{split} map" >> beam.FlatMap(
                _tables_to_batches(fn)
            )
            self._write(mapped, output, split, schema, split)
        self._run(pipeline)
        _drop_empty_shards(output, chosen)
        return finalize_dataset(output, schema, chosen)

    def partition(self, dataset: Dataset, fn: PartitionFn, names: Sequence[str], output: str) -> Dataset:
        """One Beam pipeline routing rows of every split into the named splits."""
        beam = _import_beam()
        names = list(names)
        pipeline = self._pipeline()
        reads = [self._read(pipeline, dataset, split, f"in {split}") for split in dataset.splits]
        rows = (reads | "all splits" >> beam.Flatten()) if reads else pipeline | beam.Create([])
        routed = (
            rows
            | "route" >> beam.FlatMap(_route(fn, names))
            | "by split" >> beam.Partition(lambda pair, count: pair[0], len(names))
        )
        for position, name in enumerate(names):
            tables = routed[position] | f"{name} tables" >> beam.Map(lambda pair: pair[1])
            self._write(tables, output, name, dataset.schema, f"out {name}")
        self._run(pipeline)
        _drop_empty_shards(output, names)
        return finalize_dataset(output, dataset.schema, names)

    def aggregate(self, dataset: Dataset, combiner: Combiner, *, splits: Sequence[str] | None = None) -> Any:
        """One Beam pipeline combining every chosen split globally; the driver reads the result back."""
        beam = _import_beam()
        from apache_beam.io.filesystems import FileSystems

        chosen = list(splits) if splits is not None else dataset.splits
        pipeline = self._pipeline()
        reads = [self._read(pipeline, dataset, split, f"agg {split}") for split in chosen]
        rows = (reads | "all" >> beam.Flatten()) if reads else pipeline | beam.Create([])
        target = os.path.join(tempfile.gettempdir(), f"zenml-beam-{uuid.uuid4().hex}.pickle")
        _ = (
            rows
            | "combine" >> beam.CombineGlobally(_CombineAdapter(combiner))
            | "save result" >> beam.Map(_save_result, target)
        )
        self._run(pipeline)
        try:
            with FileSystems.open(target) as handle:
                return pickle.loads(handle.read())
        finally:
            FileSystems.delete([target])


def _read_parquet_file(path: str) -> Iterator[pa.Table]:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.open(path) as handle:
        parquet = pq.ParquetFile(handle)
        for batch in parquet.iter_batches(batch_size=65_536):
            yield pa.Table.from_batches([batch])


def _route(fn: PartitionFn, names: list[str]) -> Any:
    def route(table: pa.Table) -> Iterator[tuple[int, pa.Table]]:
        import pyarrow as pa

        for batch in table.to_batches():
            indexes = check_indexes(fn(batch), batch.num_rows, names)
            for position in range(len(names)):
                mask = indexes == position
                if mask.any():
                    yield position, pa.Table.from_batches([batch.filter(mask)])

    return route


def _save_result(result: Any, target: str) -> None:
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.create(target) as handle:
        handle.write(pickle.dumps(result))


def _drop_empty_shards(output: str, splits: Sequence[str]) -> None:
    """Beam writes one empty shard for an empty collection; an empty split has no shards instead."""
    import pyarrow.parquet as pq

    for split in splits:
        folder = os.path.join(output, split)
        for name in os.listdir(folder) if os.path.isdir(folder) else []:
            path = os.path.join(folder, name)
            if name.endswith(".parquet") and pq.ParquetFile(path).metadata.num_rows == 0:
                os.remove(path)
