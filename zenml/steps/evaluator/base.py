"""``BaseEvaluatorStep``: model-agnostic metrics from a trainer's ``predictions``, overall and per slice."""

from __future__ import annotations

import abc
import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from zenml.artifacts.dataset import Dataset
from zenml.artifacts.materializers import ArtifactFolder, JSONMaterializer, register_materializer
from zenml.exceptions import ConfigError
from zenml.steps.base import BaseStep
from zenml.steps.context import Metrics, StepContext
from zenml.steps.task import ANY_CLASSIFICATION, CLASSES_KEY, CLASSIFICATION, TASK_KEY, TASKS, TRAINER_KEY
from zenml.utils.deprecation import moved_attribute as _moved_attribute

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


class BaseEvaluatorStep(BaseStep):
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
                raise ConfigError(
                    f"{type(self).__name__} metric '{name}' is unknown; use one of {', '.join(self.known_metrics)}"
                )

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
        classes = prediction_classes(predictions)
        for split in predictions.splits:
            frame = predictions.to_pandas(split)
            if frame.empty:
                continue
            frame.attrs["classes"] = classes  # for extras: a confusion matrix names the classes
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


def prediction_classes(predictions: Dataset) -> list[str] | None:
    """The class names a trainer recorded with its predictions (index = encoded class), if any."""
    import json

    raw = (predictions.schema.metadata or {}).get(CLASSES_KEY)
    names = json.loads(raw) if raw else None
    return [str(name) for name in names] if isinstance(names, list) else None


def slice_groups(values: pd.Series) -> pd.Series:
    """Group keys for slicing: the values themselves, or quantile bins for many-valued numbers.

    Numbers are written readably (features come back from float32, so ``2.200000036419508`` is
    ``2.2``); bins are ``[low, high)`` (the last ``[low, max]``) with edges rounded to the fewest
    significant digits that keep them apart, and come in ascending order.
    """
    import pandas as pd

    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return values.astype(str)
    if values.nunique() <= MAX_SLICE_VALUES:
        order = sorted(values.dropna().unique())
        return pd.Series(pd.Categorical(values.map(number_label), [number_label(v) for v in order]), values.index)
    return _numeric_bins(values)


def _numeric_bins(values: pd.Series) -> pd.Series:
    import numpy as np
    import pandas as pd

    present = values.dropna().to_numpy(np.float64)
    inner = np.unique(np.quantile(present, np.linspace(0, 1, NUMERIC_SLICE_BINS + 1)[1:-1]))
    span = float(present.max() - present.min())
    edges = [e for e in _round_apart(inner.tolist(), span) if present.min() < e <= present.max()]
    bounds = [float(present.min()), *edges, float(present.max())]
    labels = [
        f"[{number_label(low)}, {number_label(high)}{']' if i == len(bounds) - 2 else ')'}"
        for i, (low, high) in enumerate(itertools.pairwise(bounds))
    ]
    index = np.digitize(values.to_numpy(np.float64), np.asarray(edges, np.float64), right=False)
    keys = [labels[i] if not np.isnan(v) else None for i, v in zip(index, values.to_numpy(np.float64), strict=True)]
    return pd.Series(pd.Categorical(keys, labels), values.index)


def _round_apart(edges: list[float], span: float) -> list[float]:
    """Edges to the fewest significant digits (2 to 7) that keep them in order, each moved by under 2 % of the span."""
    for digits in range(2, 8):
        rounded = [float(f"{edge:.{digits}g}") for edge in edges]
        ordered = all(a < b for a, b in itertools.pairwise(rounded))
        if ordered and all(abs(r - e) <= 0.02 * span for r, e in zip(rounded, edges, strict=True)):
            return rounded
    return [float(edge) for edge in edges]


def number_label(value: float) -> str:
    """A number as a slice key: integers without ``.0``, others to 6 significant digits (float32 noise gone)."""
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:.6g}"


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


#: renamed by the Base<Role> convention for extension points (docs/contributing/naming.md); one release
_RENAMED = {"EvaluatorStep": "zenml.steps.evaluator.base.BaseEvaluatorStep"}


def __getattr__(name: str) -> Any:
    return _moved_attribute(__name__, name, _RENAMED)
