"""Column profiling shared by the statistics step, split checks and preprocessors.

Two mergeable combiners (they run on any processing backend and give identical results however
the data is partitioned): ``ProfileCombiner`` counts, sums, extremes and category frequencies;
``HistogramCombiner`` bins numeric columns between known bounds, from which histograms are read.

Quantiles are the sample's own values (the inverted empirical CDF: the smallest value with at
least a ``q`` share of the values at or below it, NumPy's ``method="inverted_cdf"``), so a 0/1
column's median is 0 or 1. They are exact for numeric columns with at most ``EXACT_VALUES``
distinct values (the profile counts each value until there are more); beyond that they are read
from the fine histogram, exact to one fine bin, ``(max - min) / 1000``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

FINE_BINS = 1000
#: numeric columns with at most this many distinct values get exact quantiles
EXACT_VALUES = 1000
COARSE_BINS = 10
TOP_VALUES = 10
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


def column_kind(data_type: pa.DataType) -> str:
    """``numeric``, ``boolean``, ``categorical`` or ``other`` for an Arrow type."""
    import pyarrow.types as pat

    if pat.is_boolean(data_type):
        return "boolean"
    if pat.is_integer(data_type) or pat.is_floating(data_type) or pat.is_decimal(data_type):
        return "numeric"
    if pat.is_string(data_type) or pat.is_large_string(data_type) or pat.is_dictionary(data_type):
        return "categorical"
    return "other"


def kinds_of(schema: pa.Schema, columns: Sequence[str] | None = None) -> dict[str, str]:
    """Column → kind for the given columns (default: all)."""
    names = list(columns) if columns is not None else list(schema.names)
    return {name: column_kind(schema.field(name).type) for name in names}


def as_float(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Non-null values of a numeric column as float64."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    values = pc.drop_null(array)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return np.asarray(values.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def as_text(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A categorical column as plain strings (dictionary arrays decoded)."""
    import pyarrow as pa
    import pyarrow.types as pat

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pat.is_dictionary(array.type):
        array = array.dictionary_decode()
    return array.cast(pa.string())


class ProfileCombiner:
    """Counts, missing values, sum, sum of squares, min, max; category and true counts."""

    def __init__(self, kinds: dict[str, str]) -> None:
        self.kinds = kinds

    def create(self) -> dict[str, Any]:
        """A fresh accumulator."""
        return {
            "rows": 0,
            "columns": {
                name: {
                    "count": 0,
                    "missing": 0,
                    "sum": 0.0,
                    "sumsq": 0.0,
                    "min": None,
                    "max": None,
                    "values": {},
                    "numbers": {} if kind == "numeric" else None,
                    "true": 0,
                }
                for name, kind in self.kinds.items()
            },
        }

    def add(self, accumulator: dict[str, Any], batch: pa.RecordBatch) -> dict[str, Any]:
        """Fold one batch in."""
        import pyarrow.compute as pc

        accumulator["rows"] += batch.num_rows
        for name, kind in self.kinds.items():
            column, entry = batch.column(name), accumulator["columns"][name]
            entry["missing"] += column.null_count
            entry["count"] += len(column) - column.null_count
            if kind == "numeric":
                _add_numeric(entry, as_float(column))
            elif kind == "boolean":
                entry["true"] += int(pc.sum(column.cast("int64")).as_py() or 0)
            elif kind == "categorical":
                counts = pc.value_counts(pc.drop_null(as_text(column)))
                for value, count in zip(
                    counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True
                ):
                    entry["values"][value] = entry["values"].get(value, 0) + count
        return accumulator

    def merge(self, accumulators: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """Combine partial accumulators."""
        merged = self.create()
        for accumulator in accumulators:
            merged["rows"] += accumulator["rows"]
            for name, entry in accumulator["columns"].items():
                target = merged["columns"][name]
                for key in ("count", "missing", "sum", "sumsq", "true"):
                    target[key] += entry[key]
                target["min"] = _pick(min, target["min"], entry["min"])
                target["max"] = _pick(max, target["max"], entry["max"])
                for value, count in entry["values"].items():
                    target["values"][value] = target["values"].get(value, 0) + count
                target["numbers"] = _merge_numbers(target["numbers"], entry.get("numbers"))
        return merged

    def extract(self, accumulator: dict[str, Any]) -> dict[str, Any]:
        """The result."""
        return accumulator


def _add_numeric(entry: dict[str, Any], values: np.ndarray) -> None:
    import numpy as np

    if not values.size:
        return
    entry["sum"] += float(values.sum())
    entry["sumsq"] += float((values * values).sum())
    entry["min"] = _pick(min, entry["min"], float(values.min()))
    entry["max"] = _pick(max, entry["max"], float(values.max()))
    if entry.get("numbers") is not None:
        unique, counts = np.unique(values, return_counts=True)
        batch = dict(zip(unique.tolist(), counts.tolist(), strict=True))
        entry["numbers"] = _merge_numbers(entry["numbers"], batch)


def _merge_numbers(left: dict[float, int] | None, right: dict[float, int] | None) -> dict[float, int] | None:
    """Value counts of two parts; ``None`` (too many values to count) once either is, or the union is, over the cap."""
    if left is None or right is None:
        return None
    merged = dict(left)
    for value, count in right.items():
        merged[value] = merged.get(value, 0) + count
    return merged if len(merged) <= EXACT_VALUES else None


def _pick(choose: Any, current: float | None, new: float | None) -> float | None:
    if current is None:
        return new
    if new is None:
        return current
    return float(choose(current, new))


class HistogramCombiner:
    """Fine-grained histograms of numeric columns between known ``(min, max)`` bounds."""

    def __init__(self, bounds: dict[str, tuple[float, float]], bins: int = FINE_BINS) -> None:
        self.bounds = bounds
        self.bins = bins

    def create(self) -> dict[str, list[int]]:
        """A fresh accumulator."""
        return {name: [0] * self.bins for name in self.bounds}

    def add(self, accumulator: dict[str, list[int]], batch: pa.RecordBatch) -> dict[str, list[int]]:
        """Fold one batch in."""
        import numpy as np

        for name, (low, high) in self.bounds.items():
            values = as_float(batch.column(name))
            if not values.size:
                continue
            counts, _ = np.histogram(values, bins=self.bins, range=(low, high if high > low else low + 1.0))
            accumulator[name] = [int(a + b) for a, b in zip(accumulator[name], counts, strict=True)]
        return accumulator

    def merge(self, accumulators: Sequence[dict[str, list[int]]]) -> dict[str, list[int]]:
        """Combine partial accumulators."""
        merged = self.create()
        for accumulator in accumulators:
            for name, counts in accumulator.items():
                merged[name] = [a + b for a, b in zip(merged[name], counts, strict=True)]
        return merged

    def extract(self, accumulator: dict[str, list[int]]) -> dict[str, list[int]]:
        """The result."""
        return accumulator


def quantile(counts: Sequence[int], low: float, high: float, q: float) -> float:
    """The ``q`` quantile from fine histogram counts, interpolating inside the bin."""
    total = sum(counts)
    if total == 0:
        return float("nan")
    if high <= low:
        return low
    width = (high - low) / len(counts)
    target = q * total
    running = 0
    for index, count in enumerate(counts):
        if count and running + count >= target:
            inside = (target - running) / count
            return low + width * (index + inside)
        running += count
    return high


def exact_quantile(numbers: dict[float, int], q: float) -> float:
    """The ``q`` quantile of counted values: the smallest value with at least ``q`` of the count at or below it."""
    total = sum(numbers.values())
    if total == 0:
        return float("nan")
    running = 0
    ordered = sorted(numbers.items())
    for value, count in ordered:
        running += count
        if running >= q * total:
            return float(value)
    return float(ordered[-1][0])


def column_quantile(entry: dict[str, Any], counts: Sequence[int] | None, q: float) -> float:
    """The ``q`` quantile of a profiled numeric column: exact from its value counts, else from its fine histogram."""
    numbers = entry.get("numbers")
    if numbers:
        return exact_quantile(numbers, q)
    if not counts:
        return float("nan")
    return quantile(counts, entry["min"], entry["max"], q)


def coarse_histogram(counts: Sequence[int], low: float, high: float, bins: int = COARSE_BINS) -> dict[str, list[Any]]:
    """``{"edges", "counts"}`` with ``bins`` bins, summed exactly from the fine bins."""
    step = len(counts) // bins
    edges = [low + (high - low) * i / bins for i in range(bins + 1)]
    return {"edges": edges, "counts": [int(sum(counts[i * step : (i + 1) * step])) for i in range(bins)]}


def numeric_summary(entry: dict[str, Any], counts: Sequence[int] | None) -> dict[str, Any]:
    """Mean, std, extremes, quantiles and histogram of a profiled numeric column."""
    import math

    count = entry["count"]
    mean = entry["sum"] / count if count else None
    variance = max(entry["sumsq"] / count - mean * mean, 0.0) if count and mean is not None else None
    summary: dict[str, Any] = {
        "count": count,
        "missing": entry["missing"],
        "min": entry["min"],
        "max": entry["max"],
        "mean": mean,
        "std": math.sqrt(variance) if variance is not None else None,
    }
    if counts is not None and count:
        low, high = entry["min"], entry["max"]
        summary["quantiles"] = {str(q): column_quantile(entry, counts, q) for q in QUANTILES}
        summary["histogram"] = coarse_histogram(counts, low, high)
    return summary


def categorical_summary(entry: dict[str, Any]) -> dict[str, Any]:
    """Count, missing, distinct count and the most frequent values of a categorical column."""
    ranked = sorted(entry["values"].items(), key=lambda item: (-item[1], item[0]))
    return {
        "count": entry["count"],
        "missing": entry["missing"],
        "distinct": len(ranked),
        "top": [[value, count] for value, count in ranked[:TOP_VALUES]],
    }


def sorted_vocabulary(values: dict[str, int]) -> list[str]:
    """Category values, most frequent first, ties by value (the same order on every backend)."""
    return [value for value, _ in sorted(values.items(), key=lambda item: (-item[1], item[0]))]


#: a text column with more distinct values than this, all numbers but ``MAX_STRAYS`` of them, was meant numeric
NUMERIC_LOOKING_VALUES = 20
MAX_STRAYS = 3


def stray_values(values: dict[str, int]) -> list[tuple[str, int]]:
    """The few non-numbers (with their counts) of a text column that otherwise holds numbers, else ``[]``.

    Such a column was read as text because of those values, and would turn into as many
    categories as it has distinct numbers: a mistake rather than a category column. At most
    ``MAX_STRAYS`` distinct strays, covering at most 1 % of the rows, among more than
    ``NUMERIC_LOOKING_VALUES`` distinct values.
    """
    if len(values) <= NUMERIC_LOOKING_VALUES:
        return []
    strays: list[tuple[str, int]] = []
    for value, count in values.items():
        try:
            float(value)
        except ValueError:
            strays.append((value, count))
            if len(strays) > MAX_STRAYS:
                return []
    if not strays or sum(count for _, count in strays) * 100 > sum(values.values()):
        return []
    return sorted(strays, key=lambda item: (-item[1], item[0]))
