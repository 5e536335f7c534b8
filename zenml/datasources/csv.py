"""``CSVDatasource``: one CSV file or a folder of them, local or on any fsspec filesystem, streamed."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from zenml.artifacts.dataset import Dataset, DatasetWriter
from zenml.datasources.base import SOURCE_SPLIT, FileDatasource, reading_progress
from zenml.exceptions import ConfigError

if TYPE_CHECKING:
    import pyarrow as pa

_BLOCK_BYTES = 16 * 1024 * 1024
#: what the check before a run reads of the first file: the header and the first rows
_PREFLIGHT_BYTES = 1024 * 1024
_COLUMN_NUMBER = re.compile(r"CSV column #(\d+)")


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
        encoding: the files' text encoding (``latin-1``, ``cp1252``, …); read as UTF-8 by default.
        null_values: more strings read as missing values, besides empty fields and the usual
            ``NA``, ``N/A``, ``NaN``, ``null`` (e.g. ``["?", "unknown"]``).
    """

    suffixes = (".csv",)

    def __init__(
        self,
        path: str = "",
        schema: dict[str, str] | None = None,
        delimiter: str = ",",
        storage_options: dict[str, Any] | None = None,
        encoding: str = "utf-8",
        null_values: list[str] | None = None,
    ) -> None:
        self.path = path
        self.schema = schema
        self.delimiter = delimiter
        self.storage_options = storage_options
        self.encoding = encoding
        self.null_values = null_values

    def check_params(self, params: dict[str, object]) -> None:
        """Also check the delimiter and the schema's type names."""
        super().check_params(params)
        delimiter = params.get("delimiter", ",")
        if isinstance(delimiter, str) and len(delimiter) != 1:
            raise ConfigError(f"CSVDatasource delimiter must be one character, got {delimiter!r}")
        for column, alias in (params.get("schema") or {}).items():  # type: ignore[attr-defined]
            arrow_type(alias, column)
        encoding = params.get("encoding", "utf-8")
        try:
            codecs.lookup(str(encoding))
        except LookupError:
            raise ConfigError(
                f"CSVDatasource encoding {encoding!r} is unknown; use e.g. 'utf-8', 'latin-1', 'cp1252'"
            ) from None

    def preflight(self) -> None:
        """The files must exist, and the first one's header (and first rows) must be readable.

        Duplicate or undecodable column names, and text that is not in the declared encoding,
        are refused here, before a run is recorded.
        """
        import pyarrow as pa

        files, filesystem = self._files()
        try:
            for _batch in self._batches(files[0], filesystem, None, block_bytes=_PREFLIGHT_BYTES, header_only=True):
                break
        except ConfigError as exc:
            if not isinstance(exc.__cause__, pa.ArrowInvalid):
                raise
            # a row that does not parse is the reading step's to report (with its line), as it is past these rows

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

    def _batches(
        self,
        file: str,
        filesystem: Any,
        schema: pa.Schema | None,
        block_bytes: int = _BLOCK_BYTES,
        header_only: bool = False,
    ) -> Any:
        import pyarrow as pa
        import pyarrow.csv as pcsv

        column_types = {name: arrow_type(alias, name) for name, alias in (self.schema or {}).items()}
        if schema is not None:
            column_types = {field.name: field.type for field in schema}
        null_values = [*pcsv.ConvertOptions().null_values, *(self.null_values or [])]
        handle = filesystem.open(file, "rb") if filesystem else open(file, "rb")  # noqa: SIM115
        with handle:
            try:
                reader = pcsv.open_csv(
                    handle,
                    read_options=pcsv.ReadOptions(block_size=block_bytes, encoding=self.encoding),
                    parse_options=pcsv.ParseOptions(delimiter=self.delimiter),
                    convert_options=pcsv.ConvertOptions(
                        column_types=column_types, strings_can_be_null=True, null_values=null_values
                    ),
                )
                self._check_columns(reader.schema, file, schema)
                if header_only:
                    return
                yield from reader
            except pa.ArrowInvalid as exc:
                raise self._explain(exc, file, filesystem) from exc

    def _check_columns(self, found: pa.Schema, file: str, expected: pa.Schema | None) -> None:
        try:
            names = found.names
        except UnicodeDecodeError as exc:  # Arrow keeps the header's bytes; Parquet needs UTF-8 names
            raise ConfigError(
                f"{file}: the header row is not {self.encoding} text (byte {exc.object[exc.start]:#04x} at "
                f"position {exc.start} of a column name); pass the file's encoding, e.g. encoding='latin-1'"
            ) from exc
        repeated = [name for name, count in Counter(names).items() if count > 1]
        if repeated:
            positions = [str(index + 1) for index, name in enumerate(names) if name == repeated[0]]
            raise ConfigError(
                f"{file}: column name '{repeated[0]}' appears {len(positions)} times in the header (columns "
                f"{', '.join(positions)}); give each column its own name"
            )
        undecoded = [
            field.name for field in found if pa_is_binary(field.type) and field.name not in (self.schema or {})
        ]
        if undecoded:
            raise ConfigError(
                f"{file}: column '{undecoded[0]}' is not {self.encoding} text; pass the file's encoding, "
                "e.g. CSVDatasource(encoding='latin-1'), or save the file as UTF-8"
            )
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
        if "invalid UTF8" in message:  # text past the first block that is not in the encoding
            column = self._column_named(message, file, filesystem)
            return ConfigError(
                f"{file}: column '{column}' holds text that is not {self.encoding}; pass the file's "
                "encoding, e.g. CSVDatasource(encoding='latin-1'), or save the file as UTF-8"
            )
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

    def _column_named(self, message: str, file: str, filesystem: Any) -> str:
        """The header name of the column an Arrow message numbers (``CSV column #2``)."""
        found = _COLUMN_NUMBER.search(message)
        handle = filesystem.open(file, "rb") if filesystem else open(file, "rb")  # noqa: SIM115
        with handle, io.TextIOWrapper(handle, encoding=self.encoding, errors="replace", newline="") as text:
            header = next(csv.reader(text, delimiter=self.delimiter), [])
        index = int(found.group(1)) if found else -1
        return header[index] if 0 <= index < len(header) else "?"

    def _ragged_line(self, file: str, filesystem: Any) -> tuple[int, int, int]:
        handle = filesystem.open(file, "rb") if filesystem else open(file, "rb")  # noqa: SIM115
        with handle, io.TextIOWrapper(handle, encoding=self.encoding, errors="replace", newline="") as text:
            rows = csv.reader(text, delimiter=self.delimiter)
            header = next(rows, [])
            for row in rows:
                if len(row) != len(header):
                    return rows.line_num, len(header), len(row)
        return 0, len(header), 0


def pa_is_binary(data_type: pa.DataType) -> bool:
    """Arrow's CSV reader infers ``binary`` for a column whose bytes are not valid text."""
    import pyarrow.types as pat

    return bool(pat.is_binary(data_type) or pat.is_large_binary(data_type))
