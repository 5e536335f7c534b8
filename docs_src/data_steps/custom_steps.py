"""Writing your own split and preprocessor: override one or two methods; every backend runs them."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zenml.backends.processing import BeamProcessing, LocalProcessing, SparkProcessing
from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.preprocessor import BasePreprocessorStep
from zenml.steps.split import BaseSplitStep


class ThresholdSplit(BaseSplitStep):
    """Rows with ``column`` below ``threshold`` train; the rest evaluate."""

    def __init__(self, column: str = "area", threshold: float = 120.0):
        self.column = column
        self.threshold = threshold

    def split_names(self) -> list[str]:
        """The splits this step produces, in index order."""
        return ["train", "eval"]

    def required_columns(self) -> list[str]:
        """Columns the data must have (checked before the run is recorded)."""
        return [self.column]

    def partition_fn(self, batch: pa.RecordBatch) -> np.ndarray:
        """One split index per row: 0 (train) below the threshold, 1 (eval) from it on."""
        values = pc.fill_null(batch.column(self.column).cast(pa.float64()), 0.0).to_numpy(zero_copy_only=False)
        return (values >= self.threshold).astype(np.int64)


class MaxCombiner:
    """Folds batches into the largest value of one column (create/add/merge/extract)."""

    def __init__(self, column: str):
        self.column = column

    def create(self) -> float:
        """A new, empty accumulator."""
        return 0.0

    def add(self, accumulator: float, batch: pa.RecordBatch) -> float:
        """Fold one batch into the accumulator."""
        largest = pc.max(batch.column(self.column)).as_py()
        return max(accumulator, largest or 0.0)

    def merge(self, accumulators: list[float]) -> float:
        """Combine accumulators built on different workers."""
        return max(accumulators)

    def extract(self, accumulator: float) -> dict[str, float]:
        """The fitted state handed to ``transform_batch``."""
        return {"max": accumulator}


class ScaleToMax(BasePreprocessorStep):
    """Divides ``column`` by its maximum on the training split; other columns pass through."""

    def __init__(self, column: str = "area"):
        self.column = column

    def analyzer(self, schema: pa.Schema) -> MaxCombiner:
        """The combiner fitted on the training split."""
        return MaxCombiner(self.column)

    def transform_batch(self, batch: pa.RecordBatch, state: dict) -> pa.RecordBatch:
        """Apply the fitted state to one batch of any split."""
        scaled = pc.divide(pc.fill_null(batch.column(self.column).cast(pa.float64()), 0.0), state["max"])
        return batch.set_column(batch.schema.get_field_index(self.column), self.column, scaled)


def build() -> SimplePipeline:
    """CSV → threshold split → scale to the training maximum."""
    pipe = SimplePipeline(name="custom_data_steps")
    pipe.add_datasource(CSVDatasource(path="houses.csv", schema={"garden": "bool"}))
    pipe.add_split(ThresholdSplit(threshold=120.0))
    pipe.add_preprocessor(ScaleToMax(column="area"))
    return pipe


if __name__ == "__main__":
    results = {}
    for backend in (LocalProcessing(), BeamProcessing(runner="DirectRunner"), SparkProcessing(master="local[2]")):
        # without the cache: backends are not part of the cache key, so each would reuse the first run
        run = build().run(processing=backend, enable_cache=False)
        data = run.steps["preprocessor"].outputs["data"].read()
        results[type(backend).__name__] = sorted(data.to_pandas("eval")["area"].round(9).tolist())
    print("same results on every backend:", len({str(values) for values in results.values()}) == 1)
    print("largest scaled training area:", max(build().run().steps["preprocessor"].outputs["data"].read()
                                               .to_pandas("train")["area"]))
