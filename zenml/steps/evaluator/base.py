"""``EvaluatorStep``: model-agnostic metrics from a trainer's ``predictions``, overall and per slice."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from zenml.artifacts.dataset import Dataset
from zenml.artifacts.materializers import ArtifactFolder, JSONMaterializer, register_materializer
from zenml.exceptions import ConfigError
from zenml.steps.base import BaseStep
from zenml.steps.context import Metrics, StepContext
from zenml.steps.task import ANY_CLASSIFICATION, CLASSIFICATION, TASK_KEY, TASKS, TRAINER_KEY

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MAX_SLICE_VALUES = 20
NUMERIC_SLICE_BINS = 5


class EvaluationReport(dict[str, Any]):
    """``{"primary": split, "splits": {split: {"rows", "metrics", "slices", "confusion_matrix" | "residuals"}}}``."""


@register_materializer
class EvaluationReportMaterializer(JSONMaterializer):
    """Evaluation reports as JSON, read back as ``EvaluationReport`` objects."""

    format = "evaluation"
    type_names = ("zenml.steps.evaluator.base.EvaluationReport",)

    def load(self, folder: ArtifactFolder) -> Any:
        """The stored report."""
        return EvaluationReport(super().load(folder))


class EvaluationOutput(NamedTuple):
    """Metrics of the primary split (also logged as the step's metrics) and the full report."""

    metrics: Metrics
    report: EvaluationReport


class EvaluatorStep(BaseStep):
    """Computes metrics on each predicted split (``eval`` first), overall and per slice value.

    Subclasses implement ``compute(frame)`` (metric name → value for one group of rows) and may
    add split-level extras with ``extras(frame)`` (confusion matrix, residuals). The primary
    split's metrics are logged under plain names (``accuracy``); other splits as ``test_accuracy``.
    """

    #: the metric names ``compute`` understands (checked against the ``metrics`` parameter)
    known_metrics: ClassVar[tuple[str, ...]] = ()
    #: the trainer tasks whose predictions this evaluator scores (``zenml.steps.task``)
    tasks: ClassVar[tuple[str, ...]] = TASKS
    #: the evaluator for the other tasks, named in refusals
    other_evaluator: ClassVar[str] = ""

    def check_producers(self, producers: Mapping[str, tuple[str, BaseStep, str]]) -> None:
        """At compile time: refuse a trainer whose parameters already fix a task this evaluator cannot score."""
        if "predictions" not in producers:
            return
        name, producer, _output = producers["predictions"]
        hint = getattr(producer, "task_hint", None)
        task = hint() if callable(hint) else None
        if task is not None:
            self.check_task(task, f"trainer '{name}' ({type(producer).__name__})")

    def check_task(self, task: str, trainer: str) -> None:
        """Refuse predictions of a task this evaluator cannot score, naming the trainer and the fix.

        Raises:
            ConfigError: ``task`` is not one of ``tasks``.
        """
        # a classifier whose class count the label decides later is still a classification
        if set(CLASSIFICATION if task == ANY_CLASSIFICATION else (task,)) & set(self.tasks):
            return
        other = "task='binary' or task='multiclass'" if task == "regression" else "task='regression'"
        raise ConfigError(
            f"{type(self).__name__} cannot score the predictions of {trainer}, "
            f"whose task is {task}; use {self.other_evaluator} for them, or give the trainer {other}"
        )

    def check_params(self, params: dict[str, object]) -> None:
        """Metric names must be ones this evaluator computes."""
        super().check_params(params)
        for name in params.get("metrics") or []:  # type: ignore[attr-defined]
            if name not in self.known_metrics:
                raise ConfigError(f"{type(self).__name__} metric '{name}' is unknown; use one of "
                                  f"{', '.join(self.known_metrics)}")

    def label_column(self, frame: pd.DataFrame) -> str:
        """The label column: the ``label`` parameter, else the trainer's (the first column)."""
        label = getattr(self, "label", "") or str(frame.columns[0])
        if label not in frame.columns:
            raise ConfigError(
                f"{type(self).__name__}: label column '{label}' is not in the predictions; "
                f"columns: {', '.join(map(str, frame.columns))}"
            )
        return label

    @abc.abstractmethod
    def compute(self, frame: pd.DataFrame, label: str) -> dict[str, float]:
        """Metrics for the rows of ``frame`` (columns: label, ``prediction``, ``score``, ``proba_*``)."""

    def extras(self, frame: pd.DataFrame, label: str) -> dict[str, Any]:
        """Split-level extras added to the report (default: none)."""
        return {}

    def process(self, predictions: Dataset, context: StepContext) -> EvaluationOutput:
        """Evaluate every split of the predictions."""
        if not predictions.splits:
            raise ConfigError("the trainer wrote no predictions; map a split to 'predict' in split_mapping")
        self._check_predictions(predictions)
        primary = "eval" if "eval" in predictions.splits else predictions.splits[0]
        report = EvaluationReport({"primary": primary, "splits": {}})
        metrics = Metrics()
        for split in predictions.splits:
            frame = predictions.to_pandas(split)
            if frame.empty:
                continue
            label = self.label_column(frame)
            overall = self.compute(frame, label)
            report["splits"][split] = {
                "rows": len(frame),
                "metrics": overall,
                "slices": self._slices(frame, label),
                **self.extras(frame, label),
            }
            prefix = "" if split == primary else f"{split}_"
            metrics.update({f"{prefix}{name}": value for name, value in overall.items() if _finite(value)})
        return EvaluationOutput(metrics, EvaluationReport(_json_safe(report)))

    def _check_predictions(self, predictions: Dataset) -> None:
        """At run time: the task the trainer recorded in its predictions must be one this evaluator scores."""
        metadata = predictions.schema.metadata or {}
        task = metadata.get(TASK_KEY, b"").decode()
        if task:
            trainer = metadata.get(TRAINER_KEY, b"").decode()
            self.check_task(task, f"the trainer {trainer}".rstrip())

    def _slices(self, frame: pd.DataFrame, label: str) -> dict[str, dict[str, dict[str, float]]]:
        result: dict[str, dict[str, dict[str, float]]] = {}
        for column in getattr(self, "slices", None) or []:
            if column not in frame.columns:
                raise ConfigError(
                    f"slice column '{column}' is not in the predictions; columns: {', '.join(map(str, frame.columns))}"
                )
            groups = slice_groups(frame[column])
            result[column] = {
                str(value): {"count": float(len(rows)), **self.compute(rows, label)}
                for value, rows in frame.groupby(groups, sort=True, observed=True)
            }
        return result


def slice_groups(values: pd.Series) -> pd.Series:
    """Group keys for slicing: the values themselves, or quantile bins for many-valued numbers."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(values) and values.nunique() > MAX_SLICE_VALUES:
        return pd.qcut(values, NUMERIC_SLICE_BINS, duplicates="drop").astype(str)
    return values.astype(str)


def _json_safe(value: Any) -> Any:
    """Undefined metrics (NaN, e.g. AUC of a one-class slice) become ``None`` in the report."""
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    if isinstance(value, float) and not _finite(value):
        return None
    return value


def _finite(value: float) -> bool:
    import math

    return isinstance(value, (int, float)) and math.isfinite(value)


def as_classes(values: Any, column: str, evaluator: str) -> np.ndarray:
    """Class indexes from a column, refusing non-integer values (never truncated or rounded into classes).

    Raises:
        ConfigError: the column holds values that are not whole numbers (regression output).
    """
    import numpy as np

    array = np.asarray(values)
    if array.dtype.kind in "iub":
        return array.astype(np.int64)
    numbers = array.astype(np.float64)
    whole = np.isfinite(numbers) & (numbers == np.round(numbers))
    if not whole.all():
        raise ConfigError(
            f"{evaluator}: column '{column}' holds non-integer values (e.g. {numbers[~whole][0]:g}), which are "
            "regression output, not classes; use RegressionEvaluator, or train with task='binary' or 'multiclass'"
        )
    return numbers.astype(np.int64)


def as_array(values: Any) -> np.ndarray:
    """A pandas column as a NumPy array."""
    import numpy as np

    return np.asarray(values)
