"""The task contract: a label is ``binary``, ``multiclass`` or ``regression``, decided once and read downstream.

The default follows scikit-learn's ``type_of_target``: booleans, strings and integer-valued
numbers are classes, non-integer numbers are continuous. One difference is documented: an
integer-valued label with more than ``MAX_CLASSES`` distinct values is ``regression`` (counts,
prices in whole units, the diabetes progression score), and the run says so. The preprocessor
records the label's default task in its fitted state; a trainer's ``task`` parameter, loss or
last activation overrides it (contradictory hints are refused, naming both); the trainer writes
the resolved task into its model and predictions, where evaluators, reports and batch inference
read it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from zenml.exceptions import ConfigError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

TASKS = ("binary", "multiclass", "regression")
CLASSIFICATION = ("binary", "multiclass")
#: a hint that says "some classification" (a scikit-learn classifier) without the class count
ANY_CLASSIFICATION = "classification"
#: an integer-valued label with more distinct values than this is regression by default
MAX_CLASSES = 20
#: where a trainer's predictions dataset records the task (Arrow schema metadata keys)
TASK_KEY = b"zenml.task"
CLASSES_KEY = b"zenml.classes"
TRAINER_KEY = b"zenml.trainer"


def check_task(value: object, owner: str) -> None:
    """Refuse a ``task`` parameter that is not one of ``TASKS``.

    Raises:
        ConfigError: an unknown task name.
    """
    if value is not None and value not in TASKS:
        raise ConfigError(f"{owner} task '{value}' is unknown; use one of {', '.join(TASKS)}")


def task_of_classes(count: int) -> str:
    """``binary`` for at most two classes, else ``multiclass``."""
    return "binary" if count <= 2 else "multiclass"


def numeric_label_task(values: Sequence[float], more: bool, max_classes: int = MAX_CLASSES) -> dict[str, Any]:
    """The default task of a numeric label from its distinct values (at most ``max_classes + 1`` of them).

    Returns ``{"task", "classes", "note"}``: ``classes`` are the integer values as text (sorted)
    for a classification label; ``note`` explains a decision a user may not expect.
    """
    integral = all(math.isfinite(v) and float(v).is_integer() for v in values)
    if not integral:
        return {"task": "regression", "classes": None, "note": None}
    if more or len(values) > max_classes:
        note = (
            f"has more than {max_classes} distinct integer values, so it is treated as a regression target; "
            "give the trainer task='multiclass' to classify it"
        )
        return {"task": "regression", "classes": None, "note": note}
    classes = [str(int(v)) for v in sorted(values)]
    return {"task": task_of_classes(len(classes)), "classes": classes, "note": None}


def values_task(values: np.ndarray, max_classes: int = MAX_CLASSES) -> dict[str, Any]:
    """``numeric_label_task`` (or the classes of a text/boolean label) from an array of label values."""
    import numpy as np

    if values.dtype == np.bool_:
        return {"task": "binary", "classes": ["False", "True"], "note": None}
    if not np.issubdtype(values.dtype, np.number):
        classes = sorted({str(v) for v in values if v is not None})
        return {"task": task_of_classes(len(classes)), "classes": classes, "note": None}
    distinct = np.unique(values[~np.isnan(values.astype(np.float64))].astype(np.float64))
    return numeric_label_task(distinct[: max_classes + 1].tolist(), len(distinct) > max_classes + 1, max_classes)


class DistinctValuesCombiner:
    """Up to ``limit`` distinct values of numeric columns (enough to decide a label's task in one pass)."""

    def __init__(self, columns: Sequence[str], limit: int = MAX_CLASSES + 1) -> None:
        self.columns = list(columns)
        self.limit = limit

    def create(self) -> dict[str, dict[str, Any]]:
        """A fresh accumulator."""
        return {name: {"values": [], "more": False} for name in self.columns}

    def add(self, accumulator: dict[str, dict[str, Any]], batch: pa.RecordBatch) -> dict[str, dict[str, Any]]:
        """Fold one batch in."""
        import numpy as np

        from zenml.steps.columns import as_float

        for name in self.columns:
            values = as_float(batch.column(name))
            self._fold(accumulator[name], np.unique(values[~np.isnan(values)]).tolist())
        return accumulator

    def _fold(self, entry: dict[str, Any], values: Sequence[float]) -> None:
        merged = sorted(set(entry["values"]) | set(values))
        entry["more"] = bool(entry["more"] or len(merged) > self.limit)
        entry["values"] = merged[: self.limit]

    def merge(self, accumulators: Sequence[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
        """Combine partial accumulators."""
        merged = self.create()
        for accumulator in accumulators:
            for name, entry in accumulator.items():
                merged[name]["more"] = bool(merged[name]["more"] or entry["more"])
                self._fold(merged[name], entry["values"])
        return merged

    def extract(self, accumulator: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The result."""
        return accumulator


def resolve_task(
    default: str, classes: Sequence[str] | None, hints: Mapping[str, str], label: str, owner: str
) -> str:
    """The task a trainer trains: its hints (which must agree) over the label's default.

    ``hints`` maps where a hint comes from (``"task='binary'"``, ``"loss='mse'"``) to its task
    (one of ``TASKS`` or ``"classification"``).

    Raises:
        ConfigError: two hints contradict each other, or a hint cannot apply to the label.
    """
    exact = {source: task for source, task in hints.items() if task in TASKS}
    tasks = set(exact.values())
    if len(tasks) > 1:
        items = list(exact.items())
        first = items[0]
        second = next(item for item in items if item[1] != first[1])
        raise ConfigError(
            f"{owner}: {first[0]} asks for {first[1]} but {second[0]} asks for {second[1]}; "
            "give hints that agree (or only task=)"
        )
    loose = [source for source, task in hints.items() if task == ANY_CLASSIFICATION]
    if tasks:
        chosen = tasks.pop()
        if loose and chosen == "regression":
            source = next(s for s, t in exact.items() if t == "regression")
            raise ConfigError(
                f"{owner}: {loose[0]} is a classifier but {source} asks for regression; give hints that agree"
            )
    elif loose:
        chosen = default if default in CLASSIFICATION else ANY_CLASSIFICATION
    else:
        return default
    return _fit_label(chosen, default, classes, hints, label, owner)


def _fit_label(chosen: str, default: str, classes: Sequence[str] | None, hints: Mapping[str, str], label: str,
               owner: str) -> str:
    """Check the chosen task can apply to the label (classes vs a continuous label)."""
    source = next(iter(hints))
    if chosen == "regression" and default in CLASSIFICATION and classes and not _numeric(classes):
        raise ConfigError(
            f"{owner}: {source} asks for regression, but label '{label}' has the classes "
            f"{', '.join(list(classes)[:10])}; use a classification loss or task"
        )
    if chosen == "binary" and classes and len(classes) > 2:
        raise ConfigError(
            f"{owner}: {source} asks for binary, but label '{label}' has {len(classes)} classes "
            f"({', '.join(list(classes)[:10])}); use task='multiclass' (or last_activation='softmax')"
        )
    return chosen


def _numeric(classes: Sequence[str]) -> bool:
    try:
        [float(value) for value in classes]
    except ValueError:
        return False
    return True


def describe(task: str, label: str, classes: Sequence[str] | None) -> str:
    """``binary (label 'target': 0, 1)`` for a run's display."""
    if task == "regression" or not classes:
        return f"{task} (label '{label}')"
    shown = ", ".join(list(classes)[:8]) + (f", … ({len(classes)} classes)" if len(classes) > 8 else "")
    return f"{task} (label '{label}': {shown})"
