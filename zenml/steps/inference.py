"""Batch inference: apply a stored run's fitted transform and model to new data.

``BatchInferrer`` is the step; ``BatchInferencePipeline(model_run=…, datasource=…)`` wires it to a
datasource and to the ``transform`` and ``model`` artifacts of an earlier training run, which are
recorded as its inputs, so the predictions' lineage leads back to the training run.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from zenml.artifacts.dataset import Dataset
from zenml.steps.base import BaseStep
from zenml.steps.context import StepContext
from zenml.steps.preprocessor.base import Transform
from zenml.steps.task import CLASSES_KEY, TASK_KEY
from zenml.steps.trainer.base import TrainedModel

if TYPE_CHECKING:
    import pyarrow as pa


class _Predict:
    """Picklable batch function: transform the raw batch, predict, keep the raw columns."""

    def __init__(self, transform: Transform, model_path: str, model_loader: str, keep: list[str]) -> None:
        self.transform = transform
        self.model_path = model_path
        self.model_loader = model_loader
        self.keep = keep
        self._model: TrainedModel | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_model": None}

    def model(self) -> TrainedModel:
        if self._model is None:
            from zenml.utils.importing import import_object

            self._model = import_object(self.model_loader)(self.model_path)
        return self._model

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        import pyarrow as pa

        transformed = self.transform.preprocessor.transform_features(batch, self.transform["state"])
        outputs = self.model().predict(transformed)
        columns = {name: batch.column(name) for name in self.keep if name in batch.schema.names}
        columns.update({name: pa.array(values) for name, values in outputs.items()})
        meta = self.model().meta
        # the task the model was trained for travels with its predictions (evaluators read it)
        metadata = {TASK_KEY: str(meta.get("task", "")).encode(), CLASSES_KEY: json.dumps(meta.get("classes")).encode()}
        return pa.RecordBatch.from_pydict(columns, metadata=metadata)


class BatchInferrer(BaseStep):
    """Predicts new data with a fitted transform and a trained model.

    The output keeps the new data's columns (all, or ``keep``) next to ``prediction``, ``score``
    and, for multi-class models, ``proba_<i>``; the model's task and classes are recorded in its
    schema metadata (``zenml.task``, ``zenml.classes``). Label columns in the new data are not needed.

    Args:
        keep: raw columns to copy into the predictions (default: all of them).
    """

    def __init__(self, keep: list[str] | None = None) -> None:
        self.keep = keep

    def process(self, data: Dataset, transform: Transform, model: TrainedModel, context: StepContext) -> Dataset:
        """Run the prediction over every split of ``data`` on the processing backend."""
        from zenml.utils.importing import qualified_name

        keep = list(self.keep) if self.keep is not None else data.column_names
        function = _Predict(transform, model.path, qualified_name(type(model)), keep)
        return context.processing.map_batches(data, function, context.new_path("predictions"))  # type: ignore[no-any-return]
