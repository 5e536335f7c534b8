"""The execution seam under ``SQLMetadataStore``: one store logic, two ways to run its statements.

The store opens a transaction (``Database.transaction``) and runs statements in it by NAME
(``"step.insert"``, see ``zenml.metadata.statements``) or, for its rarely used queries, as a Core
statement built on the spot. Two implementations:

- ``SQLiteDatabase`` (here; the default store): ``sqlite3`` directly, running the SQL that
  SQLAlchemy renders for SQLite, pre-rendered into ``zenml/metadata/sqlite_sql.py`` by
  ``python -m zenml.metadata.codegen``. SQLAlchemy is not imported to run a pipeline: it cost
  ~130 ms of every ``zen`` process's start-up and ~0.5 ms of every step's recording.
- ``SQLAlchemyDatabase`` (``zenml.metadata.alchemy``): servers (MySQL/MariaDB, PostgreSQL) and
  SQLite URLs this module does not handle (in memory, ``file:`` URIs, query options, other
  drivers), through SQLAlchemy's engine, as before.

Why pre-rendered Core rather than hand-written SQL for all engines: the servers keep running exactly
the statements they ran before (with SQLAlchemy's quoting, type casts, RETURNING and result
processing), SQLite runs what SQLAlchemy itself would have sent, and a test pins the rendered text
to the Core statements, so the two cannot drift.

Both keep the store's behaviour: the same transactions (``BEGIN IMMEDIATE`` for writers on SQLite,
``BEGIN`` for readers), WAL, a 60 s busy timeout, foreign keys on, and the same fault messages
(``zenml.metadata.faults``).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from zenml.exceptions import MetadataStoreError
from zenml.metadata.faults import first_line, storage_advice
from zenml.metadata.schema import HEAD_REVISION

if TYPE_CHECKING:
    from sqlalchemy import ClauseElement, Engine

Params = Mapping[str, Any]

#: how every SQLite connection of the store is set up (SQLAlchemy's too: ``zenml.metadata.alchemy``)
SQLITE_PRAGMAS = ("journal_mode=WAL", "busy_timeout=60000", "synchronous=NORMAL", "foreign_keys=ON")
_POSTCOMPILE = re.compile(r"__\[POSTCOMPILE_(\w+)\]")
_EMPTY_SET = "SELECT 1 FROM (SELECT 1) WHERE 1!=1"  # what SQLAlchemy renders for ``IN ()`` on SQLite


class SQLiteStatement(NamedTuple):
    """A statement rendered for SQLite: what ``sqlite3`` runs, and how to finish its rows."""

    #: the SQL, ``:name`` parameters; ``__[POSTCOMPILE_x]`` where the list ``x`` expands at run time
    sql: str
    #: the values the statement itself binds (its literals), merged under the caller's
    defaults: Mapping[str, Any]
    #: result columns that are ``Boolean`` (SQLite stores 0/1; SQLAlchemy returns ``bool``)
    booleans: tuple[int, ...]


class Transaction(Protocol):
    """Statements in one open transaction; rows come back as tuples in the statement's column order."""

    #: what a unique or foreign key violation raises (caught where a concurrent insert may win)
    integrity_error: type[Exception]

    def rows(self, statement: str | ClauseElement, params: Params | None = None) -> list[Sequence[Any]]:
        """Every row of a query."""
        ...

    def first(self, statement: str | ClauseElement, params: Params | None = None) -> Sequence[Any] | None:
        """The first row of a query, or ``None``."""
        ...

    def scalar(self, statement: str | ClauseElement, params: Params | None = None) -> Any:
        """The first column of the first row, or ``None``."""
        ...

    def insert(self, statement: str, params: Params) -> int:
        """Run an INSERT of one row; return the new row's id."""
        ...

    def write(self, statement: str | ClauseElement, params: Params | Sequence[Params] | None = None) -> int:
        """Run an INSERT, UPDATE or DELETE (once per mapping when given several); return the rows it changed."""
        ...

    def savepoint(self) -> Any:
        """A context manager: a nested transaction, rolled back alone if its block raises."""
        ...


class Database(Protocol):
    """Where a store's transactions run."""

    def prepare(self) -> None:
        """Connect once and bring the schema to head (creating or upgrading it).

        Raises:
            MetadataStoreError: the database cannot be opened, or its schema is unknown.
            ConfigError: its driver is missing.
        """
        ...

    def transaction(self, readonly: bool = False) -> Any:
        """A context manager yielding a ``Transaction``: committed when its block ends, rolled back if it raises."""
        ...

    @property
    def engine(self) -> Engine:
        """An SQLAlchemy engine on the same database, configured as the store's own connections are."""
        ...

    def close(self) -> None:
        """Release pooled connections."""
        ...


def sqlite_path(url: str) -> str | None:
    """The file of a plain SQLite URL (``sqlite:///PATH``, normalised) that ``SQLiteDatabase`` opens, else ``None``.

    Anything else, among them in-memory databases, ``file:`` URIs, query options and
    percent-escapes, is left to SQLAlchemy, which parses and opens it as before.
    """
    scheme, _, rest = url.partition("://")
    if scheme not in ("sqlite", "sqlite+pysqlite") or not rest.startswith("/") or any(c in rest for c in "?%"):
        return None
    database = rest[1:]
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


class SQLiteDatabase:
    """An SQLite file through ``sqlite3``: a small pool of connections, one per concurrent transaction.

    Args:
        url: the store's normalised URL (for SQLAlchemy, when migrations need it).
        path: the database file (``sqlite_path(url)``).
        display_url: the URL as messages show it.
    """

    def __init__(self, url: str, path: str, display_url: str) -> None:
        from zenml.metadata.sqlite_sql import STATEMENTS

        self.url = url
        self.path = path
        self.display_url = display_url
        self._statements = STATEMENTS
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._engine: Engine | None = None

    def prepare(self) -> None:
        """Read the schema revision with ``sqlite3``; only a missing or old schema needs SQLAlchemy and Alembic."""
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = self._checkout()
            try:
                revision = _revision(connection)
            finally:
                self._checkin(connection)
        except sqlite3.Error as exc:
            advice = storage_advice(exc) or f"check the file {self.path}"
            message = f"cannot open the metadata store {self.display_url}: {first_line(exc)}; {advice}"
            raise MetadataStoreError(message) from exc
        if revision != HEAD_REVISION:  # create, upgrade or refuse, with the lock and messages of the full path
            from zenml.metadata.alchemy import SQLAlchemyDatabase

            migrator = SQLAlchemyDatabase(self.url, self.display_url)
            try:
                migrator.prepare()
            finally:
                migrator.close()

    @contextmanager
    def transaction(self, readonly: bool = False) -> Iterator[SQLiteTransaction]:
        """A transaction: committed at the end of the block, rolled back if it raises.

        ``BEGIN`` for readers, ``BEGIN IMMEDIATE`` for writers: they take the lock up front, so two
        processes never deadlock upgrading read locks.
        """
        transaction: SQLiteTransaction | None = None
        try:
            connection = self._checkout()
            try:
                connection.execute("BEGIN" if readonly else "BEGIN IMMEDIATE")
                transaction = SQLiteTransaction(connection, self._statements)
                yield transaction
                connection.execute("COMMIT")
            except BaseException:
                _rollback(connection)
                raise
            finally:
                self._checkin(connection)
        except sqlite3.Error as exc:
            raise MetadataStoreError(self._fault(exc, transaction.sql if transaction else None)) from exc

    def _fault(self, exc: sqlite3.Error, sql: str | None) -> str:
        """The message ``SQLAlchemyDatabase`` gives for the same driver error (its first line is the same)."""
        advice = storage_advice(exc)
        if advice is not None:  # a full disk, a read-only or damaged file: say what to fix
            return f"metadata store {self.display_url}: {first_line(exc)}; {advice}"
        kind = type(exc).__name__ if type(exc) is not sqlite3.Error else "DBAPIError"
        statement = f"\n[SQL: {sql}]" if sql else ""
        driver_error = f"{type(exc).__module__}.{type(exc).__name__}"
        return f"metadata store {self.display_url}: {kind}: ({driver_error}) {exc}{statement}"

    def _checkout(self) -> sqlite3.Connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        connection = sqlite3.connect(
            self.path, timeout=60, check_same_thread=False, isolation_level=None, cached_statements=256
        )
        try:
            for pragma in SQLITE_PRAGMAS:
                connection.execute(f"PRAGMA {pragma}")
        except BaseException:
            connection.close()
            raise
        return connection

    def _checkin(self, connection: sqlite3.Connection) -> None:
        if connection.in_transaction:  # a failed rollback: never hand out a connection mid-transaction
            connection.close()
            return
        with self._lock:
            self._idle.append(connection)

    @property
    def engine(self) -> Engine:
        """An SQLAlchemy engine on the file (for tests and tools), created when first asked for."""
        if self._engine is None:
            from zenml.metadata.alchemy import create_store_engine

            self._engine = create_store_engine(self.url, self.display_url)
        return self._engine

    def close(self) -> None:
        """Close the idle connections (and the engine, if one was asked for)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
        if self._engine is not None:
            self._engine.dispose()


class SQLiteTransaction:
    """Named statements run with ``sqlite3`` in one transaction (prepared once per connection by its cache)."""

    integrity_error = sqlite3.IntegrityError

    def __init__(self, connection: sqlite3.Connection, statements: Mapping[str, SQLiteStatement]) -> None:
        self._connection = connection
        self._statements = statements
        self._savepoints = 0
        #: the SQL of the statement last run (named in error messages)
        self.sql: str | None = None

    def _execute(self, statement: str | ClauseElement, params: Params | None) -> tuple[sqlite3.Cursor, tuple[int, ...]]:
        sql, values, booleans = self._bind(statement, params or {})
        return self._connection.execute(sql, values), booleans

    def _bind(self, statement: str | ClauseElement, params: Params) -> tuple[str, Params, tuple[int, ...]]:
        if isinstance(statement, str):
            rendered = self._statements[statement]
        else:
            from zenml.metadata.statements import render_sqlite  # SQLAlchemy: only for rarely used queries

            rendered = render_sqlite(statement)
        sql, defaults, booleans = rendered
        values = {**defaults, **params} if defaults else params
        if "__[POSTCOMPILE_" in sql:
            sql, values = expand(sql, values)
        self.sql = sql
        return sql, values, booleans

    def rows(self, statement: str | ClauseElement, params: Params | None = None) -> list[Sequence[Any]]:
        """Every row of a query."""
        cursor, booleans = self._execute(statement, params)
        rows: list[Sequence[Any]] = cursor.fetchall()
        return [_booleans(row, booleans) for row in rows] if booleans else rows

    def first(self, statement: str | ClauseElement, params: Params | None = None) -> Sequence[Any] | None:
        """The first row of a query, or ``None``."""
        cursor, booleans = self._execute(statement, params)
        row: Sequence[Any] | None = cursor.fetchone()
        cursor.close()
        return _booleans(row, booleans) if booleans and row is not None else row

    def scalar(self, statement: str | ClauseElement, params: Params | None = None) -> Any:
        """The first column of the first row, or ``None``."""
        row = self.first(statement, params)
        return row[0] if row is not None else None

    def insert(self, statement: str, params: Params) -> int:
        """Run an INSERT of one row; return the new row's id."""
        cursor, _ = self._execute(statement, params)
        if cursor.lastrowid is None:
            raise MetadataStoreError("the database returned no id for a new row")
        return cursor.lastrowid

    def write(self, statement: str | ClauseElement, params: Params | Sequence[Params] | None = None) -> int:
        """Run an INSERT, UPDATE or DELETE (executemany for several mappings); return the rows it changed."""
        if params is None or isinstance(params, Mapping):
            cursor, _ = self._execute(statement, params)
            return cursor.rowcount
        if not params:
            return 0
        sql, _, _ = self._bind(statement, params[0])
        defaults = self._statements[statement].defaults if isinstance(statement, str) else {}
        return self._connection.executemany(sql, [{**defaults, **values} for values in params]).rowcount

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction (SAVEPOINT), rolled back alone if its block raises."""
        self._savepoints += 1
        name = f"zen_savepoint_{self._savepoints}"
        self._connection.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self._connection.execute(f"ROLLBACK TO SAVEPOINT {name}")
            self._connection.execute(f"RELEASE SAVEPOINT {name}")
            raise
        self._connection.execute(f"RELEASE SAVEPOINT {name}")


def _revision(connection: sqlite3.Connection) -> str | None:
    """The ``alembic_version`` of the database (``None``: no such table, or no row)."""
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError as exc:
        if str(exc).startswith("no such table"):
            return None
        raise
    return str(row[0]) if row else None


def _rollback(connection: sqlite3.Connection) -> None:
    """Roll back what is open; a connection that cannot roll back is closed by ``_checkin``."""
    if connection.in_transaction:
        with suppress(sqlite3.Error):
            connection.execute("ROLLBACK")


def _booleans(row: Sequence[Any], booleans: tuple[int, ...]) -> tuple[Any, ...]:
    """The row with its ``Boolean`` columns as ``bool`` (SQLite stores 0/1), as SQLAlchemy returns them."""
    values = list(row)
    for index in booleans:
        if values[index] is not None:
            values[index] = bool(values[index])
    return tuple(values)


def expand(sql: str, values: Params) -> tuple[str, dict[str, Any]]:
    """Expand each list parameter of an ``IN`` into one parameter per item, as SQLAlchemy does at execution.

    A list that ``values`` does not hold stays to be expanded later.
    """
    expanded = dict(values)

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in expanded:
            return match.group(0)
        items = list(expanded.pop(name))
        if not items:
            return _EMPTY_SET
        expanded.update({f"{name}_{index}": item for index, item in enumerate(items, 1)})
        return ", ".join(f":{name}_{index}" for index in range(1, len(items) + 1))

    return _POSTCOMPILE.sub(one, sql), expanded
