"""Rows of the serving project's CSVs, for tests to score."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def raw_rows(root: Path, data: str, count: int = 25) -> list[dict[str, Any]]:
    """The first ``count`` rows of a project CSV as dicts (label included)."""
    import pyarrow.csv

    return pyarrow.csv.read_csv(os.fspath(root / f"{data}.csv")).slice(0, count).to_pylist()
