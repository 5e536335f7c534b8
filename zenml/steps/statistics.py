"""The statistics step: per split and column, counts, missing values, moments, quantiles, histograms, top values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zenml.artifacts.dataset import Dataset
from zenml.artifacts.materializers import ArtifactFolder, JSONMaterializer, register_materializer
from zenml.steps.base import BaseStep
from zenml.steps.columns import (
    HistogramCombiner,
    ProfileCombiner,
    categorical_summary,
    kinds_of,
    numeric_summary,
)
from zenml.steps.context import StepContext


class Statistics(dict[str, Any]):
    """Dataset statistics: ``{"splits": {split: {"rows": n, "columns": {column: {...}}}}}``.

    Numeric columns carry ``count, missing, min, max, mean, std, quantiles, histogram``;
    categorical ones ``count, missing, distinct, top``; boolean ones ``count, missing, true``.
    """

    def split(self, name: str) -> dict[str, Any]:
        """The statistics of one split."""
        splits: dict[str, Any] = self["splits"]
        return dict(splits[name])

    def rows(self) -> list[list[str]]:
        """A table (one row per split and column) for display."""
        table = []
        for split, entry in self["splits"].items():
            for column, info in entry["columns"].items():
                table.append(
                    [
                        split,
                        column,
                        info.get("kind", ""),
                        str(info.get("count", "")),
                        str(info.get("missing", "")),
                        _short(info),
                    ]
                )
        return table


def _short(info: dict[str, Any]) -> str:
    if info.get("kind") == "numeric" and info.get("count"):
        quantiles = info.get("quantiles", {})
        return (
            f"min {info['min']:.4g}  mean {info['mean']:.4g}  std {info['std']:.4g}  "
            f"median {quantiles.get('0.5', float('nan')):.4g}  max {info['max']:.4g}"
        )
    if info.get("kind") == "categorical":
        top = ", ".join(f"{value} ({count})" for value, count in info.get("top", [])[:3])
        return f"{info.get('distinct', 0)} distinct; top: {top}"
    if info.get("kind") == "boolean":
        return f"{info.get('true', 0)} true"
    return ""


@register_materializer
class StatisticsMaterializer(JSONMaterializer):
    """Statistics as JSON, read back as a ``Statistics`` object."""

    format = "statistics"
    type_names = ("zenml.steps.statistics.Statistics",)

    def load(self, folder: ArtifactFolder) -> Any:
        """The stored statistics."""
        return Statistics(super().load(folder))


def compute_statistics(processing: Any, dataset: Dataset, splits: Sequence[str] | None = None) -> Statistics:
    """Profile every column of every split (two streaming passes: profile, then numeric histograms)."""
    kinds = kinds_of(dataset.schema)
    result: dict[str, Any] = {}
    for split in list(splits) if splits is not None else dataset.splits:
        profile = processing.aggregate(dataset, ProfileCombiner(kinds), splits=[split])
        bounds = {
            name: (entry["min"], entry["max"])
            for name, entry in profile["columns"].items()
            if kinds[name] == "numeric" and entry["count"]
        }
        histograms = processing.aggregate(dataset, HistogramCombiner(bounds), splits=[split]) if bounds else {}
        columns: dict[str, Any] = {}
        for name, entry in profile["columns"].items():
            kind = kinds[name]
            if kind == "numeric":
                summary = numeric_summary(entry, histograms.get(name))
            elif kind == "categorical":
                summary = categorical_summary(entry)
            else:
                summary = {"count": entry["count"], "missing": entry["missing"]}
                if kind == "boolean":
                    summary["true"] = entry["true"]
            columns[name] = {"kind": kind, "type": str(dataset.schema.field(name).type), **summary}
        result[split] = {"rows": profile["rows"], "columns": columns}
    return Statistics({"splits": result})


class StatisticsStep(BaseStep):
    """Computes statistics of every split and column of a dataset.

    Examples:
        >>> StatisticsStep().get_params()
        {}
    """

    def process(self, data: Dataset, context: StepContext) -> Statistics:
        """Profile ``data`` on the step's processing backend."""
        return compute_statistics(context.processing, data)
