"""``SQLAlchemyDatabase``: the store's statements through SQLAlchemy (servers, migrations, unusual SQLite URLs).

MySQL/MariaDB (PyMySQL) and PostgreSQL (psycopg 3) always run here; so do SQLite URLs that
``zenml.metadata.execution.SQLiteDatabase`` leaves alone, and every schema creation or upgrade
(Alembic needs an SQLAlchemy connection). See ``zenml.metadata.execution`` for the seam.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import ClauseElement, Connection, Engine, Executable, create_engine, event
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError, IntegrityError, NoSuchModuleError, OperationalError, SQLAlchemyError

from zenml.exceptions import ConfigError, MetadataStoreError
from zenml.metadata.execution import SQLITE_PRAGMAS
from zenml.metadata.faults import first_line, storage_advice
from zenml.metadata.schema import ensure_schema
from zenml.metadata.statements import named

_EXTRAS = {"psycopg": "postgres", "pymysql": "mysql", "psycopg2": "postgres", "mysqldb": "mysql"}
_LOCK_KEY = 7_355_608  # advisory lock id serialising schema creation on PostgreSQL
_CONNECT_RETRY_DELAYS = (0.25, 0.5, 1.0)  # seconds between tries to reach a server mid-run

Params = Mapping[str, Any]


def driver_message(display_url: str, driver: str, exc: Exception) -> str:
    """A missing driver, and the extra that installs it."""
    dbapi = driver.partition("+")[2] or driver
    extra = _EXTRAS.get(dbapi)
    hint = f"pip install 'zenml[{extra}]'" if extra else "install the database driver"
    return f"metadata store '{display_url}' needs the '{driver}' driver ({exc}); {hint}"


def create_store_engine(url: str, display_url: str) -> Engine:
    """An engine configured as the store's connections are (SQLite: WAL, busy timeout, ``BEGIN IMMEDIATE``).

    Raises:
        ConfigError: the URL is malformed or names a database or driver that is not available.
    """
    from zenml.metadata.store import parse_url

    parsed = parse_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": 60, "check_same_thread": False}
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    else:
        kwargs.update(pool_pre_ping=True, pool_recycle=1800)
        kwargs["connect_args"] = {"connect_timeout": 10}
        # Read committed on every server (PostgreSQL's default): a row another process just
        # committed is visible to the next statement, which the create-or-read paths rely on.
        kwargs["isolation_level"] = "READ COMMITTED"
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise ConfigError(driver_message(display_url, parsed.drivername, exc)) from exc
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


class SQLAlchemyDatabase:
    """A pooled SQLAlchemy engine; named statements run as the Core statements of ``zenml.metadata.statements``.

    Args:
        url: the store's normalised URL.
        display_url: the URL as messages show it (password redacted).
    """

    def __init__(self, url: str, display_url: str) -> None:
        self.url = url
        self.display_url = display_url
        self.engine = create_store_engine(url, display_url)

    def prepare(self) -> None:
        """Connect and bring the schema to head (PostgreSQL: under an advisory lock; SQLite: ``BEGIN IMMEDIATE``)."""
        try:
            with self.engine.begin() as connection:
                if self.engine.dialect.name == "postgresql":
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
                ensure_schema(connection, self.display_url)
        except MetadataStoreError:
            raise
        except ImportError as exc:
            raise ConfigError(driver_message(self.display_url, self.engine.dialect.driver, exc)) from exc
        except (OperationalError, DBAPIError) as exc:
            reason = first_line(exc.orig) if exc.orig else first_line(exc)
            if self.engine.dialect.name == "sqlite":  # a file: advice about the file, never about a server
                advice = storage_advice(exc.orig) or f"check the file {self.engine.url.database}"
                message = f"cannot open the metadata store {self.display_url}: {reason}; {advice}"
                raise MetadataStoreError(message) from exc
            raise MetadataStoreError(
                f"cannot connect to the metadata store {self.display_url}: {reason}; "
                "check that the server is running and the URL (host, port, database) is right"
            ) from exc

    @contextmanager
    def transaction(self, readonly: bool = False) -> Iterator[SQLAlchemyTransaction]:
        """A pooled connection in a transaction, committed when the block ends and rolled back if it raises."""
        try:
            with self._connect() as raw:
                connection = raw.execution_options(zen_readonly=True) if readonly else raw
                with connection.begin():
                    yield SQLAlchemyTransaction(connection)
        except DBAPIError as exc:
            if exc.connection_invalidated:  # the server went away in the middle of the transaction
                raise MetadataStoreError(self._unreachable(exc)) from exc
            advice = storage_advice(exc.orig)
            if advice is not None:  # a full disk, a read-only or damaged file: say what to fix
                message = f"metadata store {self.display_url}: {first_line(exc.orig or exc)}; {advice}"
                raise MetadataStoreError(message) from exc
            raise MetadataStoreError(f"metadata store {self.display_url}: {type(exc).__name__}: {exc}") from exc
        except SQLAlchemyError as exc:
            raise MetadataStoreError(f"metadata store {self.display_url}: {type(exc).__name__}: {exc}") from exc

    def _connect(self) -> Connection:
        """A pooled connection; a server that cannot be reached is retried briefly, then reported in one line.

        Only connecting is retried: nothing was sent yet, so it is always safe, and a short wait
        rides over a server restart or fail-over. A server that stays down fails in about 2 s.
        """
        delays = () if self.engine.dialect.name == "sqlite" else _CONNECT_RETRY_DELAYS
        for delay in delays:
            try:
                return self.engine.connect()
            except OperationalError:
                time.sleep(delay)
        try:
            return self.engine.connect()
        except OperationalError as exc:
            if self.engine.dialect.name == "sqlite":
                raise
            raise MetadataStoreError(self._unreachable(exc)) from exc

    def _unreachable(self, exc: DBAPIError) -> str:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig and str(exc.orig).strip() else type(exc).__name__
        return (
            f"cannot connect to the metadata store {self.display_url}: {reason}; check that the server is running "
            "and the URL is right, then finish an interrupted run with 'zen runs resume RUN_ID'"
        )

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()


class SQLAlchemyTransaction:
    """Statements in one SQLAlchemy transaction; a name stands for its Core statement (built once)."""

    integrity_error = IntegrityError

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def rows(self, statement: str | ClauseElement, params: Params | None = None) -> list[Sequence[Any]]:
        """Every row of a query."""
        return list(self._connection.execute(_statement(statement), params).all())

    def first(self, statement: str | ClauseElement, params: Params | None = None) -> Sequence[Any] | None:
        """The first row of a query, or ``None``."""
        return self._connection.execute(_statement(statement), params).first()

    def scalar(self, statement: str | ClauseElement, params: Params | None = None) -> Any:
        """The first column of the first row, or ``None``."""
        return self._connection.scalar(_statement(statement), params)

    def insert(self, statement: str, params: Params) -> int:
        """Run an INSERT of one row; return the new row's id."""
        return _inserted_id(self._connection.execute(_statement(statement), params))

    def write(self, statement: str | ClauseElement, params: Params | Sequence[Params] | None = None) -> int:
        """Run an INSERT, UPDATE or DELETE (executemany for several mappings); return the rows it changed."""
        if params is not None and not isinstance(params, Mapping):
            if not params:
                return 0
            params = list(params)
        result: CursorResult[Any] = self._connection.execute(_statement(statement), params)
        return int(result.rowcount)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction (SAVEPOINT), rolled back alone if its block raises."""
        with self._connection.begin_nested():
            yield


def _statement(statement: str | ClauseElement) -> Executable:
    if isinstance(statement, str):
        return named(statement)
    assert isinstance(statement, Executable)
    return statement


def _inserted_id(result: CursorResult[Any]) -> int:
    """The id of the one row an INSERT wrote (RETURNING or the cursor's last row id, as the driver allows)."""
    key = result.inserted_primary_key
    if key is None:
        raise MetadataStoreError("the database returned no id for a new row")
    return int(key[0])


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the "begin" hook below issue BEGIN itself
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the lock up front so two processes never deadlock upgrading read locks.
        readonly = connection.get_execution_options().get("zen_readonly", False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")
