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

    def preflight(self) -> None:
        """The files must exist, and the first one's columns must be unique and include ``columns``."""
        files, filesystem = self._files()
        with filesystem.open(files[0], "rb") if filesystem else open(files[0], "rb") as handle:
            self._check_schema(pq_schema(handle), files[0])

    def _check_schema(self, names: list[str], file: str) -> None:
        from collections import Counter

        repeated = [n for n, count in Counter(names).items() if count > 1 and n in (self.columns or names)]
        if repeated:
            raise ConfigError(
                f"{file}: column name '{repeated[0]}' appears {names.count(repeated[0])} times; "
                "give each column its own name (or read the others with columns=[...])"
            )
        missing = [c for c in self.columns or [] if c not in names]
        if missing:
            raise ConfigError(f"column '{missing[0]}' is not in {file}; available columns: {', '.join(names)}")

    def read(self, output: str) -> Dataset:
        """Copy row groups into the dataset's shards."""
        import pyarrow.parquet as pq

        files, filesystem = self._files()
        writer: DatasetWriter | None = None
        progress = reading_progress()
        for file in files:
            with filesystem.open(file, "rb") if filesystem else open(file, "rb") as handle:
                parquet = pq.ParquetFile(handle)
                self._check_schema(parquet.schema_arrow.names, file)
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


def pq_schema(handle: Any) -> list[str]:
    """The column names in a Parquet file's footer (no row is read)."""
    import pyarrow.parquet as pq

    return list(pq.ParquetFile(handle).schema_arrow.names)
