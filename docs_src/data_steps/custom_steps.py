"""Writing your own split and preprocessor: override one or two methods; both backends run them."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zenml.backends.processing import BeamProcessing, LocalProcessing
from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.preprocessor import PreprocessorStep
from zenml.steps.split import SplitStep


class ThresholdSplit(SplitStep):
    """Rows with ``column`` below ``threshold`` train; the rest evaluate."""

    def __init__(self, column: str = "area", threshold: float = 120.0):
        self.column = column
        self.threshold = threshold

    def split_names(self) -> list[str]:
        return ["train", "eval"]

    def required_columns(self) -> list[str]:
        return [self.column]

    def partition_fn(self, batch: pa.RecordBatch) -> np.ndarray:
        values = pc.fill_null(batch.column(self.column).cast(pa.float64()), 0.0).to_numpy(zero_copy_only=False)
        return (values >= self.threshold).astype(np.int64)


class MaxCombiner:
    """Folds batches into the largest value of one column (create/add/merge/extract)."""

    def __init__(self, column: str):
        self.column = column

    def create(self) -> float:
        return 0.0

    def add(self, accumulator: float, batch: pa.RecordBatch) -> float:
        largest = pc.max(batch.column(self.column)).as_py()
        return max(accumulator, largest or 0.0)

    def merge(self, accumulators: list[float]) -> float:
        return max(accumulators)

    def extract(self, accumulator: float) -> dict[str, float]:
        return {"max": accumulator}


class ScaleToMax(PreprocessorStep):
    """Divides ``column`` by its maximum on the training split; other columns pass through."""

    def __init__(self, column: str = "area"):
        self.column = column

    def analyzer(self, schema: pa.Schema) -> MaxCombiner:
        return MaxCombiner(self.column)

    def transform_batch(self, batch: pa.RecordBatch, state: dict) -> pa.RecordBatch:
        scaled = pc.divide(pc.fill_null(batch.column(self.column).cast(pa.float64()), 0.0), state["max"])
        return batch.set_column(batch.schema.get_field_index(self.column), self.column, scaled)


def build() -> SimplePipeline:
    pipe = SimplePipeline(name="custom_data_steps")
    pipe.add_datasource(CSVDatasource(path="houses.csv", schema={"garden": "bool"}))
    pipe.add_split(ThresholdSplit(threshold=120.0))
    pipe.add_preprocessor(ScaleToMax(column="area"))
    return pipe


if __name__ == "__main__":
    results = {}
    for backend in (LocalProcessing(), BeamProcessing(runner="DirectRunner")):
        run = build().run(processing=backend)
        data = run.steps["preprocessor"].outputs["data"].read()
        results[type(backend).__name__] = sorted(data.to_pandas("eval")["area"].round(9).tolist())
    print("same results on both backends:", results["LocalProcessing"] == results["BeamProcessing"])
    print("largest scaled training area:", max(build().run().steps["preprocessor"].outputs["data"].read()
                                               .to_pandas("train")["area"]))
