"""``RandomSplit``: a seeded hash of each row picks its split, so it is reproducible on any backend."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zenml.steps.split.base import BaseSplitStep, check_ratios

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


def row_hashes(batch: pa.RecordBatch, columns: list[str] | None, seed: int) -> np.ndarray:
    """A uint64 hash per row of the given columns (all by default), keyed by ``seed``.

    Depends only on the row's values, never on its position or the batch it arrived in, so
    every backend assigns every row to the same split.
    """
    import pandas as pd

    selected = batch.select(columns) if columns else batch
    frame = _flat(selected).to_pandas()
    key = f"{seed:016d}"[-16:]
    return pd.util.hash_pandas_object(frame, index=False, hash_key=key).to_numpy()


def _flat(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Nested columns (lists, structs, maps) as canonical JSON text, which pandas can hash; others as they are."""
    import json

    import pyarrow as pa
    import pyarrow.types as pat

    if not any(pat.is_nested(field.type) for field in batch.schema):
        return batch
    arrays = [
        pa.array([json.dumps(value, sort_keys=True, default=str) for value in column.to_pylist()], pa.string())
        if pat.is_nested(column.type)
        else column
        for column in batch.columns
    ]
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def unit_interval(hashes: np.ndarray) -> np.ndarray:
    """Map uint64 hashes to floats in [0, 1)."""
    import numpy as np

    return (hashes >> np.uint64(11)).astype(np.float64) / float(1 << 53)


class RandomSplit(BaseSplitStep):
    """Rows go to splits at random in the given ratios, decided by a seeded hash of the row.

    Args:
        ratios: split name → fraction of rows; must sum to 1.
        seed: changes the assignment; the same seed gives the same splits everywhere.
        key_columns: hash only these columns (e.g. an id); default: the whole row. Identical
            rows always land in the same split.
    """

    def __init__(
        self, ratios: dict[str, float] | None = None, seed: int = 42, key_columns: list[str] | None = None
    ) -> None:
        self.ratios = ratios
        self.seed = seed
        self.key_columns = key_columns

    def _ratios(self) -> dict[str, float]:
        return self.ratios if self.ratios is not None else {"train": 0.8, "eval": 0.2}

    def check_params(self, params: dict[str, object]) -> None:
        """Also require ratios that sum to 1."""
        super().check_params(params)
        ratios = params.get("ratios")
        if isinstance(ratios, dict):
            check_ratios(ratios, "RandomSplit")

    def split_names(self) -> list[str]:
        """The keys of ``ratios``."""
        return list(self._ratios())

    def required_columns(self) -> list[str]:
        """The key columns, if any."""
        return list(self.key_columns or [])

    def partition_fn(self, batch: pa.RecordBatch) -> np.ndarray:
        """Cumulative ratio bucket of each row's hash."""
        import numpy as np

        if batch.num_rows == 0:
            return np.zeros(0, dtype=np.int64)
        position = unit_interval(row_hashes(batch, self.key_columns, self.seed))
        edges = np.cumsum(list(self._ratios().values()))[:-1]
        return np.searchsorted(edges, position, side="right").astype(np.int64)
