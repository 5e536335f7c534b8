"""``ParquetDatasource``: one Parquet file or a folder of them, local or on any fsspec filesystem."""

from __future__ import annotations

from typing import Any

from zenml.artifacts.dataset import Dataset, DatasetWriter
from zenml.datasources.base import SOURCE_SPLIT, BaseDatasource, files_version, list_files, open_location
from zenml.exceptions import ConfigError


class ParquetDatasource(BaseDatasource):
    """Reads Parquet files (all with one schema), streaming row groups.

    Args:
        path: a ``.parquet`` file or a folder of them; a local path or an fsspec URL.
        columns: read only these columns (default: all).
        storage_options: fsspec options for URLs.
    """

    def __init__(
        self, path: str = "", columns: list[str] | None = None, storage_options: dict[str, Any] | None = None
    ) -> None:
        self.path = path
        self.columns = columns
        self.storage_options = storage_options

    def _files(self) -> tuple[list[str], Any]:
        if not self.path:
            raise ConfigError("ParquetDatasource needs a path")
        location, filesystem = open_location(self.path, self.storage_options)
        return list_files(location, (".parquet", ".pq"), filesystem), filesystem

    def preflight(self) -> None:
        """The file or folder must exist and hold data files."""
        self._files()

    def source_version(self) -> str:
        """Content hash of the file(s)."""
        return files_version(*self._files())

    def describe_source(self) -> str:
        """The path."""
        return self.path

    def read(self, output: str) -> Dataset:
        """Copy row groups into the dataset's shards."""
        import pyarrow.parquet as pq

        files, filesystem = self._files()
        writer: DatasetWriter | None = None
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
        if writer is None:
            raise ConfigError(f"Parquet source '{self.path}' holds no rows or columns")
        writer.add_split(SOURCE_SPLIT)
        return writer.close()
