"""``CSVDatasource``: one CSV file or a folder of them, local or on any fsspec filesystem, streamed."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from zenml.artifacts.dataset import Dataset, DatasetWriter
from zenml.datasources.base import SOURCE_SPLIT, FileDatasource, reading_progress
from zenml.exceptions import ConfigError

if TYPE_CHECKING:
    import pyarrow as pa

_BLOCK_BYTES = 16 * 1024 * 1024


def arrow_type(alias: str, column: str) -> pa.DataType:
    """An Arrow type from a name such as ``int64``, ``float64``, ``string``, ``bool``, ``timestamp[s]``."""
    import pyarrow as pa

    try:
        return pa.type_for_alias(alias)
    except ValueError:
        raise ConfigError(
            f"schema type '{alias}' of column '{column}' is unknown; use e.g. int64, float64, "
            "string, bool, timestamp[s]"
        ) from None


class CSVDatasource(FileDatasource):
    """Reads CSV with a header row; column types are inferred, or fixed by ``schema``.

    Args:
        path: a CSV file or a folder of ``*.csv`` files (all with the same header); a local path
            or an fsspec URL (``s3://bucket/data/``).
        schema: column → Arrow type name, overriding inference (``{"zip": "string"}``).
        delimiter: the field separator.
        storage_options: fsspec options for URLs (endpoint, credentials from the environment).
    """

    suffixes = (".csv",)

    def __init__(
        self,
        path: str = "",
        schema: dict[str, str] | None = None,
        delimiter: str = ",",
        storage_options: dict[str, Any] | None = None,
    ) -> None:
        self.path = path
        self.schema = schema
        self.delimiter = delimiter
        self.storage_options = storage_options

    def check_params(self, params: dict[str, object]) -> None:
        """Also check the delimiter and the schema's type names."""
        super().check_params(params)
        delimiter = params.get("delimiter", ",")
        if isinstance(delimiter, str) and len(delimiter) != 1:
            raise ConfigError(f"CSVDatasource delimiter must be one character, got {delimiter!r}")
        for column, alias in (params.get("schema") or {}).items():  # type: ignore[attr-defined]
            arrow_type(alias, column)

    def read(self, output: str) -> Dataset:
        """Stream every file into Parquet shards (types fixed by the first block of the first file)."""
        files, filesystem = self._files()
        writer: DatasetWriter | None = None
        progress = reading_progress()
        for file in files:
            for batch in self._batches(file, filesystem, writer.schema if writer else None):
                if writer is None:
                    writer = DatasetWriter(output, batch.schema)
                writer.write(SOURCE_SPLIT, batch)
                progress.advance(batch.num_rows)
        progress.close()
        if writer is None:
            raise ConfigError(f"CSV source '{self.path}' has no header row")
        writer.add_split(SOURCE_SPLIT)
        return writer.close()

    def _batches(self, file: str, filesystem: Any, schema: pa.Schema | None) -> Any:
        import pyarrow as pa
        import pyarrow.csv as pcsv

        column_types = {name: arrow_type(alias, name) for name, alias in (self.schema or {}).items()}
        if schema is not None:
            column_types = {field.name: field.type for field in schema}
        handle = filesystem.open(file, "rb") if filesystem else open(file, "rb")  # noqa: SIM115
        with handle:
            try:
                reader = pcsv.open_csv(
                    handle,
                    read_options=pcsv.ReadOptions(block_size=_BLOCK_BYTES),
                    parse_options=pcsv.ParseOptions(delimiter=self.delimiter),
                    convert_options=pcsv.ConvertOptions(column_types=column_types, strings_can_be_null=True),
                )
                self._check_columns(reader.schema, file, schema)
                yield from reader
            except pa.ArrowInvalid as exc:
                raise self._explain(exc, file, filesystem) from exc

    def _check_columns(self, found: pa.Schema, file: str, expected: pa.Schema | None) -> None:
        try:
            names = found.names
        except UnicodeDecodeError as exc:  # Arrow keeps the header's bytes; Parquet needs UTF-8 names
            raise ConfigError(
                f"{file}: the header row is not UTF-8 text (byte {exc.object[exc.start]:#04x} at "
                f"position {exc.start} of a column name); save the file as UTF-8"
            ) from exc
        unknown = [name for name in self.schema or {} if name not in names]
        if unknown:
            raise ConfigError(
                f"schema names column '{unknown[0]}', which {file} does not have; available columns: {', '.join(names)}"
            )
        if expected is not None and names != expected.names:
            raise ConfigError(
                f"{file} has columns {', '.join(names)} but the first file has "
                f"{', '.join(expected.names)}; all files of a source must share one header"
            )

    def _explain(self, exc: Exception, file: str, filesystem: Any) -> ConfigError:
        message = str(exc).splitlines()[0]
        if "Expected" in message and "columns" in message:
            line, expected, got = self._ragged_line(file, filesystem)
            return ConfigError(
                f"{file} line {line}: expected {expected} columns, got {got}; fix the row "
                "(quote fields that contain the delimiter)"
            )
        if "conversion error" in message or "invalid value" in message.lower():
            return ConfigError(
                f"{file}: {message}; column types are inferred from the first {_BLOCK_BYTES >> 20} "
                "MB, so pass schema={'column': 'string'} (or the right type) for this column"
            )
        return ConfigError(f"{file}: cannot parse CSV: {message}")

    def _ragged_line(self, file: str, filesystem: Any) -> tuple[int, int, int]:
        handle = filesystem.open(file, "rb") if filesystem else open(file, "rb")  # noqa: SIM115
        with handle, io.TextIOWrapper(handle, encoding="utf-8", errors="replace", newline="") as text:
            rows = csv.reader(text, delimiter=self.delimiter)
            header = next(rows, [])
            for row in rows:
                if len(row) != len(header):
                    return rows.line_num, len(header), len(row)
        return 0, len(header), 0
