"""Upgrades: a store written at schema revision 0001 (a checked-in file) opens at head with every row intact,
and the schema steps back down revision by revision without losing data.

``fixtures/store-0001.sqlite`` is built by ``fixtures/make_store_0001.py`` (migration 0001, then the rows
that zenml wrote at that revision). ``tests/metadata/test_metadata_schema.py`` already covers an empty
store going down to ``base`` and the refusal of a newer, unknown schema; these tests add real data.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa

from zenml.cli.app import main
from zenml.metadata import SQLMetadataStore, schema
from zenml.metadata.owner import boot_id, pid_namespace
from zenml.repository import Repository, close_stores

FIXTURES = Path(__file__).parent / "fixtures"
TABLES = ("pipelines", "runs", "step_runs", "artifacts", "events", "metrics")
#: columns each revision added, so a downgrade past it must remove them again
ADDED = {"0002": ("step_runs", "cache_components"), "0003": ("runs", "boot_id"), "0004": ("deployments", "deployed")}


def _load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_store_0001", FIXTURES / "make_store_0001.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


builder = _load_builder()


def _rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every zenml table, in primary-key order, with the columns revision 0001 had."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            result = {}
            for table, rows in builder.ROWS.items():
                columns = ", ".join(rows[0])
                query = f"SELECT {columns} FROM {table} ORDER BY id"
                result[table] = [tuple(row) for row in connection.exec_driver_sql(query)]
            result["alembic_version"] = list(connection.exec_driver_sql("SELECT version_num FROM alembic_version"))
            return result
    finally:
        engine.dispose()


def _columns(url: str, table: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            if not inspector.has_table(table):  # a revision that added a whole table
                return set()
            return {column["name"] for column in inspector.get_columns(table)}
    finally:
        engine.dispose()


@pytest.fixture
def old_store(tmp_path: Path) -> str:
    """A copy of the revision-0001 store (the checked-in file is never opened for writing)."""
    copy = tmp_path / "metadata.db"
    shutil.copyfile(FIXTURES / "store-0001.sqlite", copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def store(old_store: str) -> Iterator[SQLMetadataStore]:
    """The old store, opened (and so upgraded to head) by today's zenml."""
    opened = SQLMetadataStore(old_store)
    yield opened
    opened.close()


def test_the_fixture_is_what_its_script_builds(tmp_path: Path) -> None:
    rebuilt = tmp_path / "rebuilt.sqlite"
    builder.build(rebuilt)
    checked_in = _rows(f"sqlite:///{FIXTURES / 'store-0001.sqlite'}")
    assert checked_in == _rows(f"sqlite:///{rebuilt}")
    assert checked_in["alembic_version"] == [("0001",)]
    assert [len(checked_in[table]) for table in TABLES] == [2, 3, 6, 3, 7, 3]


def test_opening_an_old_store_upgrades_it_to_head_with_every_row_intact(old_store: str) -> None:
    before = _rows(old_store)
    SQLMetadataStore(old_store).close()
    after = _rows(old_store)
    assert after.pop("alembic_version") == [(schema.HEAD_REVISION,)]
    before.pop("alembic_version")
    assert after == before, "a migration changed or lost rows"
    for revision, (table, column) in ADDED.items():
        assert column in _columns(old_store, table), revision


def test_old_runs_read_back_through_the_store_api(store: SQLMetadataStore) -> None:
    ok, failed, killed = builder.RUN_OK, builder.RUN_FAILED, builder.RUN_KILLED
    assert [(p.name, p.run_count) for p in store.pipelines()] == [("etl", 1), ("training", 2)]
    assert [r.id for r in store.runs()] == [killed, failed, ok]
    run = store.get_run(ok)
    assert (run.status, run.git_commit, run.git_dirty, run.duration, run.host, run.pid) == (
        "completed", "3f2c9d1e0b7a", False, 9.0, "ci-runner", 4242,
    )  # fmt: skip
    assert (run.boot_id, run.pid_namespace) == (None, None)  # not recorded before revision 0003
    broken = store.get_run(failed)
    assert (broken.error_step, broken.error_type, broken.error_message, broken.git_dirty) == (
        "train", "ValueError", "loss is NaN", True,
    )  # fmt: skip
    steps = {step.name: step for step in store.step_runs(failed)}
    assert (steps["load"].status, steps["load"].cached_from_id, steps["load"].params) == ("cached", 1, {"rows": 100})
    assert (steps["train"].params, steps["train"].error_message) == ({"epochs": 3, "lr": 10.0}, "loss is NaN")
    assert all(step.cache_components is None for step in store.step_runs(ok))
    outputs = store.run_outputs(ok)
    assert sorted(outputs) == [("evaluate", "metrics"), ("load", "output"), ("train", "model")]
    assert outputs[("train", "model")].content_hash == "blake3:" + "2" * 64
    assert store.run_outputs(failed) == {("load", "output"): outputs[("load", "output")]}
    assert store.metrics(ok) == {"train": {"loss": 0.12}, "evaluate": {"accuracy": 0.91, "auc": 0.875}}
    artifacts, producers, _edges = store.lineage(outputs[("evaluate", "metrics")].id)
    assert sorted(artifacts) == [1, 2, 3] and sorted(producers) == [1, 2, 3]
    assert [record.id for record, _outputs in store.find_cached("key-load")] == [1]


def test_a_run_an_old_zenml_left_running_is_reaped_and_new_writes_continue(store: SQLMetadataStore) -> None:
    [(record, reason)] = store.dead_runs()
    assert record.id == builder.RUN_KILLED and reason.startswith("no heartbeat for")
    assert store.reap_dead_runs() == [builder.RUN_KILLED]
    assert store.get_run(builder.RUN_KILLED).status == "crashed"
    store.create_run(run_id="new", pipeline="training", spec_path="s.yaml", spec_sha256="0" * 64,
                     orchestrator="local", created_at=1800000000.0, git=None)  # fmt: skip
    step_id = store.start_step(run_id="new", name="load", type_="flows.load", params={}, cache_key="key-new",
                               code_hash="c", cache_components={"v": 1})  # fmt: skip
    assert step_id == 7  # the ids continue after the old rows
    new = store.get_run("new")
    assert (new.pid, new.boot_id, new.pid_namespace) == (os.getpid(), boot_id(), pid_namespace())
    assert [(p.name, p.run_count) for p in store.pipelines()] == [("etl", 1), ("training", 3)]


def test_downgrade_steps_back_revision_by_revision_keeping_the_data(old_store: str, store: SQLMetadataStore) -> None:
    expected = _rows(old_store)
    expected.pop("alembic_version")
    for target in reversed(schema.KNOWN_REVISIONS[:-1]):
        with store.engine.begin() as connection:  # zenml's own connection: foreign keys are enforced
            schema.downgrade(connection, target)
        rows = _rows(old_store)
        assert rows.pop("alembic_version") == [(target,)]
        assert rows == expected, f"downgrading to {target} changed or lost rows"
        for revision, (table, column) in ADDED.items():
            assert (column in _columns(old_store, table)) == (revision <= target), (target, revision)
    store.close()
    reopened = SQLMetadataStore(old_store)  # and up again, to head
    try:
        assert _rows(old_store)["alembic_version"] == [(schema.HEAD_REVISION,)]
        assert [r.id for r in reopened.runs()] == [builder.RUN_KILLED, builder.RUN_FAILED, builder.RUN_OK]
    finally:
        reopened.close()


def test_a_repository_on_an_old_store_works_from_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Repository.init(tmp_path)
    close_stores()  # init created a database of today's schema: replace it, with its WAL files
    for created in (tmp_path / ".zen").glob("metadata.db*"):
        created.unlink()
    shutil.copyfile(FIXTURES / "store-0001.sqlite", tmp_path / ".zen" / "metadata.db")
    try:
        assert main(["runs", "list"]) == 0
        listing = capsys.readouterr().out
        for run_id, status in ((builder.RUN_OK, "completed"), (builder.RUN_FAILED, "failed")):
            assert run_id in listing and status in listing
        assert builder.RUN_KILLED in listing and "crashed" in listing  # reaped on read
        assert main(["runs", "show", builder.RUN_FAILED]) == 0
        assert "loss is NaN" in capsys.readouterr().out
    finally:
        close_stores()


@pytest.mark.services
def test_downgrade_keeps_data_on_every_engine(metadata_url: str) -> None:
    """The same walk down on SQLite, MariaDB/MySQL and PostgreSQL, with rows in every table."""
    from zenml.artifacts.store import StoredArtifact

    store = SQLMetadataStore(metadata_url)
    try:
        store.create_run(run_id="r1", pipeline="p", spec_path="s.yaml", spec_sha256="0" * 64, orchestrator="local",
                         created_at=1.0, git={"commit": "abc", "dirty": False})  # fmt: skip
        load = store.start_step(run_id="r1", name="load", type_="f.load", params={"n": 1}, cache_key="k1",
                                code_hash="c", cache_components={"v": 1})  # fmt: skip
        artifact = StoredArtifact("/a/1", "json", "m.M", "builtins.int", "blake3:x", 2)
        ids = store.finish_step(load, status="completed", inputs={}, outputs={"output": artifact}, metrics={"n": 1.0})
        train = store.start_step(run_id="r1", name="train", type_="f.train", params={}, cache_key="k2", code_hash="c")
        store.finish_step(train, status="completed", inputs={"x": ids["output"]}, outputs={}, metrics={})
        ship = store.start_step(run_id="r1", name="ship", type_="f.ship", params={}, cache_key=None, code_hash="c")
        store.finish_step(ship, status="completed", inputs={}, outputs={}, metrics={},
                          deployment={"deployed": True, "uri": "/m", "gate": {"passed": True}, "metrics": {"a": 1.0}})
        store.set_run_status("r1", "completed")
        for target in reversed(schema.KNOWN_REVISIONS[:-1]):
            with store.engine.begin() as connection:
                schema.downgrade(connection, target)
            with store.engine.connect() as connection:
                counts = [connection.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar() for table in TABLES]
                version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            assert (version, counts) == (target, [1, 1, 3, 1, 2, 1]), target
    finally:
        store.close()
    reopened = SQLMetadataStore(metadata_url)
    try:
        assert reopened.get_run("r1").status == "completed"
        assert reopened.step_artifacts(train, "input")["x"].uri == "/a/1"
        assert reopened.metrics("r1") == {"load": {"n": 1.0}}
    finally:
        reopened.close()
