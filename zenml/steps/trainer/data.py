"""What a trainer trains on: the transformed splits as arrays, and the task contract of their label."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zenml.artifacts.dataset import Dataset
from zenml.exceptions import ConfigError
from zenml.steps.preprocessor.base import Transform
from zenml.steps.task import ANY_CLASSIFICATION, CLASSIFICATION, resolve_task, task_of_classes, values_task

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


@dataclass
class TrainingData:
    """Features and labels of each split as NumPy arrays (float32 features).

    Attributes:
        features: the feature column names, in matrix column order.
        label: the label column.
        task: ``binary``, ``multiclass`` or ``regression`` (see ``zenml.steps.task``).
        classes: class names for classification (index = encoded label), else ``None``.
        arrays: split → ``(X, y)``; ``y`` holds class indexes (int64) or values (float32).
        note: why the task may not be what a user expects (e.g. too many integer values), or ``None``.
    """

    features: list[str]
    label: str
    task: str
    classes: list[str] | None
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    note: str | None = None

    @property
    def n_features(self) -> int:
        """Width of the feature matrix."""
        return len(self.features)

    @property
    def n_outputs(self) -> int:
        """Output units the task needs by default: 1 (binary, regression) or the class count."""
        return len(self.classes or []) if self.task == "multiclass" else 1

    @classmethod
    def load(
        cls,
        data: Dataset,
        transform: Transform,
        splits: list[str],
        label: str | None = None,
        hints: Mapping[str, str] | str | None = None,
        owner: str = "the trainer",
    ) -> TrainingData:
        """Read ``splits`` of ``data`` into arrays, with the label's task resolved.

        The label's default task is the one the transform recorded (or, for transforms that
        record none, the one its values imply); ``hints`` (``{"task='binary'": "binary"}``, or one
        task name) override it. Class labels become indexes into ``classes``.

        Raises:
            ConfigError: no label, the label column is missing, a split is missing, or the hints
                contradict each other or the label.
        """
        chosen, plan = _label_plan(data, transform, label)
        features = [name for name in data.column_names if name not in transform["state"].get("labels", [])]
        for split in splits:
            if split not in data.splits:
                raise ConfigError(f"split_mapping names split '{split}', but the data has {', '.join(data.splits)}")
        tables = {split: data.to_table(split) for split in splits}
        default = _default_task(plan, tables[splits[0]].column(chosen) if splits else None)
        given = {"task": hints} if isinstance(hints, str) else dict(hints or {})
        task = resolve_task(default["task"], default["classes"], given, chosen, owner)
        classes = default["classes"] if task in CLASSIFICATION and default["task"] in CLASSIFICATION else None
        if task in (*CLASSIFICATION, ANY_CLASSIFICATION) and classes is None:
            task, classes = _classes_from_values(tables, chosen, given, owner)
        elif task == "multiclass" and default["task"] == "binary":
            classes = default["classes"]  # a two-class softmax
        training = cls(features=features, label=chosen, task=task, classes=classes,
                       note=default["note"] if not given and task == default["task"] else None)
        for split, table in tables.items():
            training.arrays[split] = (_feature_matrix(table, features), training._labels(table, plan, split))
        return training

    def _labels(self, table: pa.Table, plan: Mapping[str, Any], split: str) -> np.ndarray:
        """The label column as class indexes (classification) or float32 values (regression)."""
        import numpy as np

        values: np.ndarray = table.column(self.label).to_numpy(zero_copy_only=False)
        categorical = plan.get("kind") == "categorical"
        if self.task == "regression":
            if categorical:  # numeric-looking class names regressed on: back to their values
                return np.asarray([float(plan["vocabulary"][int(i)]) for i in values], np.float32)
            return np.array(values, np.float32)
        if categorical:
            return np.array(values, np.int64)
        numbers = np.asarray(values, np.float64)
        known = np.asarray([float(c) if c not in ("False", "True") else float(c == "True")
                            for c in self.classes or []])
        index = np.clip(np.searchsorted(known, numbers), 0, max(len(known) - 1, 0))
        unknown = known[index] != numbers if len(known) else np.ones(len(numbers), bool)
        if unknown.any():
            raise ConfigError(
                f"label '{self.label}' has the value {numbers[unknown][0]:g} in split '{split}', which is not "
                f"one of the classes {', '.join(self.classes or [])} seen in training"
            )
        return index.astype(np.int64)


def _label_plan(data: Dataset, transform: Transform, label: str | None) -> tuple[str, dict[str, Any]]:
    state = transform["state"]
    labels = list(state.get("labels", []))
    chosen = label or (labels[0] if labels else None)
    if chosen is None:
        raise ConfigError(
            "the transform has no label column; give the preprocessor labels=[...] (trainers learn to predict a label)"
        )
    if chosen not in data.column_names:
        raise ConfigError(
            f"label column '{chosen}' is missing after preprocessing; columns are {', '.join(data.column_names)}"
        )
    return chosen, dict(state.get("columns", {}).get(chosen, {}))


def _default_task(plan: Mapping[str, Any], values: pa.ChunkedArray | None) -> dict[str, Any]:
    """The task the transform recorded for the label, else the one its (training) values imply."""
    import numpy as np

    if plan.get("kind") == "categorical":
        classes = [str(value) for value in plan.get("vocabulary", [])]
        return {"task": plan.get("task") or task_of_classes(len(classes)), "classes": classes, "note": None}
    if plan.get("task"):
        return {"task": plan["task"], "classes": plan.get("classes"), "note": plan.get("task_note")}
    if plan.get("kind") == "boolean":
        return {"task": "binary", "classes": ["False", "True"], "note": None}
    if values is None:
        return {"task": "regression", "classes": None, "note": None}
    return values_task(np.asarray(values.to_numpy(zero_copy_only=False)))


def _classes_from_values(
    tables: Mapping[str, pa.Table], label: str, hints: Mapping[str, str], owner: str
) -> tuple[str, list[str]]:
    """Classes of a label its default calls continuous, for a trainer that asks for classification.

    Raises:
        ConfigError: the label's values are not integers (a continuous label has no classes).
    """
    import numpy as np

    values = np.unique(np.concatenate([np.asarray(t.column(label).to_numpy(zero_copy_only=False), np.float64)
                                       for t in tables.values()]))
    values = values[~np.isnan(values)]
    source = next(iter(hints), "the trainer")
    if not np.all(np.equal(np.mod(values, 1), 0)):
        examples = ", ".join(f"{v:g}" for v in values[:3])
        raise ConfigError(
            f"{owner}: {source} asks for classification, but label '{label}' is continuous (values like "
            f"{examples}, …); drop {source} to train a regression, or bin the label into classes first"
        )
    classes = [str(int(v)) for v in values]
    chosen = hints.get(source, ANY_CLASSIFICATION)
    task = task_of_classes(len(classes)) if chosen == ANY_CLASSIFICATION else chosen
    if task == "binary" and len(classes) > 2:
        raise ConfigError(
            f"{owner}: {source} asks for binary, but label '{label}' has {len(classes)} integer values; "
            "use task='multiclass' (or last_activation='softmax')"
        )
    return task, classes


def _feature_matrix(table: pa.Table, features: list[str]) -> np.ndarray:
    import numpy as np

    if not features:
        return np.zeros((table.num_rows, 0), np.float32)
    matrix: np.ndarray = np.column_stack([table.column(name).to_numpy(zero_copy_only=False).astype(np.float32)
                              for name in features])
    filled: np.ndarray = np.nan_to_num(matrix)
    return filled
