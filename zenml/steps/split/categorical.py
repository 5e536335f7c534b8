"""Splits by the value of a categorical column: by explicit domains, or by category ratios."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zenml.exceptions import ConfigError
from zenml.steps.split.base import BaseSplitStep, check_ratios, names_in_order, text_values
from zenml.steps.split.random import unit_interval

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


def _check_unknown(unknown: Any, names: list[str], owner: str) -> None:
    if unknown != "skip" and unknown not in names:
        raise ConfigError(f"{owner} unknown={unknown!r} must be 'skip' or one of the splits: {', '.join(names)}")


class CategoricalDomainSplit(BaseSplitStep):
    """Each split takes the rows whose ``column`` value is in its domain.

    Args:
        column: the categorical column.
        domains: split name → list of values.
        unknown: ``"skip"`` drops rows with other values; a split name collects them.
    """

    def __init__(self, column: str = "", domains: dict[str, list[Any]] | None = None, unknown: str = "skip") -> None:
        self.column = column
        self.domains = domains
        self.unknown = unknown

    def check_params(self, params: dict[str, object]) -> None:
        """Values may belong to one split only; ``unknown`` must name a split or be ``skip``."""
        super().check_params(params)
        domains = params.get("domains")
        if isinstance(domains, dict):
            seen: dict[Any, str] = {}
            for split, values in domains.items():
                for value in values:
                    if value in seen:
                        raise ConfigError(
                            f"CategoricalDomainSplit value {value!r} is in both '{seen[value]}' and '{split}'"
                        )
                    seen[value] = split
            # from_config checks params on a bare probe (no attributes yet): never read self.unknown eagerly
            unknown = params["unknown"] if "unknown" in params else getattr(self, "unknown", "skip")
            _check_unknown(unknown, list(domains), "CategoricalDomainSplit")

    def split_names(self) -> list[str]:
        """Domain names, plus the ``unknown`` split if it is not one of them."""
        names = list(self.domains or {})
        return names_in_order([*names, self.unknown]) if self.unknown != "skip" else names

    def required_columns(self) -> list[str]:
        """The split column."""
        return [self.column]

    def partition_fn(self, batch: pa.RecordBatch) -> np.ndarray:
        """Domain lookup per row."""
        import numpy as np

        names = self.split_names()
        lookup = {value: names.index(split) for split, values in (self.domains or {}).items() for value in values}
        fallback = names.index(self.unknown) if self.unknown != "skip" else -1
        return np.array([lookup.get(value, fallback) for value in text_values(batch, self.column)], dtype=np.int64)


class CategoricalRatioSplit(BaseSplitStep):
    """All rows of one category go to the same split; categories are spread in the given ratios.

    Args:
        column: the categorical column.
        ratios: split name → fraction of categories; must sum to 1.
        unknown: ``"skip"`` drops rows with a missing value; a split name collects them.
        seed: changes which categories go where.
    """

    def __init__(
        self, column: str = "", ratios: dict[str, float] | None = None, unknown: str = "skip", seed: int = 42
    ) -> None:
        self.column = column
        self.ratios = ratios
        self.unknown = unknown
        self.seed = seed

    def _ratios(self) -> dict[str, float]:
        return self.ratios if self.ratios is not None else {"train": 0.8, "eval": 0.2}

    def check_params(self, params: dict[str, object]) -> None:
        """Ratios sum to 1; ``unknown`` names a split or is ``skip``."""
        super().check_params(params)
        ratios = params.get("ratios")
        if isinstance(ratios, dict):
            check_ratios(ratios, "CategoricalRatioSplit")
            unknown = params["unknown"] if "unknown" in params else getattr(self, "unknown", "skip")
            _check_unknown(unknown, list(ratios), "CategoricalRatioSplit")

    def split_names(self) -> list[str]:
        """The keys of ``ratios``."""
        return list(self._ratios())

    def required_columns(self) -> list[str]:
        """The split column."""
        return [self.column]

    def partition_fn(self, batch: pa.RecordBatch) -> np.ndarray:
        """Hash each row's category (not the row) to a ratio bucket."""
        import numpy as np
        import pandas as pd

        values = text_values(batch, self.column)
        if not values:
            return np.zeros(0, dtype=np.int64)
        hashes = pd.util.hash_array(
            np.array([str(v) for v in values], dtype=object), hash_key=f"{self.seed:016d}"[-16:]
        )
        edges = np.cumsum(list(self._ratios().values()))[:-1]
        indexes = np.searchsorted(edges, unit_interval(hashes), side="right").astype(np.int64)
        missing = np.array([value is None for value in values])
        indexes[missing] = self.split_names().index(self.unknown) if self.unknown != "skip" else -1
        return indexes
