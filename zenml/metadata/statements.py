"""The statements the store runs for every run and step, NAMED, built once with SQLAlchemy Core.

``SQLMetadataStore`` refers to these by name (``"start_step.insert"``) and passes the values to
bind; the execution seam (``zenml.metadata.execution``) runs them: on a server through SQLAlchemy
with the Core statement built here, on SQLite through ``sqlite3`` with the SQL text this module
renders for SQLite, pre-rendered into ``zenml/metadata/sqlite_sql.py`` by
``python -m zenml.metadata.codegen`` (a test checks that module is what ``render_sqlite`` writes
now). Both engines therefore run the same statement, with the same parameter names.

This module imports SQLAlchemy: the store imports it only for a server, a migration, a rare query,
or to render.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from functools import cache, partial
from typing import Any, cast

from sqlalchemy import Boolean, ClauseElement, Executable, bindparam, delete, insert, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.compiler import SQLCompiler

from zenml.metadata.execution import SQLiteStatement, expand
from zenml.metadata.records import ArtifactRecord, EventRecord, RunRecord, StepRunRecord
from zenml.metadata.tables import (
    artifact_table,
    deployment_table,
    event_table,
    metric_table,
    pipeline_table,
    run_table,
    step_run_table,
)
from zenml.utils.status import RunStatus, StepStatus

# Each record's columns in its fields' order, so a result row builds the record positionally.
RUN_COLUMNS = tuple(pipeline_table.c.name if f.name == "pipeline" else run_table.c[f.name] for f in fields(RunRecord))
STEP_COLUMNS = tuple(step_run_table.c[f.name] for f in fields(StepRunRecord))
ARTIFACT_COLUMNS = tuple(artifact_table.c[f.name] for f in fields(ArtifactRecord))
RUNS = select(*RUN_COLUMNS).select_from(run_table.join(pipeline_table, run_table.c.pipeline_id == pipeline_table.c.id))
STEPS = select(*STEP_COLUMNS)
ARTIFACTS = select(*ARTIFACT_COLUMNS)
EVENTS = select(*(event_table.c[f.name] for f in fields(EventRecord)))

#: step statuses that a live process will still change (in a fixed order: the rendered SQL is stable)
UNFINISHED_STEP = (StepStatus.RUNNING, StepStatus.PENDING)
SUCCEEDED_STEP = (StepStatus.COMPLETED, StepStatus.CACHED)

_OWNER = ("host", "pid", "boot_id", "pid_namespace", "heartbeat_at")
_CRASH = ("status", "ended_at", "error_type", "error_message")


def _binds(*names: str) -> dict[str, Any]:
    """``name=:name`` for the VALUES or SET clause of an INSERT or UPDATE."""
    return {name: bindparam(name) for name in names}


def _runs(pipeline: bool, status: bool, limit: bool) -> Executable:
    query = RUNS
    if pipeline:
        query = query.where(pipeline_table.c.name == bindparam("pipeline"))
    if status:
        query = query.where(run_table.c.status == bindparam("status"))
    query = query.order_by(run_table.c.created_at.desc(), run_table.c.id.desc())
    return query.limit(bindparam("limit")) if limit else query


def _run_outputs(of_steps: bool) -> Executable:
    """``(step, output, *artifact)`` of the run ``:run_id``'s finished steps (``of_steps``: of those in ``:steps``)."""
    query = (
        select(step_run_table.c.name, event_table.c.name, *ARTIFACT_COLUMNS)
        .select_from(
            step_run_table.join(event_table, event_table.c.step_run_id == step_run_table.c.id).join(
                artifact_table, event_table.c.artifact_id == artifact_table.c.id
            )
        )
        .where(
            step_run_table.c.run_id == bindparam("run_id"),
            event_table.c.kind == "output",
            step_run_table.c.status.in_(SUCCEEDED_STEP),
        )
    )
    if of_steps:
        query = query.where(step_run_table.c.name.in_(bindparam("steps", expanding=True)))
    return query


def _find_cached() -> Executable:
    """The newest ``:limit`` completed step runs with ``:cache_key``, each once per output (once if it has none)."""
    latest = (
        STEPS.where(
            step_run_table.c.cache_key == bindparam("cache_key"), step_run_table.c.status == StepStatus.COMPLETED
        )
        .order_by(step_run_table.c.id.desc())
        .limit(bindparam("limit"))
        .subquery("latest")
    )
    outputs = (event_table.c.step_run_id == latest.c.id) & (event_table.c.kind == "output")
    return (
        select(latest, event_table.c.name, *ARTIFACT_COLUMNS)
        .select_from(
            latest.outerjoin(event_table, outputs).outerjoin(
                artifact_table, artifact_table.c.id == event_table.c.artifact_id
            )
        )
        .order_by(latest.c.id.desc(), event_table.c.id)
    )


def _closest(by_name: bool) -> Executable:
    """The newest execution of step ``:name`` in ``:pipeline`` (``by_name``), else of the step type ``:type``."""
    base = (
        STEPS.select_from(
            step_run_table.join(run_table, step_run_table.c.run_id == run_table.c.id).join(
                pipeline_table, run_table.c.pipeline_id == pipeline_table.c.id
            )
        )
        .where(step_run_table.c.cache_components.is_not(None), step_run_table.c.status != StepStatus.CACHED)
        .order_by(step_run_table.c.id.desc())
        .limit(1)
    )
    if by_name:
        return base.where(pipeline_table.c.name == bindparam("pipeline"), step_run_table.c.name == bindparam("name"))
    return base.where(step_run_table.c.type == bindparam("type"))


def _by_id(table: Any, key: str) -> Any:
    return table.c.id == bindparam(key)


_STEP_RUN_COLUMNS = (
    "run_id", "name", "type", "status", "params", "cache_key", "code_hash", "cache_components", "started_at",
)  # fmt: skip
_STEP_RESET_COLUMNS = (
    "type", "status", "params", "cache_key", "code_hash", "cache_components", "started_at", "ended_at",
    "error_type", "error_message", "cached_from_id",
)  # fmt: skip
_RUN_ROW = (
    "id", "pipeline_id", "status", "spec_path", "spec_sha256", "orchestrator", "created_at", "started_at",
    "git_commit", "git_dirty", "git_diff_sha256", *_OWNER,
)  # fmt: skip

#: name → builder of the Core statement; the store names nothing that is not here
BUILDERS: dict[str, Callable[[], Executable]] = {
    # runs
    "pipeline.id": lambda: select(pipeline_table.c.id).where(pipeline_table.c.name == bindparam("name")),
    "pipeline.insert": lambda: insert(pipeline_table).values(_binds("name", "created_at")),
    "run.insert": lambda: insert(run_table).values(_binds(*_RUN_ROW)),
    "run.status": lambda: (
        update(run_table)
        .where(_by_id(run_table, "run_id"))
        .values(_binds("status", "error_step", "error_type", "error_message", "ended_at"))
    ),
    "run.status+owner": lambda: (
        update(run_table)
        .where(_by_id(run_table, "run_id"))
        .values(_binds("status", "error_step", "error_type", "error_message", "ended_at", *_OWNER))
    ),
    "run.heartbeat": lambda: update(run_table).where(_by_id(run_table, "run_id")).values(_binds("heartbeat_at")),
    "run.crash": lambda: (
        update(run_table)
        .where(
            _by_id(run_table, "run_id"),
            run_table.c.status == RunStatus.RUNNING,
            # null-safe: a row judged without a pid or heartbeat matches only while it still has none
            run_table.c.pid.is_not_distinct_from(bindparam("judged_pid")),
            run_table.c.heartbeat_at.is_not_distinct_from(bindparam("judged_heartbeat_at")),
        )
        .values(_binds(*_CRASH))
    ),
    "run.crash_steps": lambda: (
        update(step_run_table)
        .where(step_run_table.c.run_id == bindparam("of_run"), step_run_table.c.status.in_(UNFINISHED_STEP))
        .values(_binds(*_CRASH))
    ),
    "run.by_id": lambda: RUNS.where(run_table.c.id == bindparam("run_id")),
    "run.by_prefix": lambda: RUNS.where(run_table.c.id.like(bindparam("pattern"), escape="\\")).limit(2),
    **{
        "runs" + "".join(f"+{flag}" for flag, on in zip(("pipeline", "status", "limit"), key, strict=True) if on): (
            partial(_runs, *key)
        )
        for key in ((p, s, n) for p in (False, True) for s in (False, True) for n in (False, True))
    },
    # steps
    "step.id": lambda: select(step_run_table.c.id).where(
        step_run_table.c.run_id == bindparam("run_id"), step_run_table.c.name == bindparam("name")
    ),
    "step.insert": lambda: insert(step_run_table).values(_binds(*_STEP_RUN_COLUMNS)),
    "step.reset.events": lambda: delete(event_table).where(event_table.c.step_run_id == bindparam("step_run_id")),
    "step.reset.metrics": lambda: delete(metric_table).where(metric_table.c.step_run_id == bindparam("step_run_id")),
    "step.reset.deployments": lambda: delete(deployment_table).where(
        deployment_table.c.step_run_id == bindparam("step_run_id")
    ),
    "step.reset": lambda: (
        update(step_run_table).where(_by_id(step_run_table, "step_run_id")).values(_binds(*_STEP_RESET_COLUMNS))
    ),
    "step.run_id": lambda: select(step_run_table.c.run_id).where(_by_id(step_run_table, "step_run_id")),
    "step.finish": lambda: (
        update(step_run_table)
        .where(_by_id(step_run_table, "step_run_id"))
        .values(_binds("status", "ended_at", "cached_from_id"))
    ),
    "step.fail": lambda: (
        update(step_run_table)
        .where(_by_id(step_run_table, "step_run_id"))
        .values(_binds("status", "ended_at", "error_type", "error_message"))
    ),
    "step.by_id": lambda: STEPS.where(_by_id(step_run_table, "step_run_id")),
    "steps.of_run": lambda: STEPS.where(step_run_table.c.run_id == bindparam("run_id")).order_by(step_run_table.c.id),
    "step.artifacts": lambda: (
        select(event_table.c.name, *ARTIFACT_COLUMNS)
        .select_from(event_table.join(artifact_table, event_table.c.artifact_id == artifact_table.c.id))
        .where(event_table.c.step_run_id == bindparam("step_run_id"), event_table.c.kind == bindparam("kind"))
        .order_by(event_table.c.id)
    ),
    "step.metrics": lambda: select(metric_table.c.name, metric_table.c.value).where(
        metric_table.c.step_run_id == bindparam("step_run_id")
    ),
    "step.closest+name": lambda: _closest(by_name=True),
    "step.closest+type": lambda: _closest(by_name=False),
    "step.find_cached": _find_cached,
    "run.outputs": lambda: _run_outputs(of_steps=False),
    "run.outputs+steps": lambda: _run_outputs(of_steps=True),
    # what a step wrote
    "artifact.insert": lambda: insert(artifact_table).values(
        _binds("uri", "format", "materializer", "data_type", "content_hash", "size", "created_at", "producer_id")
    ),
    "artifact.by_id": lambda: ARTIFACTS.where(_by_id(artifact_table, "artifact_id")),
    "event.insert": lambda: insert(event_table).values(_binds("step_run_id", "artifact_id", "kind", "name")),
    "metric.insert": lambda: insert(metric_table).values(_binds("step_run_id", "name", "value")),
    "deployment.insert": lambda: insert(deployment_table).values(
        _binds("step_run_id", "run_id", "deployed", "uri", "gate", "reason", "metrics", "created_at")
    ),
}


@cache
def named(name: str) -> Executable:
    """The Core statement called ``name`` (built once)."""
    return BUILDERS[name]()


_SQLITE = sqlite.dialect(paramstyle="named")


def render_sqlite(statement: ClauseElement | Executable) -> SQLiteStatement:
    """``statement`` compiled for SQLite as SQLAlchemy would send it, with named parameters."""
    compiled = cast(SQLCompiler, cast(ClauseElement, statement).compile(dialect=_SQLITE))
    required = {name for bind, name in compiled.bind_names.items() if bind.required}
    defaults = {name: value for name, value in compiled.params.items() if name not in required}
    sql = str(compiled)
    constant = {name: value for name, value in defaults.items() if isinstance(value, list | tuple)}
    if constant:  # an IN of fixed values: expanded now, once, rather than at every execution
        sql, expanded = expand(sql, constant)
        defaults = {**{k: v for k, v in defaults.items() if k not in constant}, **expanded}
    selected = getattr(statement, "selected_columns", ())
    booleans = tuple(index for index, column in enumerate(selected) if isinstance(column.type, Boolean))
    return SQLiteStatement(sql, defaults, booleans)
