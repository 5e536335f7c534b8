"""What a trainer trains on: the transformed splits as arrays, and what the transform says about them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from zenml.artifacts.dataset import Dataset
from zenml.exceptions import ConfigError
from zenml.steps.preprocessor.base import Transform

if TYPE_CHECKING:
    import numpy as np


@dataclass
class TrainingData:
    """Features and labels of each split as NumPy arrays (float32 features).

    Attributes:
        features: the feature column names, in matrix column order.
        label: the label column.
        task: ``binary``, ``multiclass`` or ``regression``.
        classes: class names for classification (index = encoded label), else ``None``.
        arrays: split → ``(X, y)``.
    """

    features: list[str]
    label: str
    task: str
    classes: list[str] | None
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

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
        cls, data: Dataset, transform: Transform, splits: list[str], label: str | None = None, task: str | None = None
    ) -> TrainingData:
        """Read ``splits`` of ``data`` into arrays, after checking the label and features exist.

        ``task`` overrides the task inferred from the transform: a numeric 0/1 label trains as a
        ``binary`` classifier when the trainer's loss says so.

        Raises:
            ConfigError: no label, the label column is missing, or a split is missing.
        """
        import numpy as np

        state = transform["state"]
        labels = list(state.get("labels", []))
        chosen = label or (labels[0] if labels else None)
        if chosen is None:
            raise ConfigError(
                "the transform has no label column; give the preprocessor labels=[...] "
                "(trainers learn to predict a label)"
            )
        if chosen not in data.column_names:
            raise ConfigError(
                f"label column '{chosen}' is missing after preprocessing; columns are {', '.join(data.column_names)}"
            )
        features = [name for name in data.column_names if name not in labels]
        plan = state["columns"].get(chosen, {})
        classes = [str(value) for value in plan.get("vocabulary", [])] if plan.get("kind") == "categorical" else None
        inferred = "regression" if classes is None else ("binary" if len(classes) <= 2 else "multiclass")
        if task in ("binary", "multiclass") and classes is None:
            values = np.unique(data.to_table(splits[0]).column(chosen).to_numpy(zero_copy_only=False))
            if not np.all(np.equal(np.mod(values, 1), 0)) or values.min() < 0:
                raise ConfigError(
                    f"label '{chosen}' has values {values[:5].tolist()}…, not class indexes 0..k-1; "
                    "encode it as a categorical label or use a regression loss"
                )
            classes = [str(int(v)) for v in range(int(values.max()) + 1)]
        training = cls(features=features, label=chosen, task=task or inferred, classes=classes)
        for split in splits:
            if split not in data.splits:
                raise ConfigError(f"split_mapping names split '{split}', but the data has {', '.join(data.splits)}")
            table = data.to_table(split)
            x = (
                np.column_stack(
                    [table.column(name).to_numpy(zero_copy_only=False).astype(np.float32) for name in features]
                )
                if features
                else np.zeros((table.num_rows, 0), np.float32)
            )
            y = table.column(chosen).to_numpy(zero_copy_only=False)
            # the resolved task, not the hint: a regression label with no task given must stay float
            label_type = np.float32 if training.task == "regression" else np.int64
            training.arrays[split] = (np.nan_to_num(x), y.astype(label_type))
        return training
