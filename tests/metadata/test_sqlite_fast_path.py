"""The default SQLite store runs on ``sqlite3`` alone: the same statements, rows and faults, no SQLAlchemy."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from zenml.exceptions import MetadataStoreError
from zenml.metadata import SQLMetadataStore, codegen, statements
from zenml.metadata.alchemy import SQLAlchemyDatabase
from zenml.metadata.execution import SQLiteDatabase, expand, sqlite_path
from zenml.metadata.schema import HEAD_REVISION
from zenml.metadata.sqlite_sql import STATEMENTS


def test_sqlite_module_is_what_the_renderer_writes_from_the_statements() -> None:
    assert codegen.SQLITE_MODULE.read_text(encoding="utf-8") == codegen.render_sqlite_module(), (
        "zenml/metadata/sqlite_sql.py is stale: run `python -m zenml.metadata.codegen` after editing statements.py"
    )
    assert set(STATEMENTS) == set(statements.BUILDERS)


def test_plain_sqlite_files_take_the_sqlite3_path_and_everything_else_sqlalchemy(tmp_path: Path) -> None:
    assert sqlite_path(f"sqlite:///{tmp_path}/m.db") == f"{tmp_path}/m.db"
    for url in ("sqlite://", "sqlite:///:memory:", "sqlite:///file:x?mode=ro&uri=true", "sqlite:///a%20b.db",
                "postgresql+psycopg://u@h/d", "sqlite+pysqlcipher:///x.db"):  # fmt: skip
        assert sqlite_path(url) is None, url
    fast = SQLMetadataStore(f"sqlite:///{tmp_path / 'm.db'}")
    memory = SQLMetadataStore("sqlite://")
    try:
        assert isinstance(fast._database, SQLiteDatabase)
        assert isinstance(memory._database, SQLAlchemyDatabase)
        memory.create_run(
            run_id="r", pipeline="p", spec_path="s", spec_sha256="0" * 64, orchestrator="local", created_at=1.0,
            git=None,
        )  # fmt: skip
        assert [run.id for run in memory.runs()] == ["r"]
    finally:
        fast.close()
        memory.close()


def test_rows_come_back_as_sqlalchemy_returns_them(tmp_path: Path) -> None:
    """Booleans as ``bool`` (SQLite stores 0/1), ``IN`` lists expanded (empty too), the same records on both paths."""
    url = f"sqlite:///{tmp_path / 'm.db'}"
    store = SQLMetadataStore(url)
    try:
        for run_id, dirty in (("clean", False), ("dirty", True), ("unknown", None)):
            store.create_run(
                run_id=run_id, pipeline="p", spec_path="s", spec_sha256="0" * 64, orchestrator="local",
                created_at=1.0, git={"commit": "c" * 40, "dirty": dirty},
            )  # fmt: skip
        step = store.start_step(run_id="clean", name="a", type_="t", params={}, cache_key="k", code_hash=None)
        store.finish_step(step, status="completed", inputs={}, outputs={}, metrics={"m": 1.0})
        assert {run.id: run.git_dirty for run in store.runs()} == {"clean": False, "dirty": True, "unknown": None}
        assert all(type(run.git_dirty) in (bool, type(None)) for run in store.runs())
        assert store.run_outputs("clean", steps=[]) == {}
        assert store.run_outputs("clean", steps=["a", "b"]) == store.run_outputs("clean") == {}
        fast = (store.runs(), store.step_runs("clean"), store.find_cached("k"), store.metrics("clean"))
    finally:
        store.close()
    alchemy = SQLMetadataStore(url)
    alchemy._database.close()
    alchemy._database = SQLAlchemyDatabase(alchemy.url, alchemy.display_url)
    try:
        assert (alchemy.runs(), alchemy.step_runs("clean"), alchemy.find_cached("k"), alchemy.metrics("clean")) == fast
    finally:
        alchemy.close()


def test_expand_leaves_lists_it_is_not_given_for_later() -> None:
    sql, values = expand("a IN (__[POSTCOMPILE_x]) AND b IN (__[POSTCOMPILE_y])", {"x": [1, 2]})
    assert sql == "a IN (:x_1, :x_2) AND b IN (__[POSTCOMPILE_y])"
    assert values == {"x_1": 1, "x_2": 2}


def test_a_duplicate_fails_with_the_message_sqlalchemy_gives(tmp_path: Path) -> None:
    store = SQLMetadataStore(f"sqlite:///{tmp_path / 'm.db'}")
    run = {"run_id": "r", "pipeline": "p", "spec_path": "s", "spec_sha256": "0" * 64, "orchestrator": "local",
           "created_at": 1.0, "git": None}  # fmt: skip
    try:
        store.create_run(**run)
        with pytest.raises(MetadataStoreError) as info:
            store.create_run(**run)
    finally:
        store.close()
    first_line = str(info.value).splitlines()[0]
    assert first_line == (
        f"metadata store sqlite:///{tmp_path / 'm.db'}: IntegrityError: (sqlite3.IntegrityError) "
        "UNIQUE constraint failed: runs.id"
    )
    assert isinstance(info.value.__cause__, sqlite3.IntegrityError)


def test_a_damaged_file_is_reported_with_advice_about_the_file(tmp_path: Path) -> None:
    damaged = tmp_path / "m.db"
    damaged.write_bytes(b"not a database" * 100)
    with pytest.raises(MetadataStoreError) as info:
        SQLMetadataStore(f"sqlite:///{damaged}")
    assert str(info.value) == (
        f"cannot open the metadata store sqlite:///{damaged}: file is not a database; the file is damaged or is "
        "not a zenml database; restore it from a backup, or move it away and run 'zen init' to start an empty one"
    )


def test_an_open_store_reads_its_schema_version_with_sqlite3_and_migrates_only_when_needed(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    SQLMetadataStore(f"sqlite:///{path}").close()  # created by Alembic
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD_REVISION,)]
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(MetadataStoreError, match="schema revision '9999', which this zenml does not know"):
        SQLMetadataStore(f"sqlite:///{path}")


def test_a_run_on_the_default_stack_never_imports_sqlalchemy(tmp_path: Path) -> None:
    """``zen init`` creates the schema (Alembic, so SQLAlchemy); every ``zen run`` after it runs on sqlite3 alone."""
    (tmp_path / "chains.py").write_text(
        textwrap.dedent(
            """
            from zenml import pipeline, step

            @step
            def start() -> float:
                return 0.0

            @step
            def inc(x: float) -> float:
                return x + 1

            @pipeline
            def chain() -> None:
                x = start()
                for index in range(3):
                    x = inc.configure(name=f"inc_{index}")(x)
            """
        )
    )
    probe = textwrap.dedent(
        """
        import atexit, json, sys
        atexit.register(lambda: print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & {"sqlalchemy"}))))
        sys.argv = ["zen", *sys.argv[1:]]
        from zenml.cli import main
        main()
        """
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("ZEN_")}

    def zen(*args: str) -> tuple[str, list[str]]:
        done = subprocess.run(
            [sys.executable, "-c", probe, *args], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        *output, imported = done.stdout.strip().splitlines()
        return "\n".join(output), json.loads(imported)

    zen("init")
    for args in (("--no-cache",), ()):  # every step run and recorded, then every step from the cache
        output, imported = zen("run", "chains.py:chain", *args)
        assert imported == [], f"`zen run {' '.join(args)}` imported SQLAlchemy:\n{output}"
    assert "(4 cached)" in output
