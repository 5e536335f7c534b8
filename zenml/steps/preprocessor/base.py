"""``BasePreprocessorStep``: analyze on the training split only, then transform every split.

The fitted state is a JSON-able ``Transform`` artifact that re-applies the same preprocessing
to new data (batch inference), on any processing backend.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

from zenml.artifacts.dataset import Dataset
from zenml.artifacts.materializers import ArtifactFolder, JSONMaterializer, register_materializer
from zenml.exceptions import ConfigError
from zenml.steps.base import BaseStep
from zenml.steps.context import StepContext
from zenml.utils.deprecation import moved_attribute as _moved_attribute

if TYPE_CHECKING:
    import pyarrow as pa

    from zenml.backends.processing.base import Combiner


class Transform(dict[str, Any]):
    """A fitted preprocessing: ``{"preprocessor": {"type", "params"}, "state": {...}}``.

    ``apply(batch)`` rebuilds the preprocessor from its config and transforms one record batch;
    ``apply_to(processing, dataset, output)`` transforms a whole dataset.
    """

    @cached_property
    def preprocessor(self) -> BasePreprocessorStep:
        """The preprocessor that was fitted (rebuilt from its type and parameters)."""
        step = BaseStep.from_config(self["preprocessor"])
        if not isinstance(step, BasePreprocessorStep):
            raise ConfigError(f"transform names {self['preprocessor']['type']}, which is not a PreprocessorStep")
        return step

    def apply(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Transform one record batch with the fitted state."""
        return self.preprocessor.transform_batch(batch, self["state"])

    def apply_to(self, processing: Any, dataset: Dataset, output: str) -> Dataset:
        """Transform every split of ``dataset`` on a processing backend."""
        missing = [column for column in self.input_columns() if column not in dataset.column_names]
        if missing:
            raise ConfigError(
                f"the data lacks column '{missing[0]}' that the transform was fitted on; "
                f"available columns: {', '.join(dataset.column_names)}"
            )
        return processing.map_batches(dataset, self.apply, output)  # type: ignore[no-any-return]

    def input_columns(self) -> list[str]:
        """Columns the transform reads."""
        return list(self["state"].get("inputs", []))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Transform, (dict(self),))


@register_materializer
class TransformMaterializer(JSONMaterializer):
    """Transforms as JSON, read back as ``Transform`` objects."""

    format = "transform"
    type_names = ("zenml.steps.preprocessor.base.Transform",)

    def load(self, folder: ArtifactFolder) -> Any:
        """The stored transform."""
        return Transform(super().load(folder))


class PreprocessOutput(NamedTuple):
    """The transformed splits and the fitted transform."""

    data: Dataset
    transform: Transform


class BasePreprocessorStep(BaseStep):
    """Fit on the training split(s), transform all splits.

    Subclasses give an ``analyzer`` (a combiner whose result is the JSON-able fitted state) and
    ``transform_batch``; or override ``fit`` when fitting needs more than one pass.

    Examples:
        >>> import pyarrow as pa, pyarrow.compute as pc
        >>> class Centre(BasePreprocessorStep):
        ...     def __init__(self, column: str = "x"):
        ...         self.column = column
        ...     def analyzer(self, schema):
        ...         return MeanCombiner(self.column)   # create/add/merge/extract → {"mean": m}
        ...     def transform_batch(self, batch, state):
        ...         centred = pc.subtract(batch.column(self.column).cast("float64"), state["mean"])
        ...         return pa.RecordBatch.from_arrays([centred], names=[self.column])
    """

    def fit_splits(self, data: Dataset) -> list[str]:
        """The splits statistics are fitted on: ``train`` (never eval or test, so nothing leaks)."""
        if "train" not in data.splits:
            raise ConfigError(
                f"{type(self).__name__} fits on the 'train' split, but the data has splits "
                f"{', '.join(data.splits)}; split the data first or override fit_splits()"
            )
        return ["train"]

    @abc.abstractmethod
    def analyzer(self, schema: pa.Schema) -> Combiner:
        """The combiner that analyzes the training split (its result is, or feeds, the fitted state)."""

    @abc.abstractmethod
    def transform_batch(self, batch: pa.RecordBatch, state: dict[str, Any]) -> pa.RecordBatch:
        """Transform one batch with the fitted ``state`` (must also accept an empty batch)."""

    def transform_features(self, batch: pa.RecordBatch, state: dict[str, Any]) -> pa.RecordBatch:
        """Transform new data that may lack the label columns (batch inference).

        The default transforms the batch as it is; preprocessors with labels override it.
        """
        return self.transform_batch(batch, state)

    def inverse_batch(self, batch: pa.RecordBatch, state: dict[str, Any]) -> pa.RecordBatch:
        """Raw values back from transformed features, for readable prediction columns.

        The default returns the batch unchanged (the transformed values); preprocessors that can
        invert their transform override it.
        """
        return batch

    def fit(self, processing: Any, data: Dataset, splits: Sequence[str]) -> dict[str, Any]:
        """Fit the JSON-able state on ``splits`` (default: one ``analyzer`` pass; override for more passes)."""
        state: dict[str, Any] = processing.aggregate(data, self.analyzer(data.schema), splits=list(splits))
        return state

    def process(self, data: Dataset, context: StepContext) -> PreprocessOutput:
        """Fit on the training split, then transform every split."""
        state = self.fit(context.processing, data, self.fit_splits(data))
        transform = Transform({"preprocessor": self.to_config(), "state": state})
        return PreprocessOutput(
            transform.apply_to(context.processing, data, context.new_path("transformed")), transform
        )


#: renamed by the Base<Role> convention for extension points (docs/contributing/naming.md); one release
_RENAMED = {"PreprocessorStep": "zenml.steps.preprocessor.base.BasePreprocessorStep"}


def __getattr__(name: str) -> Any:
    return _moved_attribute(__name__, name, _RENAMED)
