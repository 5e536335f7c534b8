"""A large synthetic run history written straight into a metadata store, for load tests and benchmarks.

Recording 100,000 step runs through real pipelines takes hours; bulk inserts take seconds. The
rows have the shape real runs leave (a chain of steps per run, one output artifact each, input
and output lineage events, parameters, cache components and a metric), and every value follows
from the run and step index, so a test can tell exactly what each query must return.

Examples:
    >>> from zenml.metadata import SQLMetadataStore  # doctest: +SKIP
    >>> history = write_history(SQLMetadataStore("sqlite:///big.db"), runs=5_000, steps_per_run=20)
    >>> history.step_runs  # doctest: +SKIP
    100000
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zenml.metadata.tables import (
    artifact_table,
    event_table,
    metric_table,
    pipeline_table,
    run_table,
    step_run_table,
)
from zenml.utils.status import RunStatus, StepStatus

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table

    from zenml.metadata.store import SQLMetadataStore

STEP_TYPE = "zenml.testing.history.SyntheticStep"
METRIC = "accuracy"
_BATCH_RUNS = 500  # runs per transaction: keeps each executemany around 10k rows
_START = 1_600_000_000.0  # 2020-09-13 UTC: the oldest synthetic run


@dataclass(frozen=True)
class SyntheticHistory:
    """What ``write_history`` recorded, and the value every row holds (all derived from indices).

    Run ``r`` (0 = oldest) has steps ``step_00`` … in a chain: step ``i > 0`` reads the output of
    step ``i - 1`` as input ``x``. Only the first step's parameter ``alpha`` differs between
    runs. Every tenth run failed at its last step, which wrote nothing; in the others the last
    step wrote its output and logged metric ``accuracy``.
    """

    pipeline: str
    run_ids: tuple[str, ...]
    steps_per_run: int
    first_step_id: int
    first_artifact_id: int

    @property
    def step_runs(self) -> int:
        """How many step runs were recorded."""
        return len(self.run_ids) * self.steps_per_run

    @staticmethod
    def step_name(step: int) -> str:
        """The name of step ``step`` of every run."""
        return f"step_{step:02d}"

    def step_id(self, run: int, step: int) -> int:
        """The id of step run ``step`` of run ``run``."""
        return self.first_step_id + run * self.steps_per_run + step

    def artifact_id(self, run: int, step: int) -> int:
        """The id of the artifact that step ``step`` of run ``run`` wrote."""
        return self.first_artifact_id + run * self.steps_per_run + step

    @staticmethod
    def content_hash(run: int, step: int) -> str:
        """The content hash of that artifact (unique per run and step)."""
        return f"blake3:{run:032x}{step:032x}"

    @staticmethod
    def alpha(run: int) -> int:
        """The first step's parameter in run ``run``."""
        return run

    @staticmethod
    def accuracy(run: int) -> float:
        """The metric the last step of run ``run`` logged."""
        return (run * 7919 % 10_007) / 10_007

    @staticmethod
    def failed(run: int) -> bool:
        """Whether run ``run`` is recorded as failed."""
        return run % 10 == 9

    @staticmethod
    def created_at(run: int) -> float:
        """When run ``run`` was created (one minute after the previous one)."""
        return _START + 60.0 * run


def write_history(
    store: SQLMetadataStore,
    *,
    runs: int,
    steps_per_run: int,
    pipeline: str = "history",
    artifact_root: str = "/synthetic-artifacts",
) -> SyntheticHistory:
    """Record ``runs`` runs of a ``steps_per_run``-step chain of pipeline ``pipeline`` in bulk.

    The store may already hold runs (ids continue after the largest); ``pipeline`` must be new.
    """
    with store.engine.begin() as connection:
        pipeline_id = _insert_returning_id(connection, pipeline_table, name=pipeline, created_at=_START)
        history = SyntheticHistory(
            pipeline=pipeline,
            run_ids=tuple(_run_id(run) for run in range(runs)),
            steps_per_run=steps_per_run,
            first_step_id=_next_id(connection, step_run_table),
            first_artifact_id=_next_id(connection, artifact_table),
        )
    for start in range(0, runs, _BATCH_RUNS):
        batch = range(start, min(start + _BATCH_RUNS, runs))
        with store.engine.begin() as connection:  # one short transaction per batch, as real writers do
            _insert(connection, run_table, (_run_row(history, pipeline_id, r) for r in batch))
            _insert(connection, step_run_table, _step_rows(history, batch))
            _insert(connection, artifact_table, _artifact_rows(history, batch, artifact_root))
            _insert(connection, event_table, _event_rows(history, batch))
            _insert(connection, metric_table, (_metric_row(history, r) for r in batch if not history.failed(r)))
    if store.engine.dialect.name == "postgresql":
        with store.engine.begin() as connection:
            _advance_sequences(connection)
    return history


def _run_id(run: int) -> str:
    created = time.strftime("%Y%m%d-%H%M%S", time.gmtime(SyntheticHistory.created_at(run)))
    return f"{created}-{run:08x}"


def _insert_returning_id(connection: Connection, table: Table, **values: Any) -> int:
    from sqlalchemy import insert

    result = connection.execute(insert(table).values(**values))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _next_id(connection: Connection, table: Table) -> int:
    from sqlalchemy import func, select

    largest = connection.scalar(select(func.max(table.c.id)))
    return int(largest or 0) + 1


def _insert(connection: Connection, table: Table, rows: Iterator[dict[str, Any]]) -> None:
    from sqlalchemy import insert

    pending = list(rows)
    if not pending:
        return
    if connection.dialect.name == "postgresql":
        _copy(connection, table.name, pending)
    else:
        connection.execute(insert(table), pending)


def _copy(connection: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL's ``COPY``: executemany sends row by row, which is ten times slower there."""
    columns = list(rows[0])
    driver = connection.connection.driver_connection  # psycopg 3, inside this transaction
    assert driver is not None
    cursor = driver.cursor()
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[column] for column in columns])


def _run_row(history: SyntheticHistory, pipeline_id: int, run: int) -> dict[str, Any]:
    created = history.created_at(run)
    failed = history.failed(run)
    return {
        "id": history.run_ids[run],
        "pipeline_id": pipeline_id,
        "status": RunStatus.FAILED if failed else RunStatus.COMPLETED,
        "spec_path": f"pipelines/{history.pipeline}/{history.run_ids[run]}.yaml",
        "spec_sha256": f"{run:064x}",
        "orchestrator": "local",
        "created_at": created,
        "started_at": created,
        "ended_at": created + history.steps_per_run,
        "git_commit": f"{run:040x}",
        "git_dirty": False,
        "error_step": history.step_name(history.steps_per_run - 1) if failed else None,
        "error_type": "RuntimeError" if failed else None,
        "error_message": f"synthetic failure of run {run}" if failed else None,
    }


def _step_rows(history: SyntheticHistory, runs: range) -> Iterator[dict[str, Any]]:
    last = history.steps_per_run - 1
    for run in runs:
        started = history.created_at(run)
        for step in range(history.steps_per_run):
            params = {"alpha": history.alpha(run)} if step == 0 else {"index": step}
            inputs = {"x": history.content_hash(run, step - 1)} if step else {}
            failed = step == last and history.failed(run)
            yield {
                "id": history.step_id(run, step),
                "run_id": history.run_ids[run],
                "name": history.step_name(step),
                "type": STEP_TYPE,
                "status": StepStatus.FAILED if failed else StepStatus.COMPLETED,
                "params": json.dumps(params, sort_keys=True, separators=(",", ":")),
                "cache_key": f"synthetic:{run}:{step}",
                "code_hash": f"code:{step}",
                "cache_components": json.dumps({"inputs": inputs, "params": params}, sort_keys=True),
                "started_at": started + step,
                "ended_at": started + step + 0.5,
                "error_type": "RuntimeError" if failed else None,
                "error_message": f"synthetic failure of run {run}" if failed else None,
            }


def _written(history: SyntheticHistory, run: int, step: int) -> bool:
    """Whether the step wrote its output (a failed step did not)."""
    return not (step == history.steps_per_run - 1 and history.failed(run))


def _artifact_rows(history: SyntheticHistory, runs: range, root: str) -> Iterator[dict[str, Any]]:
    for run in runs:
        for step in range(history.steps_per_run):
            if not _written(history, run, step):
                continue
            yield {
                "id": history.artifact_id(run, step),
                "uri": f"{root}/{history.run_ids[run]}/{history.step_name(step)}/output",
                "format": "json",
                "materializer": "zenml.artifacts.materializers.JSONMaterializer",
                "data_type": "builtins.float",
                "content_hash": history.content_hash(run, step),
                "size": 8,
                "created_at": history.created_at(run) + step + 0.5,
                "producer_id": history.step_id(run, step),
            }


def _event_rows(history: SyntheticHistory, runs: range) -> Iterator[dict[str, Any]]:
    for run in runs:
        for step in range(history.steps_per_run):
            step_id = history.step_id(run, step)
            if step:
                upstream = history.artifact_id(run, step - 1)
                yield {"step_run_id": step_id, "artifact_id": upstream, "kind": "input", "name": "x"}
            if _written(history, run, step):
                output = history.artifact_id(run, step)
                yield {"step_run_id": step_id, "artifact_id": output, "kind": "output", "name": "output"}


def _metric_row(history: SyntheticHistory, run: int) -> dict[str, Any]:
    last = history.step_id(run, history.steps_per_run - 1)
    return {"step_run_id": last, "name": METRIC, "value": history.accuracy(run)}


def _advance_sequences(connection: Connection) -> None:
    """Explicit ids leave PostgreSQL's sequences behind: move them past the rows written."""
    for table in ("step_runs", "artifacts"):
        connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
