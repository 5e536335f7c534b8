"""``SQLDatasource``: the result of a query on any SQLAlchemy database, streamed in batches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from zenml.artifacts.dataset import Dataset, DatasetWriter
from zenml.datasources.base import SOURCE_SPLIT, BaseDatasource, reading_progress
from zenml.exceptions import ConfigError
from zenml.utils.envvars import PLACEHOLDER, expand_variables
from zenml.utils.hashing import CONTENT_HASH, content_digest
from zenml.utils.redact import redact_url


class SQLDatasource(BaseDatasource):
    """Runs ``query`` and ingests the rows.

    The URL is recorded in the run spec, so it must not hold a password: write
    ``postgresql://user:${PGPASSWORD}@host/db`` and the variable is read from the environment
    when the step runs. The source's version is a hash of the query result, so an unchanged
    table is a cache hit (computing it reads the result once more).

    Args:
        url: an SQLAlchemy URL (``${VAR}`` placeholders come from the environment).
        query: the SELECT statement.
        batch_rows: rows fetched per batch.
    """

    def __init__(self, url: str = "", query: str = "", batch_rows: int = 65_536) -> None:
        self.url = url
        self.query = query
        self.batch_rows = batch_rows

    def check_params(self, params: dict[str, object]) -> None:
        """Refuse literal passwords in the URL."""
        super().check_params(params)
        url = params.get("url")
        if isinstance(url, str) and redact_url(url) != url and not PLACEHOLDER.search(url.split("@")[0]):
            raise ConfigError(
                "SQLDatasource url contains a password, which would be recorded in the run spec; "
                "write it as ${ENV_VARIABLE} (e.g. postgresql://user:${PGPASSWORD}@host/db)"
            )

    def _engine(self) -> Any:
        from sqlalchemy import create_engine

        if not self.url or not self.query:
            raise ConfigError("SQLDatasource needs both url and query")
        url = expand_variables(self.url, "SQLDatasource url")
        for short, driver in (("postgresql://", "postgresql+psycopg://"), ("mysql://", "mysql+pymysql://")):
            url = url.replace(short, driver, 1) if url.startswith(short) else url
        return create_engine(url)

    def _rows(self) -> Iterator[tuple[list[str], list[Any]]]:
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        engine = self._engine()
        try:
            with engine.connect() as connection:
                result = connection.execution_options(stream_results=True).execute(text(self.query))
                keys = list(result.keys())
                while rows := result.fetchmany(self.batch_rows):
                    yield keys, [tuple(row) for row in rows]
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", exc)).splitlines()[0]
            raise ConfigError(f"SQLDatasource query on {redact_url(self.url)} failed: {reason}") from exc
        finally:
            engine.dispose()

    def source_version(self) -> str:
        """A hash of the query's result rows."""
        digest = content_digest()
        for keys, rows in self._rows():
            digest.update(repr((keys, rows)).encode())
        return f"{CONTENT_HASH}:{digest.hexdigest()}"

    def describe_source(self) -> str:
        """URL (no credentials) and query."""
        return f"{redact_url(self.url)} :: {self.query}"

    def read(self, output: str) -> Dataset:
        """Stream the result into Parquet shards (types inferred from the first batch)."""
        import pyarrow as pa

        writer: DatasetWriter | None = None
        progress = reading_progress()
        for keys, rows in self._rows():
            columns = list(zip(*rows, strict=True))
            arrays = [pa.array([_plain(v) for v in column]) for column in columns]
            batch = pa.RecordBatch.from_arrays(arrays, names=keys)
            if writer is None:
                writer = DatasetWriter(output, batch.schema)
            writer.write(SOURCE_SPLIT, batch.cast(writer.schema))
            progress.advance(len(rows))
        progress.close()
        if writer is None:
            raise ConfigError(f"SQLDatasource query returned no rows: {self.query}")
        writer.add_split(SOURCE_SPLIT)
        return writer.close()


def _plain(value: Any) -> Any:
    from decimal import Decimal

    return float(value) if isinstance(value, Decimal) else value
