"""``NoSplit``: every row goes to one split."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zenml.steps.split.base import BaseSplitStep

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


class NoSplit(BaseSplitStep):
    """Keeps all rows together in one split.

    Args:
        name: the split's name (``train`` so a trainer can use it directly).
    """

    def __init__(self, name: str = "train") -> None:
        self.name = name

    def split_names(self) -> list[str]:
        """The one split."""
        return [self.name]

    def partition_fn(self, batch: pa.RecordBatch) -> np.ndarray:
        """Index 0 for every row."""
        import numpy as np

        return np.zeros(batch.num_rows, dtype=np.int64)
