"""``SQLMetadataStore``: runs, step runs, artifacts, lineage and metrics in one SQL database.

Transactions are short and explicit. On SQLite the store uses WAL, a busy timeout and
``BEGIN IMMEDIATE`` for writes, so concurrent processes queue instead of failing with
"database is locked".

One store logic on every engine: the methods below open a transaction and run statements in it,
by NAME for everything a run does (``zenml.metadata.statements``), or as a Core statement built on
the spot for the rarely used queries (lineage, metrics, deployments ...). The execution seam
(``zenml.metadata.execution``) runs them: the default SQLite store with ``sqlite3`` and SQL text
pre-rendered from the same Core statements, so running a pipeline never imports SQLAlchemy (it
cost ~130 ms of every process's start-up and ~0.5 ms of each step's recording); servers through
SQLAlchemy as before. Decision and reasons: ``zenml.metadata.execution``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zenml.exceptions import ConfigError, MetadataStoreError
from zenml.metadata.execution import Database, SQLiteDatabase, Transaction, sqlite_path
from zenml.metadata.owner import RunOwner, this_process, why_dead
from zenml.metadata.records import (
    ArtifactRecord,
    DeploymentRecord,
    EventRecord,
    PipelineRecord,
    RunRecord,
    StepRunRecord,
)
from zenml.utils.hashing import canonical_json
from zenml.utils.redact import redact_url
from zenml.utils.status import STALE_AFTER_SECONDS, RunStatus, StepStatus

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.engine import URL

_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}
_STEP_FIELDS = tuple(f.name for f in fields(StepRunRecord))
_SUCCEEDED_STEP = (StepStatus.COMPLETED, StepStatus.CACHED)  # a fixed order: rendered SQL stays the same


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
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

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
    from sqlalchemy.exc import NoSuchModuleError

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
    plain = sqlite_path(normalise_url(url, base_dir))
    if plain is not None:
        return Path(plain)
    parsed = parse_url(url, base_dir)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


#: step statuses that a live process will still change; a crashed run's steps in them are crashed too
UNFINISHED_STEP = (StepStatus.RUNNING, StepStatus.PENDING)
_CRASHED = {
    "error_type": "Crashed",
    "error_message": "the process running it died (killed, or its machine stopped)",
}


def _now() -> float:
    return time.time()


def _open_database(url: str, display_url: str) -> Database:
    """``sqlite3`` directly for a plain SQLite file; SQLAlchemy for everything else."""
    path = sqlite_path(url)
    if path is not None:
        return SQLiteDatabase(url, path, display_url)
    from zenml.metadata.alchemy import SQLAlchemyDatabase

    return SQLAlchemyDatabase(url, display_url)


class SQLMetadataStore:
    """The metadata store on SQLite, MySQL/MariaDB (PyMySQL) or PostgreSQL (psycopg 3).

    Args:
        url: an SQLAlchemy URL; ``postgresql://`` and ``mysql://`` pick psycopg and PyMySQL.
        base_dir: what relative SQLite paths are relative to (the repository root).
    """

    def __init__(self, url: str, base_dir: Path | None = None) -> None:
        self.url = normalise_url(url, base_dir)
        self.display_url = redact_url(self.url)
        self._database = _open_database(self.url, self.display_url)
        try:
            self._database.prepare()
        except BaseException:
            self._database.close()  # a store that failed to open must not leak its pooled connection
            raise

    # -- connection ------------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """An SQLAlchemy engine on the store's database, configured as its own connections are.

        The store itself runs SQLite without one (``zenml.metadata.execution``); this is for tools
        and tests, and is created when first asked for.
        """
        return self._database.engine

    @contextmanager
    def _transaction(self, readonly: bool = False) -> Iterator[Transaction]:
        """A pooled connection in a transaction, committed when the block ends and rolled back if it raises."""
        with self._database.transaction(readonly) as transaction:
            yield transaction

    def close(self) -> None:
        """Release pooled connections."""
        self._database.close()

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
        with self._transaction() as transaction:
            pipeline_id = self._pipeline_id(transaction, pipeline)
            transaction.write(
                "run.insert",
                {
                    "id": run_id,
                    "pipeline_id": pipeline_id,
                    "status": RunStatus.RUNNING,
                    "spec_path": spec_path,
                    "spec_sha256": spec_sha256,
                    "orchestrator": orchestrator,
                    "created_at": created_at,
                    "started_at": _now(),
                    "git_commit": (git or {}).get("commit"),
                    "git_dirty": (git or {}).get("dirty"),
                    "git_diff_sha256": (git or {}).get("diff_sha256"),
                    **(_owner_columns() if owned else dict.fromkeys(_OWNER_COLUMNS)),
                },
            )

    @staticmethod
    def _pipeline_id(transaction: Transaction, name: str) -> int:
        found = transaction.scalar("pipeline.id", {"name": name})
        if found is not None:
            return int(found)
        # Created in its own savepoint: when another process creates the same pipeline at the
        # same moment, the unique name wins once and this transaction simply reads it back.
        try:
            with transaction.savepoint():
                return transaction.insert("pipeline.insert", {"name": name, "created_at": _now()})
        except transaction.integrity_error:
            found = transaction.scalar("pipeline.id", {"name": name})
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
            "run_id": run_id,
            "status": status,
            "error_step": error_step,
            "error_type": error_type,
            "error_message": error_message,
        }
        values["ended_at"] = None if status == RunStatus.RUNNING else _now()
        if status == RunStatus.RUNNING:
            values.update(_owner_columns())  # a resumed run belongs to the process resuming it
        with self._transaction() as transaction:
            transaction.write("run.status+owner" if status == RunStatus.RUNNING else "run.status", values)

    def heartbeat(self, run_id: str) -> None:
        """Mark a running run as alive now."""
        with self._transaction() as transaction:
            transaction.write("run.heartbeat", {"run_id": run_id, "heartbeat_at": _now()})

    def dead_runs(self, stale_after: float = STALE_AFTER_SECONDS) -> list[tuple[RunRecord, str]]:
        """``running`` runs whose owning process is gone, each with the reason (see ``owner.why_dead``).

        ``stale_after``: seconds without a heartbeat (refreshed every 10 s while a run executes)
        after which the owner counts as gone wherever it ran.
        """
        now = _now()
        dead = []
        for record in self.runs(status=RunStatus.RUNNING):
            owner = RunOwner(record.host, record.pid, record.boot_id, record.pid_namespace, record.heartbeat_at)
            reason = why_dead(owner, now=now, stale_after=stale_after)
            if reason is not None:
                dead.append((record, reason))
        return dead

    def reap_dead_runs(self, stale_after: float = STALE_AFTER_SECONDS) -> list[str]:
        """Mark ``running`` runs whose process is gone, and their unfinished steps, ``crashed``; return their ids.

        A run is dead when its process is no longer alive on this host, or when its heartbeat
        is older than ``stale_after`` seconds (see ``dead_runs``).
        """
        reaped = []
        for record, _reason in self.dead_runs(stale_after):
            with self._transaction() as transaction:
                crashed = {"status": RunStatus.CRASHED, "ended_at": _now(), **_CRASHED}
                # Only the row as it was judged: a run that finished, beat again or was resumed since stays as it is.
                judged = {"run_id": record.id, "judged_pid": record.pid, "judged_heartbeat_at": record.heartbeat_at}
                if transaction.write("run.crash", {**judged, **crashed}):
                    # in the same transaction: the steps it was running died with it and will never finish
                    transaction.write("run.crash_steps", {"of_run": record.id, **crashed})
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
            "status": StepStatus.RUNNING,
            "params": canonical_json(params),
            "cache_key": cache_key,
            "code_hash": code_hash,
            "cache_components": canonical_json(cache_components) if cache_components is not None else None,
            "started_at": _now(),
        }
        with self._transaction() as transaction:
            existing = transaction.scalar("step.id", {"run_id": run_id, "name": name})
            if existing is not None:
                self._reset_attempt(transaction, existing, values)
                return int(existing)
            return transaction.insert("step.insert", {"run_id": run_id, "name": name, **values})

    @staticmethod
    def _reset_attempt(transaction: Transaction, step_run_id: int, values: dict[str, Any]) -> None:
        """Start a step's attempt afresh in its existing row: nothing the earlier attempt recorded stays."""
        key = {"step_run_id": step_run_id}
        transaction.write("step.reset.events", key)
        transaction.write("step.reset.metrics", key)
        transaction.write("step.reset.deployments", key)
        cleared = {"ended_at": None, "error_type": None, "error_message": None, "cached_from_id": None}
        transaction.write("step.reset", {**key, **values, **cleared})

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
        with self._transaction() as transaction:
            artifact_ids = {
                name: self._artifact_id(transaction, artifact, step_run_id) for name, artifact in outputs.items()
            }
            edges = [(artifact_ids[name], "output", name) for name in outputs]
            edges += [(artifact_id, "input", name) for name, artifact_id in inputs.items()]
            if edges:  # outputs first, then inputs: the order of event ids zenml has always written
                transaction.write(
                    "event.insert",
                    [{"step_run_id": step_run_id, "artifact_id": a, "kind": k, "name": n} for a, k, n in edges],
                )
            if metrics:
                transaction.write(
                    "metric.insert",
                    [{"step_run_id": step_run_id, "name": name, "value": value} for name, value in metrics.items()],
                )
            if deployment is not None:
                run_id = transaction.scalar("step.run_id", {"step_run_id": step_run_id})
                transaction.write("deployment.insert", _deployment_row(step_run_id, str(run_id), deployment))
            transaction.write(
                "step.finish",
                {"step_run_id": step_run_id, "status": status, "ended_at": _now(), "cached_from_id": cached_from_id},
            )
            return artifact_ids

    @staticmethod
    def _artifact_id(transaction: Transaction, artifact: Any, producer_id: int) -> int:
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
        return transaction.insert("artifact.insert", row)

    def fail_step(self, step_run_id: int, *, status: str, error_type: str, error_message: str) -> None:
        """Record a step as failed (or ``timed_out``) with the error."""
        values = {"step_run_id": step_run_id, "status": status, "ended_at": _now()}
        with self._transaction() as transaction:
            transaction.write("step.fail", {**values, "error_type": error_type, "error_message": error_message})

    # -- reading ---------------------------------------------------------------------------------

    def pipelines(self) -> list[PipelineRecord]:
        """Every pipeline with its run count and last run time, by name."""
        from sqlalchemy import func, select

        from zenml.metadata.tables import pipeline_table, run_table

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
        with self._transaction(readonly=True) as transaction:
            return [PipelineRecord(*row) for row in transaction.rows(query)]

    def runs(self, pipeline: str | None = None, limit: int | None = None, status: str | None = None) -> list[RunRecord]:
        """Runs, newest first, optionally of one pipeline or status."""
        params = {"pipeline": pipeline, "status": status, "limit": limit}
        name = "runs" + "".join(f"+{key}" for key, value in params.items() if value is not None)
        with self._transaction(readonly=True) as transaction:
            rows = transaction.rows(name, {key: value for key, value in params.items() if value is not None})
            return [RunRecord(*row) for row in rows]

    def get_run(self, run_id: str) -> RunRecord:
        """The run with this id, or a unique id prefix.

        Raises:
            MetadataStoreError: no run, or an ambiguous prefix.
        """
        with self._transaction(readonly=True) as transaction:
            exact = transaction.first("run.by_id", {"run_id": run_id})
            if exact is not None:
                return RunRecord(*exact)
            escaped = run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            matches = transaction.rows("run.by_prefix", {"pattern": f"{escaped}%"})
        if len(matches) == 1:
            return RunRecord(*matches[0])
        if not matches:
            raise MetadataStoreError(f"no run '{run_id}' in the metadata store; list runs with 'zen runs list'")
        raise MetadataStoreError(f"run id prefix '{run_id}' matches several runs; give more characters")

    def find_run(self, run_id: str) -> RunRecord | None:
        """The run with exactly this id, or ``None`` (no prefix matching)."""
        with self._transaction(readonly=True) as transaction:
            row = transaction.first("run.by_id", {"run_id": run_id})
        return RunRecord(*row) if row is not None else None

    def step_runs(self, run_id: str) -> list[StepRunRecord]:
        """The step runs of a run, in the order they started."""
        with self._transaction(readonly=True) as transaction:
            return [_step_record(row) for row in transaction.rows("steps.of_run", {"run_id": run_id})]

    def step_run(self, step_run_id: int) -> StepRunRecord:
        """One step run by id."""
        with self._transaction(readonly=True) as transaction:
            row = transaction.first("step.by_id", {"step_run_id": step_run_id})
        if row is None:
            raise MetadataStoreError(f"no step run with id {step_run_id}")
        return _step_record(row)

    def step_artifacts(self, step_run_id: int, kind: str) -> dict[str, ArtifactRecord]:
        """The artifacts a step run read (``input``) or wrote (``output``), by name."""
        with self._transaction(readonly=True) as transaction:
            rows = transaction.rows("step.artifacts", {"step_run_id": step_run_id, "kind": kind})
            return {row[0]: ArtifactRecord(*row[1:]) for row in rows}

    def run_outputs(self, run_id: str, steps: list[str] | None = None) -> dict[tuple[str, str], ArtifactRecord]:
        """Output artifacts of a run's completed or cached steps (all, or of ``steps``), by ``(step, output)``."""
        with self._transaction(readonly=True) as transaction:
            if steps is None:
                rows = transaction.rows("run.outputs", {"run_id": run_id})
            else:
                rows = transaction.rows("run.outputs+steps", {"run_id": run_id, "steps": steps})
            return {(row[0], row[1]): ArtifactRecord(*row[2:]) for row in rows}

    def artifact(self, artifact_id: int) -> ArtifactRecord:
        """One artifact by id."""
        with self._transaction(readonly=True) as transaction:
            row = transaction.first("artifact.by_id", {"artifact_id": artifact_id})
        if row is None:
            raise MetadataStoreError(f"no artifact with id {artifact_id}; list them with 'zen artifacts list'")
        return ArtifactRecord(*row)

    def all_artifacts(self) -> list[ArtifactRecord]:
        """Every recorded artifact, oldest first, whether or not a step still lists it as an output."""
        from zenml.metadata.statements import ARTIFACTS
        from zenml.metadata.tables import artifact_table

        with self._transaction(readonly=True) as transaction:
            return [ArtifactRecord(*row) for row in transaction.rows(ARTIFACTS.order_by(artifact_table.c.id))]

    def artifacts(
        self, run_id: str | None = None, limit: int | None = None
    ) -> list[tuple[ArtifactRecord, str, str, str]]:
        """Artifacts with ``(record, run id, step, output)`` of their producer, newest first."""
        from sqlalchemy import select

        from zenml.metadata.statements import ARTIFACT_COLUMNS
        from zenml.metadata.tables import artifact_table, event_table, step_run_table

        written = (
            (event_table.c.artifact_id == artifact_table.c.id)
            & (event_table.c.step_run_id == step_run_table.c.id)
            & (event_table.c.kind == "output")
        )
        query = (
            select(*ARTIFACT_COLUMNS, step_run_table.c.run_id, step_run_table.c.name, event_table.c.name)
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
        size = len(ARTIFACT_COLUMNS)
        with self._transaction(readonly=True) as transaction:
            return [(ArtifactRecord(*row[:size]), *row[size:]) for row in transaction.rows(query)]

    def run_artifacts(self, run_id: str) -> list[tuple[ArtifactRecord, str, str, str, str]]:
        """Every artifact a run's steps wrote or served from the cache, in step order.

        Rows are ``(record, step, output, producer run id, producer step)``: for a cached step the
        producer is the earlier run that computed the artifact.
        """
        from sqlalchemy import select

        from zenml.metadata.statements import ARTIFACT_COLUMNS
        from zenml.metadata.tables import artifact_table, event_table, step_run_table

        producer = step_run_table.alias("producer")
        used = step_run_table.alias("used")
        query = (
            select(*ARTIFACT_COLUMNS, used.c.name, event_table.c.name, producer.c.run_id, producer.c.name)
            .select_from(
                event_table.join(used, event_table.c.step_run_id == used.c.id)
                .join(artifact_table, event_table.c.artifact_id == artifact_table.c.id)
                .join(producer, artifact_table.c.producer_id == producer.c.id)
            )
            .where(used.c.run_id == run_id, event_table.c.kind == "output")
            .order_by(used.c.id, event_table.c.id)
        )
        size = len(ARTIFACT_COLUMNS)
        with self._transaction(readonly=True) as transaction:
            return [(ArtifactRecord(*row[:size]), *row[size:]) for row in transaction.rows(query)]

    def metric_names(self, pipeline: str | None = None) -> list[str]:
        """The names of every metric a run (of ``pipeline``) logged, sorted."""
        from sqlalchemy import select

        from zenml.metadata.tables import metric_table, pipeline_table, run_table, step_run_table

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
        with self._transaction(readonly=True) as transaction:
            return [name for (name,) in transaction.rows(query)]

    def events_of_artifact(self, artifact_id: int) -> list[EventRecord]:
        """Every step run that read or wrote an artifact."""
        from zenml.metadata.statements import EVENTS
        from zenml.metadata.tables import event_table

        query = EVENTS.where(event_table.c.artifact_id == artifact_id).order_by(event_table.c.id)
        with self._transaction(readonly=True) as transaction:
            return [EventRecord(*row) for row in transaction.rows(query)]

    def find_cached(self, cache_key: str, limit: int = 5) -> list[tuple[StepRunRecord, dict[str, ArtifactRecord]]]:
        """Completed executions with this cache key, newest first, with their outputs.

        One query (the executions joined with their output artifacts): the cache check runs for
        every step, and a query per execution cost a round trip each.
        """
        size = len(_STEP_FIELDS)
        found: dict[int, tuple[StepRunRecord, dict[str, ArtifactRecord]]] = {}
        with self._transaction(readonly=True) as transaction:
            for row in transaction.rows("step.find_cached", {"cache_key": cache_key, "limit": limit}):
                if row[0] not in found:
                    found[row[0]] = (_step_record(row), {})
                if row[size] is not None:  # a step with no outputs comes back once, without an event
                    found[row[0]][1][row[size]] = ArtifactRecord(*row[size + 1 :])
        return list(found.values())

    def closest_execution(self, pipeline: str, name: str, type_: str) -> StepRunRecord | None:
        """The newest recorded execution of step ``name`` in ``pipeline``, else of the same step type."""
        with self._transaction(readonly=True) as transaction:
            row = transaction.first("step.closest+name", {"pipeline": pipeline, "name": name})
            if row is None:
                row = transaction.first("step.closest+type", {"type": type_})
        return _step_record(row) if row is not None else None

    def lineage(
        self, artifact_id: int
    ) -> tuple[dict[int, ArtifactRecord], dict[int, StepRunRecord], list[EventRecord]]:
        """The upstream graph of an artifact: every artifact and step run it derives from, and the edges.

        One recursive query finds every upstream artifact (producer → its inputs → their
        producers …), so the cost is three queries whatever the depth: a 20-step chain in a store
        of 100,000 step runs took 60 round trips when walked level by level.
        """
        from sqlalchemy import select

        from zenml.metadata.statements import ARTIFACTS, EVENTS, STEPS
        from zenml.metadata.tables import artifact_table, event_table, step_run_table

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
        found = ARTIFACTS.where(artifact_table.c.id.in_(select(upstream.c.id))).order_by(artifact_table.c.id.desc())
        with self._transaction(readonly=True) as transaction:
            rows = [ArtifactRecord(*row) for row in transaction.rows(found)]
            producers = {row.producer_id for row in rows if row.producer_id is not None}
            steps = {
                row[0]: _step_record(row) for row in transaction.rows(STEPS.where(step_run_table.c.id.in_(producers)))
            }
            inputs = EVENTS.where(event_table.c.step_run_id.in_(producers), event_table.c.kind == "input")
            edges = [EventRecord(*row) for row in transaction.rows(inputs.order_by(event_table.c.id))]
        artifacts = {row.id: row for row in rows}
        outputs = [
            EventRecord(row.producer_id, row.id, "output", "")
            for row in rows
            if row.producer_id is not None and row.producer_id in steps
        ]
        return artifacts, steps, outputs + edges

    def metric_by_run(self, name: str, run_ids: list[str] | None = None) -> dict[str, float]:
        """The value of metric ``name`` per run (the last step that logged it wins)."""
        from sqlalchemy import select

        from zenml.metadata.tables import metric_table, step_run_table

        query = (
            select(step_run_table.c.run_id, metric_table.c.value)
            .select_from(step_run_table.join(metric_table, metric_table.c.step_run_id == step_run_table.c.id))
            .where(metric_table.c.name == name)
            .order_by(step_run_table.c.id)
        )
        if run_ids is not None:
            query = query.where(step_run_table.c.run_id.in_(run_ids))
        with self._transaction(readonly=True) as transaction:
            return {run_id: value for run_id, value in transaction.rows(query)}

    def runs_by_metric(
        self, name: str, pipeline: str | None = None, limit: int | None = None, ascending: bool = False
    ) -> list[tuple[RunRecord, float]]:
        """Runs that logged metric ``name`` with its value, best (highest) first; newest first among equals.

        The value is the one ``metric_by_run`` gives (the last step that logged it wins); the database
        sorts and limits, so a store of many runs is never read whole.
        """
        from sqlalchemy import func, select

        from zenml.metadata.statements import RUNS
        from zenml.metadata.tables import metric_table, pipeline_table, run_table, step_run_table

        last_step = (
            select(step_run_table.c.run_id, func.max(step_run_table.c.id).label("step_run_id"))
            .select_from(step_run_table.join(metric_table, metric_table.c.step_run_id == step_run_table.c.id))
            .where(metric_table.c.name == name)
            .group_by(step_run_table.c.run_id)
            .subquery()
        )
        value = metric_table.c.value
        query = (
            RUNS.add_columns(value)
            .join(last_step, last_step.c.run_id == run_table.c.id)
            .join(metric_table, (metric_table.c.step_run_id == last_step.c.step_run_id) & (metric_table.c.name == name))
            .order_by(value.asc() if ascending else value.desc(), run_table.c.created_at.desc(), run_table.c.id.desc())
        )
        if pipeline is not None:
            query = query.where(pipeline_table.c.name == pipeline)
        if limit is not None:
            query = query.limit(limit)
        with self._transaction(readonly=True) as transaction:
            return [(RunRecord(*row[:-1]), row[-1]) for row in transaction.rows(query)]

    def source_step_runs(self, limit: int | None = 50, pipeline: str | None = None) -> list[tuple[StepRunRecord, str]]:
        """Step runs that recorded a source version (datasources), newest first, with their pipeline."""
        from sqlalchemy import select

        from zenml.metadata.statements import STEP_COLUMNS
        from zenml.metadata.tables import pipeline_table, run_table, step_run_table

        query = (
            select(*STEP_COLUMNS, pipeline_table.c.name)
            .select_from(
                step_run_table.join(run_table, step_run_table.c.run_id == run_table.c.id).join(
                    pipeline_table, run_table.c.pipeline_id == pipeline_table.c.id
                )
            )
            .where(
                step_run_table.c.cache_components.like('%"source":%'),
                step_run_table.c.status.in_(_SUCCEEDED_STEP),
            )
            .order_by(step_run_table.c.id.desc())
        )
        if pipeline is not None:
            query = query.where(pipeline_table.c.name == pipeline)
        if limit is not None:
            query = query.limit(limit)
        with self._transaction(readonly=True) as transaction:
            return [(_step_record(row), row[-1]) for row in transaction.rows(query)]

    def step_metrics(self, step_run_id: int) -> dict[str, float]:
        """The metrics one step run logged."""
        with self._transaction(readonly=True) as transaction:
            return {name: value for name, value in transaction.rows("step.metrics", {"step_run_id": step_run_id})}

    def deployments(
        self, pipeline: str | None = None, limit: int | None = None, deployed_only: bool = False
    ) -> list[DeploymentRecord]:
        """Recorded deployments, newest first (of one pipeline; only those that passed their gate)."""
        from sqlalchemy import select

        from zenml.metadata.tables import deployment_table, pipeline_table, run_table, step_run_table

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
        with self._transaction(readonly=True) as transaction:
            rows = transaction.rows(query)
        return [
            DeploymentRecord(
                id=row[0], run_id=row[1], pipeline=row[2], step=row[3], deployed=bool(row[4]), uri=row[5],
                gate=json.loads(row[6]), reason=row[7], metrics=json.loads(row[8]), created_at=row[9],
            )
            for row in rows
        ]  # fmt: skip

    def metrics(self, run_id: str) -> dict[str, dict[str, float]]:
        """A run's metrics: step → {metric: value}."""
        from sqlalchemy import select

        from zenml.metadata.tables import metric_table, step_run_table

        query = (
            select(step_run_table.c.name, metric_table.c.name, metric_table.c.value)
            .select_from(step_run_table.join(metric_table, metric_table.c.step_run_id == step_run_table.c.id))
            .where(step_run_table.c.run_id == run_id)
            .order_by(step_run_table.c.id, metric_table.c.id)
        )
        result: dict[str, dict[str, float]] = {}
        with self._transaction(readonly=True) as transaction:
            for step, name, value in transaction.rows(query):
                result.setdefault(step, {})[name] = value
        return result


_OWNER_COLUMNS = ("host", "pid", "boot_id", "pid_namespace", "heartbeat_at")


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


def _step_record(row: Sequence[Any]) -> StepRunRecord:
    """The step run in the ``StepRunRecord`` fields that ``row`` starts with (its JSON columns decoded)."""
    values = dict(zip(_STEP_FIELDS, row[: len(_STEP_FIELDS)], strict=True))
    values["params"] = json.loads(values["params"])
    values["cache_components"] = json.loads(values["cache_components"]) if values["cache_components"] else None
    return StepRunRecord(**values)
