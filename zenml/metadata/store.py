"""``SQLMetadataStore``: runs, step runs, artifacts, lineage and metrics in one SQL database.

Transactions are short and explicit. On SQLite the store uses WAL, a busy timeout and
``BEGIN IMMEDIATE`` for writes, so concurrent processes queue instead of failing with
"database is locked".
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Select, bindparam, create_engine, delete, event, func, insert, select, update
from sqlalchemy.engine import URL, CursorResult, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)

from zenml.exceptions import ConfigError, MetadataStoreError
from zenml.metadata.faults import first_line, storage_advice
from zenml.metadata.owner import RunOwner, this_process, why_dead
from zenml.metadata.records import (
    ArtifactRecord,
    DeploymentRecord,
    EventRecord,
    PipelineRecord,
    RunRecord,
    StepRunRecord,
)
from zenml.metadata.schema import ensure_schema
from zenml.metadata.tables import (
    artifact_table,
    deployment_table,
    event_table,
    metric_table,
    pipeline_table,
    run_table,
    step_run_table,
)
from zenml.utils.hashing import canonical_json
from zenml.utils.redact import redact_url

_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}
_EXTRAS = {"psycopg": "postgres", "pymysql": "mysql", "psycopg2": "postgres", "mysqldb": "mysql"}
_LOCK_KEY = 7_355_608  # advisory lock id serialising schema creation on PostgreSQL
_CONNECT_RETRY_DELAYS = (0.25, 0.5, 1.0)  # seconds between tries to reach a server mid-run

# Each record's columns in its fields' order, so a result row builds the record positionally.
_RUN_COLUMNS = tuple(pipeline_table.c.name if f.name == "pipeline" else run_table.c[f.name] for f in fields(RunRecord))
_STEP_COLUMNS = tuple(step_run_table.c[f.name] for f in fields(StepRunRecord))
_ARTIFACT_COLUMNS = tuple(artifact_table.c[f.name] for f in fields(ArtifactRecord))
_RUNS = select(*_RUN_COLUMNS).select_from(
    run_table.join(pipeline_table, run_table.c.pipeline_id == pipeline_table.c.id)
)
_STEPS = select(*_STEP_COLUMNS)
_ARTIFACTS = select(*_ARTIFACT_COLUMNS)
_EVENTS = select(*(event_table.c[f.name] for f in fields(EventRecord)))

# The statements every step runs (and the per-step reads of views), built once: a call only binds
# its values, and SQLAlchemy finds the compiled SQL by the statement's memoised cache key instead
# of building and hashing the statement anew, which cost more than SQLite took to run it.
_STEP_ID = select(step_run_table.c.id).where(
    step_run_table.c.run_id == bindparam("run_id"), step_run_table.c.name == bindparam("name")
)
_INSERT_STEP = insert(step_run_table)
_INSERT_ARTIFACT = insert(artifact_table)
_INSERT_EVENTS = insert(event_table)
_INSERT_METRICS = insert(metric_table)
_FINISH_STEP = update(step_run_table).where(step_run_table.c.id == bindparam("step_run_id"))  # SET: the other keys
_STEP_BY_ID = _STEPS.where(step_run_table.c.id == bindparam("step_run_id"))
_STEP_ARTIFACTS = (
    select(event_table.c.name, *_ARTIFACT_COLUMNS)
    .select_from(event_table.join(artifact_table, event_table.c.artifact_id == artifact_table.c.id))
    .where(event_table.c.step_run_id == bindparam("step_run_id"), event_table.c.kind == bindparam("kind"))
    .order_by(event_table.c.id)
)
_STEP_METRICS = select(metric_table.c.name, metric_table.c.value).where(
    metric_table.c.step_run_id == bindparam("step_run_id")
)


def normalise_url(url: str, base_dir: Path | None = None) -> str:
    """Pick zenml's drivers for bare schemes and resolve relative SQLite paths against ``base_dir``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigError(f"metadata store URL '{redact_url(url)}' needs a scheme, e.g. sqlite:///.zen/metadata.db")
    scheme = _DRIVERS.get(scheme, scheme)
    if scheme == "sqlite" and rest.startswith("/") and not rest.startswith("//") and rest != "/:memory:":
        path = rest[1:]
        if path and not os.path.isabs(path):
            rest = "/" + str((base_dir or Path.cwd()) / path)
    return f"{scheme}://{rest}"


def parse_url(url: str, base_dir: Path | None = None) -> URL:
    """The metadata store URL, normalised (``normalise_url``) and parsed.

    Raises:
        ConfigError: it has no scheme or is malformed.
    """
    normalised = normalise_url(url, base_dir)
    try:
        return make_url(normalised)
    except (ArgumentError, ValueError) as exc:  # ValueError: a non-numeric port
        raise ConfigError(f"metadata store URL '{redact_url(normalised)}' is malformed: {exc}") from exc


def check_url(url: str) -> None:
    """Check a metadata store URL's syntax and database kind without connecting (``zen stack register``).

    A missing driver is not refused here: the machine that registers a stack need not be the one
    that uses it.

    Raises:
        ConfigError: no scheme, malformed, or a database SQLAlchemy does not know.
    """
    parsed = parse_url(url)
    try:
        parsed.get_dialect()
    except NoSuchModuleError as exc:
        raise ConfigError(
            f"metadata store URL '{redact_url(url)}' names the database '{parsed.drivername}', which SQLAlchemy "
            "does not know; use sqlite:///PATH, postgresql://USER@HOST/DB or mysql://USER@HOST/DB"
        ) from exc
    except ImportError:  # the dialect is known; its driver is not installed here
        pass


def sqlite_file(url: str, base_dir: Path | None = None) -> Path | None:
    """The database file of an SQLite URL (``None``: another database, or SQLite in memory)."""
    parsed = parse_url(url, base_dir)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


#: step statuses that a live process will still change; a crashed run's steps in them are crashed too
UNFINISHED_STEP = ("running", "pending")
_CRASHED = {
    "error_type": "Crashed",
    "error_message": "the process running it died (killed, or its machine stopped)",
}


def _now() -> float:
    return time.time()


class SQLMetadataStore:
    """The metadata store on SQLite, MySQL/MariaDB (PyMySQL) or PostgreSQL (psycopg 3).

    Args:
        url: an SQLAlchemy URL; ``postgresql://`` and ``mysql://`` pick psycopg and PyMySQL.
        base_dir: what relative SQLite paths are relative to (the repository root).
    """

    def __init__(self, url: str, base_dir: Path | None = None) -> None:
        self.url = normalise_url(url, base_dir)
        self.display_url = redact_url(self.url)
        self.engine = self._create_engine()
        try:
            self._prepare()
        except BaseException:
            self.engine.dispose()  # a store that failed to open must not leak its pooled connection
            raise

    # -- connection ------------------------------------------------------------------------------

    def _create_engine(self) -> Engine:
        parsed = parse_url(self.url)
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
            raise ConfigError(self._driver_message(parsed.drivername, exc)) from exc
        if engine.dialect.name == "sqlite":
            _configure_sqlite(engine)
        return engine

    def _driver_message(self, driver: str, exc: Exception) -> str:
        dbapi = driver.partition("+")[2] or driver
        extra = _EXTRAS.get(dbapi)
        hint = f"pip install 'zenml[{extra}]'" if extra else "install the database driver"
        return f"metadata store '{self.display_url}' needs the '{driver}' driver ({exc}); {hint}"

    def _prepare(self) -> None:
        try:
            with self.engine.begin() as connection:
                if self.engine.dialect.name == "postgresql":
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
                ensure_schema(connection, self.display_url)
        except MetadataStoreError:
            raise
        except ImportError as exc:
            raise ConfigError(self._driver_message(self.engine.dialect.driver, exc)) from exc
        except (OperationalError, DBAPIError) as exc:
            reason = first_line(exc.orig) if exc.orig else first_line(exc)
            if self.engine.dialect.name == "sqlite":  # a file: advice about the file, never about a server
                advice = storage_advice(exc.orig) or f"check the file {make_url(self.url).database}"
                message = f"cannot open the metadata store {self.display_url}: {reason}; {advice}"
                raise MetadataStoreError(message) from exc
            raise MetadataStoreError(
                f"cannot connect to the metadata store {self.display_url}: {reason}; "
                "check that the server is running and the URL (host, port, database) is right"
            ) from exc

    @contextmanager
    def _transaction(self, readonly: bool = False) -> Iterator[Connection]:
        """A pooled connection in a transaction, committed when the block ends and rolled back if it raises."""
        try:
            with self._connect() as raw:
                connection = raw.execution_options(zen_readonly=True) if readonly else raw
                with connection.begin():
                    yield connection
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

    # -- writing ---------------------------------------------------------------------------------

    def create_run(
        self,
        *,
        run_id: str,
        pipeline: str,
        spec_path: str,
        spec_sha256: str,
        orchestrator: str,
        created_at: float,
        git: Mapping[str, Any] | None,
        owned: bool = True,
    ) -> None:
        """Record a new run in status ``running`` (creating its pipeline on first use).

        ``owned``: this process drives the run and refreshes its heartbeat, so the run is reaped
        as crashed when the process dies. A run driven by an outside scheduler (Airflow) is not.
        """
        with self._transaction() as connection:
            pipeline_id = self._pipeline_id(connection, pipeline)
            connection.execute(
                insert(run_table).values(
                    id=run_id,
                    pipeline_id=pipeline_id,
                    status="running",
                    spec_path=spec_path,
                    spec_sha256=spec_sha256,
                    orchestrator=orchestrator,
                    created_at=created_at,
                    started_at=_now(),
                    git_commit=(git or {}).get("commit"),
                    git_dirty=(git or {}).get("dirty"),
                    git_diff_sha256=(git or {}).get("diff_sha256"),
                    **(_owner_columns() if owned else {}),
                )
            )

    @staticmethod
    def _pipeline_id(connection: Connection, name: str) -> int:
        query = select(pipeline_table.c.id).where(pipeline_table.c.name == name)
        found = connection.scalar(query)
        if found is not None:
            return int(found)
        # Created in its own savepoint: when another process creates the same pipeline at the
        # same moment, the unique name wins once and this transaction simply reads it back.
        try:
            with connection.begin_nested():
                return _inserted_id(connection.execute(insert(pipeline_table).values(name=name, created_at=_now())))
        except IntegrityError:
            found = connection.scalar(query)
            if found is None:
                raise
            return int(found)

    def set_run_status(
        self,
        run_id: str,
        status: str,
        *,
        error_step: str | None = None,
        error_type: str | None = None,
        error_message: str | None = None,
    ) -> None:
        """Set a run's status; a final status also sets its end time."""
        values: dict[str, Any] = {
            "status": status,
            "error_step": error_step,
            "error_type": error_type,
            "error_message": error_message,
        }
        values["ended_at"] = None if status == "running" else _now()
        if status == "running":
            values.update(_owner_columns())  # a resumed run belongs to the process resuming it
        with self._transaction() as connection:
            connection.execute(update(run_table).where(run_table.c.id == run_id).values(**values))

    def heartbeat(self, run_id: str) -> None:
        """Mark a running run as alive now."""
        with self._transaction() as connection:
            connection.execute(update(run_table).where(run_table.c.id == run_id).values(heartbeat_at=_now()))

    def dead_runs(self, stale_after: float = 6 * 10.0) -> list[tuple[RunRecord, str]]:
        """``running`` runs whose owning process is gone, each with the reason (see ``owner.why_dead``).

        ``stale_after``: seconds without a heartbeat (refreshed every 10 s while a run executes)
        after which the owner counts as gone wherever it ran.
        """
        now = _now()
        dead = []
        for record in self.runs(status="running"):
            owner = RunOwner(record.host, record.pid, record.boot_id, record.pid_namespace, record.heartbeat_at)
            reason = why_dead(owner, now=now, stale_after=stale_after)
            if reason is not None:
                dead.append((record, reason))
        return dead

    def reap_dead_runs(self, stale_after: float = 6 * 10.0) -> list[str]:
        """Mark ``running`` runs whose process is gone, and their unfinished steps, ``crashed``; return their ids.

        A run is dead when its process is no longer alive on this host, or when its heartbeat
        is older than ``stale_after`` seconds (see ``dead_runs``).
        """
        reaped = []
        for record, _reason in self.dead_runs(stale_after):
            # Only the row as it was judged: a run that finished, beat again or was resumed since stays as it is.
            still_dead = (
                run_table.c.id == record.id,
                run_table.c.status == "running",
                run_table.c.pid == record.pid,
                run_table.c.heartbeat_at == record.heartbeat_at,
            )
            with self._transaction() as connection:
                now = _now()
                result = connection.execute(
                    update(run_table).where(*still_dead).values(status="crashed", ended_at=now, **_CRASHED)
                )
                if result.rowcount:
                    # in the same transaction: the steps it was running died with it and will never finish
                    connection.execute(
                        update(step_run_table)
                        .where(step_run_table.c.run_id == record.id, step_run_table.c.status.in_(UNFINISHED_STEP))
                        .values(status="crashed", ended_at=now, **_CRASHED)
                    )
                    reaped.append(record.id)
        return reaped

    def start_step(
        self,
        *,
        run_id: str,
        name: str,
        type_: str,
        params: dict[str, Any],
        cache_key: str | None,
        code_hash: str | None,
        cache_components: dict[str, Any] | None = None,
    ) -> int:
        """Record a step as ``running`` (replacing an earlier unfinished attempt); return its id."""
        values = {
            "type": type_,
            "status": "running",
            "params": canonical_json(params),
            "cache_key": cache_key,
            "code_hash": code_hash,
            "cache_components": canonical_json(cache_components) if cache_components is not None else None,
            "started_at": _now(),
        }
        with self._transaction() as connection:
            existing = connection.scalar(_STEP_ID, {"run_id": run_id, "name": name})
            if existing is not None:
                self._reset_attempt(connection, existing, values)
                return int(existing)
            return _inserted_id(connection.execute(_INSERT_STEP, {"run_id": run_id, "name": name, **values}))

    @staticmethod
    def _reset_attempt(connection: Connection, step_run_id: int, values: dict[str, Any]) -> None:
        """Start a step's attempt afresh in its existing row: nothing the earlier attempt recorded stays."""
        connection.execute(delete(event_table).where(event_table.c.step_run_id == step_run_id))
        connection.execute(delete(metric_table).where(metric_table.c.step_run_id == step_run_id))
        connection.execute(delete(deployment_table).where(deployment_table.c.step_run_id == step_run_id))
        connection.execute(
            update(step_run_table)
            .where(step_run_table.c.id == step_run_id)
            .values(**values, ended_at=None, error_type=None, error_message=None, cached_from_id=None)
        )

    def finish_step(
        self,
        step_run_id: int,
        *,
        status: str,
        inputs: Mapping[str, int],
        outputs: Mapping[str, ArtifactRecord | Any],
        metrics: Mapping[str, float],
        cached_from_id: int | None = None,
        deployment: Mapping[str, Any] | None = None,
    ) -> dict[str, int]:
        """Record a step's inputs, outputs (new or reused artifacts), metrics and final status.

        ``outputs`` maps names to a new artifact (anything with the ``StoredArtifact`` fields) or
        to an ``ArtifactRecord`` already in the store (a cache hit). ``deployment`` (a deployer's
        ``Deployment``: deployed, uri, gate, reason, metrics) is recorded with them. Returns
        output → artifact id.
        """
        with self._transaction() as connection:
            artifact_ids = {
                name: self._artifact_id(connection, artifact, step_run_id) for name, artifact in outputs.items()
            }
            edges = [(artifact_ids[name], "output", name) for name in outputs]
            edges += [(artifact_id, "input", name) for name, artifact_id in inputs.items()]
            if edges:  # outputs first, then inputs: the order of event ids zenml has always written
                connection.execute(
                    _INSERT_EVENTS,
                    [{"step_run_id": step_run_id, "artifact_id": a, "kind": k, "name": n} for a, k, n in edges],
                )
            if metrics:
                connection.execute(
                    _INSERT_METRICS,
                    [{"step_run_id": step_run_id, "name": name, "value": value} for name, value in metrics.items()],
                )
            if deployment is not None:
                run_id = connection.scalar(select(step_run_table.c.run_id).where(step_run_table.c.id == step_run_id))
                connection.execute(insert(deployment_table), _deployment_row(step_run_id, str(run_id), deployment))
            connection.execute(
                _FINISH_STEP,
                {"step_run_id": step_run_id, "status": status, "ended_at": _now(), "cached_from_id": cached_from_id},
            )
            return artifact_ids

    @staticmethod
    def _artifact_id(connection: Connection, artifact: Any, producer_id: int) -> int:
        if isinstance(artifact, ArtifactRecord):
            return artifact.id
        row = {
            "uri": artifact.uri,
            "format": artifact.format,
            "materializer": artifact.materializer,
            "data_type": artifact.data_type,
            "content_hash": artifact.content_hash,
            "size": artifact.size,
            "created_at": _now(),
            "producer_id": producer_id,
        }
        return _inserted_id(connection.execute(_INSERT_ARTIFACT, row))

    def fail_step(self, step_run_id: int, *, status: str, error_type: str, error_message: str) -> None:
        """Record a step as failed (or ``timed_out``) with the error."""
        with self._transaction() as connection:
            connection.execute(
                update(step_run_table)
                .where(step_run_table.c.id == step_run_id)
                .values(status=status, ended_at=_now(), error_type=error_type, error_message=error_message)
            )

    # -- reading ---------------------------------------------------------------------------------

    def pipelines(self) -> list[PipelineRecord]:
        """Every pipeline with its run count and last run time, by name."""
        query = (
            select(
                pipeline_table.c.name,
                pipeline_table.c.created_at,
                func.count(run_table.c.id),
                func.max(run_table.c.created_at),
            )
            .select_from(pipeline_table.outerjoin(run_table, run_table.c.pipeline_id == pipeline_table.c.id))
            .group_by(pipeline_table.c.id, pipeline_table.c.name, pipeline_table.c.created_at)
            .order_by(pipeline_table.c.name)
        )
        with self._transaction(readonly=True) as connection:
            return [PipelineRecord(*row) for row in connection.execute(query)]

    def runs(self, pipeline: str | None = None, limit: int | None = None, status: str | None = None) -> list[RunRecord]:
        """Runs, newest first, optionally of one pipeline or status."""
        query = _RUNS
        if pipeline is not None:
            query = query.where(pipeline_table.c.name == pipeline)
        if status is not None:
            query = query.where(run_table.c.status == status)
        query = query.order_by(run_table.c.created_at.desc(), run_table.c.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self._transaction(readonly=True) as connection:
            return [RunRecord(*row) for row in connection.execute(query)]

    def get_run(self, run_id: str) -> RunRecord:
        """The run with this id, or a unique id prefix.

        Raises:
            MetadataStoreError: no run, or an ambiguous prefix.
        """
        with self._transaction(readonly=True) as connection:
            exact = connection.execute(_RUNS.where(run_table.c.id == run_id)).first()
            if exact is not None:
                return RunRecord(*exact)
            escaped = run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            prefixed = _RUNS.where(run_table.c.id.like(f"{escaped}%", escape="\\")).limit(2)
            matches = connection.execute(prefixed).all()
        if len(matches) == 1:
            return RunRecord(*matches[0])
        if not matches:
            raise MetadataStoreError(f"no run '{run_id}' in the metadata store; list runs with 'zen runs list'")
        raise MetadataStoreError(f"run id prefix '{run_id}' matches several runs; give more characters")

    def find_run(self, run_id: str) -> RunRecord | None:
        """The run with exactly this id, or ``None`` (no prefix matching)."""
        with self._transaction(readonly=True) as connection:
            row = connection.execute(_RUNS.where(run_table.c.id == run_id)).first()
        return RunRecord(*row) if row is not None else None

    def step_runs(self, run_id: str) -> list[StepRunRecord]:
        """The step runs of a run, in the order they started."""
        query = _STEPS.where(step_run_table.c.run_id == run_id).order_by(step_run_table.c.id)
        with self._transaction(readonly=True) as connection:
            return [_step_record(row) for row in connection.execute(query)]

    def step_run(self, step_run_id: int) -> StepRunRecord:
        """One step run by id."""
        with self._transaction(readonly=True) as connection:
            row = connection.execute(_STEP_BY_ID, {"step_run_id": step_run_id}).first()
        if row is None:
            raise MetadataStoreError(f"no step run with id {step_run_id}")
        return _step_record(row)

    def step_artifacts(self, step_run_id: int, kind: str) -> dict[str, ArtifactRecord]:
        """The artifacts a step run read (``input``) or wrote (``output``), by name."""
        with self._transaction(readonly=True) as connection:
            rows = connection.execute(_STEP_ARTIFACTS, {"step_run_id": step_run_id, "kind": kind})
            return {row[0]: ArtifactRecord(*row[1:]) for row in rows}

    def run_outputs(self, run_id: str, steps: list[str] | None = None) -> dict[tuple[str, str], ArtifactRecord]:
        """Output artifacts of a run's completed or cached steps (all, or of ``steps``), by ``(step, output)``."""
        query = _run_outputs_query(of_steps=steps is not None)
        with self._transaction(readonly=True) as connection:
            rows = connection.execute(query, {"run_id": run_id, "steps": steps})
            return {(row[0], row[1]): ArtifactRecord(*row[2:]) for row in rows}

    def artifact(self, artifact_id: int) -> ArtifactRecord:
        """One artifact by id."""
        with self._transaction(readonly=True) as connection:
            row = connection.execute(_ARTIFACTS.where(artifact_table.c.id == artifact_id)).first()
        if row is None:
            raise MetadataStoreError(f"no artifact with id {artifact_id}; list them with 'zen artifacts list'")
        return ArtifactRecord(*row)

    def all_artifacts(self) -> list[ArtifactRecord]:
        """Every recorded artifact, oldest first, whether or not a step still lists it as an output."""
        with self._transaction(readonly=True) as connection:
            return [ArtifactRecord(*row) for row in connection.execute(_ARTIFACTS.order_by(artifact_table.c.id))]

    def artifacts(
        self, run_id: str | None = None, limit: int | None = None
    ) -> list[tuple[ArtifactRecord, str, str, str]]:
        """Artifacts with ``(record, run id, step, output)`` of their producer, newest first."""
        written = (
            (event_table.c.artifact_id == artifact_table.c.id)
            & (event_table.c.step_run_id == step_run_table.c.id)
            & (event_table.c.kind == "output")
        )
        query = (
            select(*_ARTIFACT_COLUMNS, step_run_table.c.run_id, step_run_table.c.name, event_table.c.name)
            .select_from(
                artifact_table.join(step_run_table, artifact_table.c.producer_id == step_run_table.c.id).join(
                    event_table, written
                )
            )
            .order_by(artifact_table.c.id.desc())
        )
        if run_id is not None:
            query = query.where(step_run_table.c.run_id == run_id)
        if limit is not None:
            query = query.limit(limit)
        size = len(_ARTIFACT_COLUMNS)
        with self._transaction(readonly=True) as connection:
            return [(ArtifactRecord(*row[:size]), *row[size:]) for row in connection.execute(query)]

    def run_artifacts(self, run_id: str) -> list[tuple[ArtifactRecord, str, str, str, str]]:
        """Every artifact a run's steps wrote or served from the cache, in step order.

        Rows are ``(record, step, output, producer run id, producer step)``: for a cached step the
        producer is the earlier run that computed the artifact.
        """
        producer = step_run_table.alias("producer")
        used = step_run_table.alias("used")
        query = (
            select(*_ARTIFACT_COLUMNS, used.c.name, event_table.c.name, producer.c.run_id, producer.c.name)
            .select_from(
                event_table.join(used, event_table.c.step_run_id == used.c.id)
                .join(artifact_table, event_table.c.artifact_id == artifact_table.c.id)
                .join(producer, artifact_table.c.producer_id == producer.c.id)
            )
            .where(used.c.run_id == run_id, event_table.c.kind == "output")
            .order_by(used.c.id, event_table.c.id)
        )
        size = len(_ARTIFACT_COLUMNS)
        with self._transaction(readonly=True) as connection:
            return [(ArtifactRecord(*row[:size]), *row[size:]) for row in connection.execute(query)]

    def metric_names(self, pipeline: str | None = None) -> list[str]:
        """The names of every metric a run (of ``pipeline``) logged, sorted."""
        query = (
            select(metric_table.c.name)
            .distinct()
            .select_from(metric_table.join(step_run_table, metric_table.c.step_run_id == step_run_table.c.id))
            .order_by(metric_table.c.name)
        )
        if pipeline is not None:
            query = (
                query.join(run_table, step_run_table.c.run_id == run_table.c.id)
                .join(pipeline_table, run_table.c.pipeline_id == pipeline_table.c.id)
                .where(pipeline_table.c.name == pipeline)
            )
        with self._transaction(readonly=True) as connection:
            return [name for (name,) in connection.execute(query)]

    def events_of_artifact(self, artifact_id: int) -> list[EventRecord]:
        """Every step run that read or wrote an artifact."""
        query = _EVENTS.where(event_table.c.artifact_id == artifact_id).order_by(event_table.c.id)
        with self._transaction(readonly=True) as connection:
            return [EventRecord(*row) for row in connection.execute(query)]

    def find_cached(self, cache_key: str, limit: int = 5) -> list[tuple[StepRunRecord, dict[str, ArtifactRecord]]]:
        """Completed executions with this cache key, newest first, with their outputs.

        One query (the executions joined with their output artifacts): the cache check runs for
        every step, and a query per execution cost a round trip each.
        """
        size = len(_STEP_COLUMNS)
        found: dict[int, tuple[StepRunRecord, dict[str, ArtifactRecord]]] = {}
        with self._transaction(readonly=True) as connection:
            for row in connection.execute(_find_cached_query(), {"cache_key": cache_key, "limit": limit}):
                if row[0] not in found:
                    found[row[0]] = (_step_record(row), {})
                if row[size] is not None:  # a step with no outputs comes back once, without an event
                    found[row[0]][1][row[size]] = ArtifactRecord(*row[size + 1 :])
        return list(found.values())

    def closest_execution(self, pipeline: str, name: str, type_: str) -> StepRunRecord | None:
        """The newest recorded execution of step ``name`` in ``pipeline``, else of the same step type."""
        base = (
            _STEPS.select_from(
                step_run_table.join(run_table, step_run_table.c.run_id == run_table.c.id).join(
                    pipeline_table, run_table.c.pipeline_id == pipeline_table.c.id
                )
            )
            .where(step_run_table.c.cache_components.is_not(None), step_run_table.c.status != "cached")
            .order_by(step_run_table.c.id.desc())
            .limit(1)
        )
        with self._transaction(readonly=True) as connection:
            row = connection.execute(
                base.where(pipeline_table.c.name == pipeline, step_run_table.c.name == name)
            ).first()
            if row is None:
                row = connection.execute(base.where(step_run_table.c.type == type_)).first()
        return _step_record(row) if row is not None else None

    def lineage(
        self, artifact_id: int
    ) -> tuple[dict[int, ArtifactRecord], dict[int, StepRunRecord], list[EventRecord]]:
        """The upstream graph of an artifact: every artifact and step run it derives from, and the edges.

        One recursive query finds every upstream artifact (producer → its inputs → their
        producers …), so the cost is three queries whatever the depth: a 20-step chain in a store
        of 100,000 step runs took 60 round trips when walked level by level.
        """
        upstream = select(artifact_table.c.id).where(artifact_table.c.id == artifact_id).cte("upstream", recursive=True)
        upstream = upstream.union(
            select(event_table.c.artifact_id)
            .select_from(
                event_table.join(artifact_table, artifact_table.c.producer_id == event_table.c.step_run_id).join(
                    upstream, artifact_table.c.id == upstream.c.id
                )
            )
            .where(event_table.c.kind == "input")
        )
        found = _ARTIFACTS.where(artifact_table.c.id.in_(select(upstream.c.id))).order_by(artifact_table.c.id.desc())
        with self._transaction(readonly=True) as connection:
            rows = [ArtifactRecord(*row) for row in connection.execute(found)]
            producers = {row.producer_id for row in rows if row.producer_id is not None}
            steps = {
                row[0]: _step_record(row)
                for row in connection.execute(_STEPS.where(step_run_table.c.id.in_(producers)))
            }
            inputs = _EVENTS.where(event_table.c.step_run_id.in_(producers), event_table.c.kind == "input")
            edges = [EventRecord(*row) for row in connection.execute(inputs.order_by(event_table.c.id))]
        artifacts = {row.id: row for row in rows}
        outputs = [
            EventRecord(row.producer_id, row.id, "output", "")
            for row in rows
            if row.producer_id is not None and row.producer_id in steps
        ]
        return artifacts, steps, outputs + edges

    def metric_by_run(self, name: str, run_ids: list[str] | None = None) -> dict[str, float]:
        """The value of metric ``name`` per run (the last step that logged it wins)."""
        query = (
            select(step_run_table.c.run_id, metric_table.c.value)
            .select_from(step_run_table.join(metric_table, metric_table.c.step_run_id == step_run_table.c.id))
            .where(metric_table.c.name == name)
            .order_by(step_run_table.c.id)
        )
        if run_ids is not None:
            query = query.where(step_run_table.c.run_id.in_(run_ids))
        with self._transaction(readonly=True) as connection:
            return {run_id: value for run_id, value in connection.execute(query)}

    def runs_by_metric(
        self, name: str, pipeline: str | None = None, limit: int | None = None, ascending: bool = False
    ) -> list[tuple[RunRecord, float]]:
        """Runs that logged metric ``name`` with its value, best (highest) first; newest first among equals.

        The value is the one ``metric_by_run`` gives (the last step that logged it wins); the database
        sorts and limits, so a store of many runs is never read whole.
        """
        last_step = (
            select(step_run_table.c.run_id, func.max(step_run_table.c.id).label("step_run_id"))
            .select_from(step_run_table.join(metric_table, metric_table.c.step_run_id == step_run_table.c.id))
            .where(metric_table.c.name == name)
            .group_by(step_run_table.c.run_id)
            .subquery()
        )
        value = metric_table.c.value
        query = (
            _RUNS.add_columns(value)
            .join(last_step, last_step.c.run_id == run_table.c.id)
            .join(metric_table, (metric_table.c.step_run_id == last_step.c.step_run_id) & (metric_table.c.name == name))
            .order_by(value.asc() if ascending else value.desc(), run_table.c.created_at.desc(), run_table.c.id.desc())
        )
        if pipeline is not None:
            query = query.where(pipeline_table.c.name == pipeline)
        if limit is not None:
            query = query.limit(limit)
        with self._transaction(readonly=True) as connection:
            return [(RunRecord(*row[:-1]), row[-1]) for row in connection.execute(query)]

    def source_step_runs(self, limit: int | None = 50, pipeline: str | None = None) -> list[tuple[StepRunRecord, str]]:
        """Step runs that recorded a source version (datasources), newest first, with their pipeline."""
        query = (
            select(*_STEP_COLUMNS, pipeline_table.c.name)
            .select_from(
                step_run_table.join(run_table, step_run_table.c.run_id == run_table.c.id).join(
                    pipeline_table, run_table.c.pipeline_id == pipeline_table.c.id
                )
            )
            .where(
                step_run_table.c.cache_components.like('%"source":%'),
                step_run_table.c.status.in_(("completed", "cached")),
            )
            .order_by(step_run_table.c.id.desc())
        )
        if pipeline is not None:
            query = query.where(pipeline_table.c.name == pipeline)
        if limit is not None:
            query = query.limit(limit)
        with self._transaction(readonly=True) as connection:
            return [(_step_record(row), row[-1]) for row in connection.execute(query)]

    def step_metrics(self, step_run_id: int) -> dict[str, float]:
        """The metrics one step run logged."""
        with self._transaction(readonly=True) as connection:
            return {name: value for name, value in connection.execute(_STEP_METRICS, {"step_run_id": step_run_id})}

    def deployments(
        self, pipeline: str | None = None, limit: int | None = None, deployed_only: bool = False
    ) -> list[DeploymentRecord]:
        """Recorded deployments, newest first (of one pipeline; only those that passed their gate)."""
        query = (
            select(
                deployment_table.c.id,
                deployment_table.c.run_id,
                pipeline_table.c.name,
                step_run_table.c.name,
                deployment_table.c.deployed,
                deployment_table.c.uri,
                deployment_table.c.gate,
                deployment_table.c.reason,
                deployment_table.c.metrics,
                deployment_table.c.created_at,
            )
            .select_from(
                deployment_table.join(step_run_table, step_run_table.c.id == deployment_table.c.step_run_id)
                .join(run_table, run_table.c.id == deployment_table.c.run_id)
                .join(pipeline_table, pipeline_table.c.id == run_table.c.pipeline_id)
            )
            .order_by(deployment_table.c.created_at.desc(), deployment_table.c.id.desc())
        )
        if pipeline is not None:
            query = query.where(pipeline_table.c.name == pipeline)
        if deployed_only:
            query = query.where(deployment_table.c.deployed.is_(True))
        if limit is not None:
            query = query.limit(limit)
        with self._transaction(readonly=True) as connection:
            rows = connection.execute(query).all()
        return [
            DeploymentRecord(
                id=row[0], run_id=row[1], pipeline=row[2], step=row[3], deployed=bool(row[4]), uri=row[5],
                gate=json.loads(row[6]), reason=row[7], metrics=json.loads(row[8]), created_at=row[9],
            )
            for row in rows
        ]  # fmt: skip

    def metrics(self, run_id: str) -> dict[str, dict[str, float]]:
        """A run's metrics: step → {metric: value}."""
        query = (
            select(step_run_table.c.name, metric_table.c.name, metric_table.c.value)
            .select_from(step_run_table.join(metric_table, metric_table.c.step_run_id == step_run_table.c.id))
            .where(step_run_table.c.run_id == run_id)
            .order_by(step_run_table.c.id, metric_table.c.id)
        )
        result: dict[str, dict[str, float]] = {}
        with self._transaction(readonly=True) as connection:
            for step, name, value in connection.execute(query):
                result.setdefault(step, {})[name] = value
        return result


@cache
def _run_outputs_query(of_steps: bool) -> Select[*tuple[Any, ...]]:
    """``(step, output, *artifact)`` of the run ``:run_id``'s finished steps (``of_steps``: of those in ``:steps``)."""
    query = (
        select(step_run_table.c.name, event_table.c.name, *_ARTIFACT_COLUMNS)
        .select_from(
            step_run_table.join(event_table, event_table.c.step_run_id == step_run_table.c.id).join(
                artifact_table, event_table.c.artifact_id == artifact_table.c.id
            )
        )
        .where(
            step_run_table.c.run_id == bindparam("run_id"),
            event_table.c.kind == "output",
            step_run_table.c.status.in_(("completed", "cached")),
        )
    )
    if of_steps:
        query = query.where(step_run_table.c.name.in_(bindparam("steps", expanding=True)))
    return query


@cache
def _find_cached_query() -> Select[*tuple[Any, ...]]:
    """The newest ``:limit`` completed step runs with ``:cache_key``, each once per output (once if it has none)."""
    latest = (
        _STEPS.where(step_run_table.c.cache_key == bindparam("cache_key"), step_run_table.c.status == "completed")
        .order_by(step_run_table.c.id.desc())
        .limit(bindparam("limit"))
        .subquery("latest")
    )
    outputs = (event_table.c.step_run_id == latest.c.id) & (event_table.c.kind == "output")
    return (
        select(latest, event_table.c.name, *_ARTIFACT_COLUMNS)
        .select_from(
            latest.outerjoin(event_table, outputs).outerjoin(
                artifact_table, artifact_table.c.id == event_table.c.artifact_id
            )
        )
        .order_by(latest.c.id.desc(), event_table.c.id)
    )


def _owner_columns() -> dict[str, Any]:
    """The run-owner columns for the calling process (see ``zenml.metadata.owner``)."""
    owner = this_process()
    return {
        "host": owner.host,
        "pid": owner.pid,
        "boot_id": owner.boot_id,
        "pid_namespace": owner.pid_namespace,
        "heartbeat_at": owner.heartbeat_at,
    }


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the "begin" hook below issue BEGIN itself
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "busy_timeout=60000", "synchronous=NORMAL", "foreign_keys=ON"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the lock up front so two processes never deadlock upgrading read locks.
        readonly = connection.get_execution_options().get("zen_readonly", False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def _deployment_row(step_run_id: int, run_id: str, deployment: Mapping[str, Any]) -> dict[str, Any]:
    """The ``deployments`` row of a step run's ``Deployment``."""
    return {
        "step_run_id": step_run_id,
        "run_id": run_id,
        "deployed": bool(deployment.get("deployed")),
        "uri": deployment.get("uri"),
        "gate": canonical_json(deployment.get("gate") or {}),
        "reason": deployment.get("reason"),
        "metrics": json.dumps(deployment.get("metrics") or {}),  # in the evaluator's order
        "created_at": _now(),
    }


def _inserted_id(result: CursorResult[Any]) -> int:
    """The id of the one row an INSERT wrote (RETURNING or the cursor's last row id, as the driver allows)."""
    key = result.inserted_primary_key
    if key is None:
        raise MetadataStoreError("the database returned no id for a new row")
    return int(key[0])


def _step_record(row: Sequence[Any]) -> StepRunRecord:
    """The step run in the ``_STEP_COLUMNS`` that ``row`` starts with (its JSON columns decoded)."""
    values = dict(zip((column.name for column in _STEP_COLUMNS), row[: len(_STEP_COLUMNS)], strict=True))
    values["params"] = json.loads(values["params"])
    values["cache_components"] = json.loads(values["cache_components"]) if values["cache_components"] else None
    return StepRunRecord(**values)
