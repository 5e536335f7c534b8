"""``ParquetDatasource``: one Parquet file or a folder of them, local or on any fsspec filesystem."""

from __future__ import annotations

from typing import Any

from zenml.artifacts.dataset import Dataset, DatasetWriter
from zenml.datasources.base import SOURCE_SPLIT, FileDatasource, reading_progress
from zenml.exceptions import ConfigError


class ParquetDatasource(FileDatasource):
    """Reads Parquet files (all with one schema), streaming row groups.

    Args:
        path: a ``.parquet`` file or a folder of them; a local path or an fsspec URL.
        columns: read only these columns (default: all).
        storage_options: fsspec options for URLs.
    """

    suffixes = (".parquet", ".pq")

    def __init__(
        self, path: str = "", columns: list[str] | None = None, storage_options: dict[str, Any] | None = None
    ) -> None:
        self.path = path
        self.columns = columns
        self.storage_options = storage_options

    def read(self, output: str) -> Dataset:
        """Copy row groups into the dataset's shards."""
        import pyarrow.parquet as pq

        files, filesystem = self._files()
        writer: DatasetWriter | None = None
        progress = reading_progress()
        for file in files:
            with filesystem.open(file, "rb") if filesystem else open(file, "rb") as handle:
                parquet = pq.ParquetFile(handle)
                missing = [c for c in self.columns or [] if c not in parquet.schema_arrow.names]
                if missing:
                    raise ConfigError(
                        f"column '{missing[0]}' is not in {file}; available columns: "
                        f"{', '.join(parquet.schema_arrow.names)}"
                    )
                for batch in parquet.iter_batches(columns=self.columns):
                    if writer is None:
                        writer = DatasetWriter(output, batch.schema)
                    elif batch.schema.names != writer.schema.names:
                        raise ConfigError(f"{file} has other columns than the first file; one schema per source")
                    writer.write(SOURCE_SPLIT, batch)
                    progress.advance(batch.num_rows)
        progress.close()
        if writer is None:
            raise ConfigError(f"Parquet source '{self.path}' holds no rows or columns")
        writer.add_split(SOURCE_SPLIT)
        return writer.close()
