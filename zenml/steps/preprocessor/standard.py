"""``StandardPreprocessor``: per column type, fill missing values then scale or encode; labels apart.

Defaults by inferred type: numeric → fill with the mean, then z-score; categorical/string →
vocabulary index (0 is the reserved bucket for unknown and missing values); boolean → 0/1.
Labels are encoded separately: categorical labels → class index (sorted classes), numeric → float;
each label's default task (``zenml.steps.task``) is decided from the training split and recorded.
``overwrite`` changes any column: ``{"age": {"transform": "bucketize", "buckets": 5,
"filling": "median"}}``. Statistics come from the training split only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from zenml.artifacts.dataset import Dataset
from zenml.exceptions import ConfigError
from zenml.steps.columns import (
    HistogramCombiner,
    ProfileCombiner,
    as_text,
    column_quantile,
    kinds_of,
    quantile,
    sorted_vocabulary,
    stray_values,
)
from zenml.steps.preprocessor.base import BasePreprocessorStep
from zenml.steps.task import DistinctValuesCombiner, numeric_label_task, task_of_classes

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

TRANSFORMS = {
    "numeric": ("zscore", "minmax", "none", "bucketize"),
    "categorical": ("vocab", "onehot"),
    "boolean": ("binary",),
}
FILLINGS = ("mean", "median", "min", "max", "zero", "constant", "mode")
OVERWRITE_KEYS = ("transform", "filling", "value", "buckets")
DEFAULTS = {"numeric": ("zscore", "mean"), "categorical": ("vocab", "mode"), "boolean": ("binary", "mode")}


class StandardPreprocessor(BasePreprocessorStep):
    """Fill, scale and encode features by type; encode labels.

    Args:
        features: columns to use as features (default: every column that is not a label).
        labels: label columns (encoded, never scaled; needed by trainers).
        overwrite: column → ``{"transform", "filling", "value", "buckets"}`` overrides.
    """

    def __init__(
        self,
        features: list[str] | None = None,
        labels: list[str] | None = None,
        overwrite: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.features = features
        self.labels = labels
        self.overwrite = overwrite

    def check_params(self, params: dict[str, object]) -> None:
        """Check every ``overwrite`` entry names a known transform, filling and option."""
        super().check_params(params)
        for column, options in (params.get("overwrite") or {}).items():  # type: ignore[attr-defined]
            for key in options:
                if key not in OVERWRITE_KEYS:
                    raise ConfigError(
                        f"overwrite of column '{column}' has unknown key '{key}'; use {', '.join(OVERWRITE_KEYS)}"
                    )
            transform = options.get("transform")
            if transform is not None and not any(transform in names for names in TRANSFORMS.values()):
                valid = sorted({t for names in TRANSFORMS.values() for t in names})
                raise ConfigError(
                    f"overwrite of column '{column}': transform '{transform}' is unknown; use one of {', '.join(valid)}"
                )
            filling = options.get("filling")
            if filling is not None and filling not in FILLINGS:
                raise ConfigError(
                    f"overwrite of column '{column}': filling '{filling}' is unknown; use one of {', '.join(FILLINGS)}"
                )

    # -- fitting ---------------------------------------------------------------------------------

    def _roles(self, data: Dataset) -> tuple[list[str], list[str]]:
        available = data.column_names
        labels = list(self.labels or [])
        features = list(self.features) if self.features is not None else [c for c in available if c not in labels]
        for column in [*labels, *features, *(self.overwrite or {})]:
            if column not in available:
                raise ConfigError(
                    f"StandardPreprocessor: column '{column}' does not exist; available columns: {', '.join(available)}"
                )
        return features, labels

    def analyzer(self, schema: pa.Schema) -> ProfileCombiner:
        """Profile every used column (counts, moments, extremes, category frequencies)."""
        return ProfileCombiner({name: kind for name, kind in kinds_of(schema).items() if kind != "other"})

    def fit(self, processing: Any, data: Dataset, splits: Sequence[str]) -> dict[str, Any]:
        """Profile the training split; a second pass bins columns that need quantiles."""
        features, labels = self._roles(data)
        kinds = kinds_of(data.schema, [*features, *labels])
        unsupported = [name for name, kind in kinds.items() if kind == "other"]
        if unsupported:
            others = f" (nor {', '.join(repr(name) for name in unsupported[1:])})" if unsupported[1:] else ""
            usable = [name for name in features if name not in unsupported]
            raise ConfigError(
                f"StandardPreprocessor cannot encode column '{unsupported[0]}' of type "
                f"{data.schema.field(unsupported[0]).type}{others}; leave it out of features "
                f"(features={usable!r})"
            )
        profile = processing.aggregate(data, self.analyzer(data.schema), splits=list(splits))["columns"]
        self._check_numbers_read_as_text(kinds, profile)
        columns = {name: self._column_plan(name, kinds[name], name in labels) for name in [*features, *labels]}
        needs_bins = {
            name: (profile[name]["min"], profile[name]["max"])
            for name, plan in columns.items()
            if plan["kind"] == "numeric"
            and profile[name]["count"]
            and (plan["transform"] == "bucketize" or plan["filling"] == "median")
        }
        bins = processing.aggregate(data, HistogramCombiner(needs_bins), splits=list(splits)) if needs_bins else {}
        for name, plan in columns.items():
            _fit_column(plan, profile[name], bins.get(name))
        _record_label_tasks(processing, data, splits, columns)
        return {"inputs": [*features, *labels], "features": features, "labels": labels, "columns": columns}

    def _check_numbers_read_as_text(self, kinds: dict[str, str], profile: dict[str, Any]) -> None:
        """Refuse a text column that is numbers but for a few stray values (unless its transform was chosen)."""
        for name, kind in kinds.items():
            if kind != "categorical" or "transform" in (self.overwrite or {}).get(name, {}):
                continue
            strays = stray_values(profile[name]["values"])
            if strays:
                shown = [value for value, _ in strays]
                listed = ", ".join(f"{value!r} ({count} row{'s' if count > 1 else ''})" for value, count in strays)
                raise ConfigError(
                    f"column '{name}' holds numbers but for {listed}, so it was read as text with "
                    f"{len(profile[name]['values'])} categories; fix those values or read them as missing "
                    f"(CSVDatasource(null_values={shown!r})), or keep the column as categories with "
                    f"overwrite={{'{name}': {{'transform': 'vocab'}}}}"
                )

    def _column_plan(self, name: str, kind: str, is_label: bool) -> dict[str, Any]:
        options = dict((self.overwrite or {}).get(name, {}))
        transform, filling = DEFAULTS[kind]
        if is_label:
            transform, filling = ("class_index" if kind != "numeric" else "float"), "none"
        transform = options.get("transform", transform)
        if not is_label and transform not in TRANSFORMS[kind]:
            raise ConfigError(
                f"column '{name}' is {kind}; transform '{transform}' needs another type "
                f"(for {kind}: {', '.join(TRANSFORMS[kind])})"
            )
        return {
            "kind": kind,
            "label": is_label,
            "transform": transform,
            "filling": options.get("filling", filling),
            "value": options.get("value", 0.0),
            "buckets": int(options.get("buckets", 10)),
        }

    # -- transforming ------------------------------------------------------------------------------

    def transform_batch(self, batch: pa.RecordBatch, state: dict[str, Any]) -> pa.RecordBatch:
        """Encode features, then labels, in the fitted column order."""
        import pyarrow as pa

        names: list[str] = []
        arrays: list[pa.Array] = []
        for name in [*state["features"], *state["labels"]]:
            for out_name, array in _encode(name, batch.column(name), state["columns"][name]):
                names.append(out_name)
                arrays.append(array)
        return pa.RecordBatch.from_arrays(arrays, names=names)

    def transform_features(self, batch: pa.RecordBatch, state: dict[str, Any]) -> pa.RecordBatch:
        """Encode only the features (new data for prediction has no labels)."""
        return self.transform_batch(batch, {**state, "labels": []})

    def inverse_batch(self, batch: pa.RecordBatch, state: dict[str, Any]) -> pa.RecordBatch:
        """Raw feature values back from transformed ones (bucketized columns stay bucket numbers).

        Used to put readable slice columns next to predictions.
        """
        import pyarrow as pa

        names: list[str] = []
        arrays: list[pa.Array] = []
        for name in state["features"]:
            array = _decode(name, batch, state["columns"][name])
            if array is not None:
                names.append(name)
                arrays.append(array)
        return pa.RecordBatch.from_arrays(arrays, names=names) if names else pa.RecordBatch.from_pydict({})


def _decode(name: str, batch: pa.RecordBatch, plan: dict[str, Any]) -> pa.Array | None:
    import numpy as np
    import pyarrow as pa

    transform = plan["transform"]
    if transform == "onehot":
        columns = [f"{name}__{value}" for value in plan["vocabulary"]]
        if not all(column in batch.schema.names for column in columns):
            return None
        stacked = np.column_stack([batch.column(column).to_numpy(zero_copy_only=False) for column in columns])
        chosen = stacked.argmax(axis=1)
        return pa.array(
            [plan["vocabulary"][i] if stacked[row, i] > 0 else None for row, i in enumerate(chosen)], pa.string()
        )
    if name not in batch.schema.names:
        return None
    values = np.asarray(batch.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)
    if transform == "vocab":
        vocabulary = plan["vocabulary"]
        return pa.array(
            [vocabulary[int(i) - 1] if 0 < int(i) <= len(vocabulary) else None for i in values], pa.string()
        )
    if transform == "binary":
        return pa.array(values > 0.5)
    if transform == "zscore":
        return pa.array(values * plan["std"] + plan["mean"] if plan["std"] > 0 else np.full(len(values), plan["mean"]))
    if transform == "minmax":
        return pa.array(values * (plan["max"] - plan["min"]) + plan["min"])
    if transform == "bucketize":
        return pa.array(values.astype(np.int64))
    return pa.array(values)


def _fit_column(plan: dict[str, Any], entry: dict[str, Any], counts: list[int] | None) -> None:
    count = entry["count"]
    if plan["kind"] == "numeric":
        mean = entry["sum"] / count if count else 0.0
        variance = max(entry["sumsq"] / count - mean * mean, 0.0) if count else 0.0
        low, high = (entry["min"], entry["max"]) if count else (0.0, 0.0)
        plan.update(mean=mean, std=variance**0.5, min=low, max=high)
        plan["fill"] = _fill_value(plan, entry, counts)
        if plan["transform"] == "bucketize":
            plan["boundaries"] = (
                [quantile(counts or [], low, high, i / plan["buckets"]) for i in range(1, plan["buckets"])]
                if counts
                else []
            )
    elif plan["kind"] == "categorical":
        values = entry["values"]
        plan["vocabulary"] = sorted(values) if plan["label"] else sorted_vocabulary(values)
    elif plan["kind"] == "boolean":
        plan["fill"] = float(entry["true"] * 2 >= count) if plan["filling"] == "mode" else float(plan["value"])
        if plan["label"]:
            plan["transform"] = "float"


def _record_label_tasks(
    processing: Any, data: Dataset, splits: Sequence[str], columns: dict[str, dict[str, Any]]
) -> None:
    """Decide each label's default task once (``zenml.steps.task``) and record it in its plan."""
    numeric = [name for name, plan in columns.items() if plan["label"] and plan["kind"] == "numeric"]
    distinct = (
        processing.aggregate(data, DistinctValuesCombiner(numeric), splits=list(splits)) if numeric else {}
    )
    for name, plan in columns.items():
        if not plan["label"]:
            continue
        decided: dict[str, Any]
        if plan["kind"] == "categorical":
            decided = {"task": task_of_classes(len(plan["vocabulary"])), "classes": None, "note": None}
        elif plan["kind"] == "boolean":
            decided = {"task": "binary", "classes": ["False", "True"], "note": None}
        else:
            decided = numeric_label_task(distinct[name]["values"], distinct[name]["more"])
        plan["task"] = decided["task"]
        if decided["classes"] is not None:
            plan["classes"] = decided["classes"]
        if decided["note"]:
            plan["task_note"] = decided["note"]


def _fill_value(plan: dict[str, Any], entry: dict[str, Any], counts: list[int] | None) -> float:
    filling = plan["filling"]
    if filling == "median":  # a sample value (0 or 1 for a 0/1 column), see zenml.steps.columns
        return column_quantile(entry, counts, 0.5) if entry["count"] else 0.0
    mean, low, high = plan["mean"], plan["min"], plan["max"]
    return float(
        {"mean": mean, "min": low, "max": high, "zero": 0.0, "mode": mean, "constant": plan["value"], "none": 0.0}[
            filling
        ]
    )


def _encode(name: str, array: pa.Array, plan: dict[str, Any]) -> list[tuple[str, pa.Array]]:
    import pyarrow as pa

    if plan["kind"] == "categorical":
        return _encode_categorical(name, array, plan)
    if plan["label"] and plan["kind"] == "numeric":
        return [(name, array.cast(pa.float64()))]
    values = _filled(array, plan["fill"])
    transform = plan["transform"]
    if transform == "zscore":
        values = (values - plan["mean"]) / plan["std"] if plan["std"] > 0 else values * 0.0
    elif transform == "minmax":
        span = plan["max"] - plan["min"]
        values = (values - plan["min"]) / span if span > 0 else values * 0.0
    elif transform == "bucketize":
        import numpy as np

        return [(name, pa.array(np.searchsorted(plan["boundaries"], values, side="right"), pa.int64()))]
    return [(name, pa.array(values, pa.float64()))]


def _filled(array: pa.Array, fill: float) -> np.ndarray:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    filled = pc.fill_null(array.cast(pa.float64()), fill)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=np.float64)


def _encode_categorical(name: str, array: pa.Array, plan: dict[str, Any]) -> list[tuple[str, pa.Array]]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    text = as_text(array)
    vocabulary = plan["vocabulary"]
    positions = pc.index_in(text, value_set=pa.array(vocabulary, pa.string()))
    if plan["label"]:
        unseen = pc.and_(pc.is_null(positions), pc.is_valid(text))
        if pc.any(unseen).as_py():
            example = pc.filter(text, unseen)[0].as_py()
            raise ValueError(
                f"label '{name}' has class {example!r}, unseen in the training split "
                f"(known: {', '.join(map(repr, vocabulary[:10]))})"
            )
        return [(name, positions.cast(pa.int64()))]
    index = np.asarray(pc.fill_null(pc.add(positions.cast(pa.int64()), 1), 0).to_numpy(zero_copy_only=False))
    if plan["transform"] == "vocab":
        return [(name, pa.array(index, pa.int64()))]
    columns = [(f"{name}__unknown", pa.array((index == 0).astype(np.float64)))]
    columns += [
        (f"{name}__{value}", pa.array((index == i + 1).astype(np.float64))) for i, value in enumerate(vocabulary)
    ]
    return columns


class NumericScaling(NamedTuple):
    """The fitted transform of all-numeric features as vectors: ``(x - offset) / scale``, ``x * 0`` where flat.

    ``transform_features`` gives exactly these numbers for rows without nulls (the same float
    operations, column by column), so a server can score a float matrix without Arrow columns.
    """

    features: list[str]
    offset: np.ndarray
    scale: np.ndarray
    flat: np.ndarray

    def apply(self, matrix: np.ndarray) -> np.ndarray:
        """The transformed ``matrix`` (rows by ``features``, float64, no NaN from nulls)."""
        out = (matrix - self.offset) / self.scale
        if self.flat.any():  # a constant training column: the per-column path multiplies by 0.0
            out[:, self.flat] = matrix[:, self.flat] * 0.0
        return out  # type: ignore[no-any-return]


def numeric_scaling(preprocessor: BasePreprocessorStep, state: dict[str, Any]) -> NumericScaling | None:
    """The vector form of a fitted ``StandardPreprocessor`` whose features are all numeric, unbucketized; else None.

    None too for a subclass that changes how features are encoded (its own transform must run).
    """
    import numpy as np

    kind = type(preprocessor)
    if not isinstance(preprocessor, StandardPreprocessor) or any(
        getattr(kind, method) is not getattr(StandardPreprocessor, method)
        for method in ("transform_features", "transform_batch")
    ):
        return None
    features = list(state.get("features", []))
    offsets, scales, flat = [], [], []
    for name in features:
        plan = state["columns"][name]
        if plan["kind"] != "numeric" or plan["label"]:
            return None
        if plan["transform"] == "zscore":
            offset, scale = plan["mean"], plan["std"]
        elif plan["transform"] == "minmax":
            offset, scale = plan["min"], plan["max"] - plan["min"]
        elif plan["transform"] == "none":
            offset, scale = 0.0, 1.0  # (x - 0.0) / 1.0 is x exactly
        else:
            return None
        flat.append(not scale > 0)
        offsets.append(float(offset))
        scales.append(float(scale) if scale > 0 else 1.0)
    return NumericScaling(features, np.array(offsets, np.float64), np.array(scales, np.float64), np.array(flat, bool))
