"""``DataFrameDatasource``: an in-memory pandas DataFrame, snapshotted to a Parquet file when created."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from zenml.artifacts.dataset import Dataset
from zenml.datasources.base import SOURCE_SPLIT, BaseDatasource
from zenml.exceptions import ConfigError
from zenml.utils.hashing import CONTENT_HASH, content_digest


def _snapshot_folder() -> Path:
    start = Path.cwd().resolve()
    for folder in (start, *start.parents):
        if (folder / ".zen").is_dir():
            return folder / ".zen" / "snapshots"
    return Path.cwd() / ".zen" / "snapshots"


class DataFrameDatasource(BaseDatasource):
    """A DataFrame frozen at the moment the datasource is made, so runs are reproducible.

    Make one with ``DataFrameDatasource.from_frame(frame)``: it writes the frame to
    ``.zen/snapshots/<content hash>.parquet`` in the repository and the datasource's only
    parameter is that snapshot, so later edits to the frame do not change what runs.

    Args:
        snapshot: the snapshot file written by ``from_frame``.
    """

    def __init__(self, snapshot: str = "") -> None:
        self.snapshot = snapshot

    @classmethod
    def from_frame(cls, frame: Any, folder: str | Path | None = None) -> DataFrameDatasource:
        """Snapshot ``frame`` (a pandas DataFrame) and return a datasource reading the snapshot."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        target = Path(folder) if folder else _snapshot_folder()
        target.mkdir(parents=True, exist_ok=True)
        temporary = target / f".{os.getpid()}.parquet.tmp"
        pq.write_table(table, temporary)
        digest = content_digest()
        digest.update(temporary.read_bytes())
        final = target / f"{digest.hexdigest()}.parquet"
        os.replace(temporary, final)
        return cls(snapshot=str(final.resolve()))

    def preflight(self) -> None:
        """The snapshot must exist."""
        self.source_version()

    def source_version(self) -> str:
        """The snapshot's content hash (read each time: snapshots of earlier zenml versions are named otherwise)."""
        if not self.snapshot or not os.path.isfile(self.snapshot):
            raise ConfigError(
                f"DataFrame snapshot '{self.snapshot}' is missing; make the datasource with "
                "DataFrameDatasource.from_frame(frame)"
            )
        digest = content_digest()
        digest.update(Path(self.snapshot).read_bytes())
        return f"{CONTENT_HASH}:{digest.hexdigest()}"

    def describe_source(self) -> str:
        """The snapshot file."""
        return self.snapshot

    def read(self, output: str) -> Dataset:
        """Copy the snapshot into the dataset."""
        import pyarrow.parquet as pq

        self.source_version()
        return Dataset.from_tables(output, {SOURCE_SPLIT: pq.read_table(self.snapshot)})
