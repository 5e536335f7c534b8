"""``per_step_db``: what recording one step costs in ``SQLMetadataStore`` on SQLite, MariaDB and PostgreSQL.

Each step is what the executor records for a trivial step: ``start_step`` (with params, cache key
and code hash) then ``finish_step`` with its input (the previous step's artifact) and one new
small artifact. Servers get a throwaway database, dropped afterwards; an unreachable one is skipped.

Admin URLs: ``$ZEN_TEST_MYSQL_URL`` and ``$ZEN_TEST_POSTGRES_URL`` (as for the tests), else root /
postgres on 127.0.0.1 without a password.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.measure import median
from benchmarks.report import Figure, print_table

STEPS = 200
WARMUP_STEPS = 10
MYSQL_ADMIN_URL = os.environ.get("ZEN_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
POSTGRES_ADMIN_URL = os.environ.get("ZEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


class Unreachable(Exception):
    """The database server cannot be used here; the message says why."""


@dataclass(frozen=True)
class SmallArtifact:
    """The fields ``finish_step`` records for a new artifact (as ``StoredArtifact`` has them)."""

    uri: str
    format: str = "json"
    materializer: str = "zenml.artifacts.materializers.JSONMaterializer"
    data_type: str = "builtins.float"
    content_hash: str = ""
    size: int = 3


@contextmanager
def sqlite_url() -> Iterator[str]:
    """An SQLite file in a temporary folder (zenml's default metadata store)."""
    with tempfile.TemporaryDirectory(prefix="zen-bench-db-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'metadata.db'}"


@contextmanager
def server_url(admin_url: str, drop_suffix: str = "", **engine_options: Any) -> Iterator[str]:
    """A new empty database on the server behind ``admin_url``, dropped afterwards.

    Raises:
        Unreachable: the server or its driver is not available.
    """
    import sqlalchemy as sa

    name = f"zen_bench_{uuid.uuid4().hex[:10]}"
    try:
        admin = sa.create_engine(admin_url, connect_args={"connect_timeout": 5}, **engine_options)
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
    except Exception as exc:  # any failure (driver, network, auth) means we cannot measure it here
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        raise Unreachable(
            f"{sa.engine.make_url(admin_url).render_as_string()}: {type(exc).__name__}: {first_line}"
        ) from exc
    try:
        yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}{drop_suffix}")
        admin.dispose()


def record_steps(url: str, steps: int, warmup: int) -> list[float]:
    """Seconds taken by ``start_step`` + ``finish_step`` of each of ``steps`` chained steps in one run."""
    from zenml.metadata.store import SQLMetadataStore

    store = SQLMetadataStore(url)
    try:
        run_id = f"bench-{uuid.uuid4().hex[:8]}"
        store.create_run(
            run_id=run_id,
            pipeline="bench_chain",
            spec_path=f"runs/{run_id}.yaml",
            spec_sha256="0" * 64,
            orchestrator="local",
            created_at=time.time(),
            git=None,
        )
        previous: int | None = None
        samples = []
        for index in range(warmup + steps):
            started = time.perf_counter()
            previous = _record_step(store, run_id, index, previous)
            if index >= warmup:
                samples.append(time.perf_counter() - started)
        store.set_run_status(run_id, "completed")
        return samples
    finally:
        store.close()


def _record_step(store: Any, run_id: str, index: int, previous: int | None) -> int:
    name = f"inc{index:03d}"
    key = uuid.uuid4().hex * 2
    step_run_id = store.start_step(
        run_id=run_id,
        name=name,
        type_="chains.inc",
        params={},
        cache_key=key,
        code_hash=key,
        cache_components={"type": "chains.inc", "params": {}, "code": key, "inputs": {"x": key}},
    )
    artifact = SmallArtifact(uri=f"file:///tmp/artifacts/{run_id}/{name}/output", content_hash=f"blake3:{key}")
    ids = store.finish_step(
        step_run_id,
        status="completed",
        inputs={"x": previous} if previous else {},
        outputs={"output": artifact},
        metrics={},
    )
    return int(ids["output"])


def run() -> list[Figure]:
    """ms per recorded step on each engine (total over ``STEPS`` steps after ``WARMUP_STEPS``)."""
    engines = {
        "SQLite": sqlite_url,
        "MariaDB": lambda: server_url(MYSQL_ADMIN_URL),
        "PostgreSQL": lambda: server_url(POSTGRES_ADMIN_URL, " WITH (FORCE)", isolation_level="AUTOCOMMIT"),
    }
    figures, rows = [], []
    for engine, database in engines.items():
        try:
            with database() as url:
                samples = record_steps(url, STEPS, WARMUP_STEPS)
        except Unreachable as exc:
            print(f"{engine}: skipped, not reachable ({exc})")
            figures.append(Figure("per_step_db", f"{engine}: start_step + finish_step", None, "ms", note=str(exc)))
            continue
        mean_ms = sum(samples) / len(samples) * 1000
        rows.append(
            [
                engine,
                f"{mean_ms:.2f} ms",
                f"{median(samples) * 1000:.2f} ms",
                f"{sorted(samples)[int(len(samples) * 0.95)] * 1000:.2f} ms",
            ]
        )
        figures.append(Figure("per_step_db", f"{engine}: start_step + finish_step", mean_ms, "ms"))
    print(f"recording {STEPS} chained steps (after {WARMUP_STEPS} warm-up) with one small artifact each")
    print_table(["engine", "ms/step (mean)", "median", "p95"], rows)
    return figures
