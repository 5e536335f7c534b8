"""Schema versioning on every engine: create, upgrade old data to head, refuse unknown newer schemas."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from zenml.exceptions import MetadataStoreError
from zenml.metadata import SQLMetadataStore, schema
from zenml.metadata.models import metadata

pytestmark = pytest.mark.services


@pytest.fixture
def engine(metadata_url: str) -> Iterator[sa.Engine]:
    created = sa.create_engine(metadata_url)
    yield created
    created.dispose()


def _version(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(sa.text("SELECT version_num FROM alembic_version"))]


def _tables(engine: sa.Engine) -> set[str]:
    with engine.connect() as connection:
        return set(sa.inspect(connection).get_table_names())


def _insert(connection: sa.Connection, table: str, **values: object) -> int:
    """Insert a row as the first revision's schema has it (reflected, so no model of today is used)."""
    reflected = sa.Table(table, sa.MetaData(), autoload_with=connection)
    return int(connection.execute(reflected.insert().values(**values)).inserted_primary_key[0])


def test_known_revisions_match_the_migration_files() -> None:
    versions = Path(schema.MIGRATIONS_DIR) / "versions"
    chain: dict[str | None, str] = {}
    for path in sorted(versions.glob("[0-9]*.py")):
        module = ast.parse(path.read_text())
        values = {
            target.id: ast.literal_eval(node.value)
            for node in module.body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision")
        }
        assert path.name.startswith(f"{values['revision']}_"), path.name
        assert values["down_revision"] not in chain, f"two revisions follow {values['down_revision']}"
        chain[values["down_revision"]] = values["revision"]
    ordered, current = [], None
    while current in chain:
        current = chain[current]
        ordered.append(current)
    assert tuple(ordered) == schema.KNOWN_REVISIONS
    assert len(ordered) == len(chain), "every revision file is on the single chain from base"
    others = {p.name for p in versions.glob("*.py")} - {p.name for p in versions.glob("[0-9]*.py")}
    assert others == {"__init__.py"}, f"revision files must be named '<revision>_<slug>.py': {others}"
    assert schema.HEAD_REVISION == ordered[-1]


def test_migrations_build_exactly_the_models(metadata_url: str, engine: sa.Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    SQLMetadataStore(metadata_url).close()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_newer_unknown_schema_is_refused(metadata_url: str, engine: sa.Engine) -> None:
    SQLMetadataStore(metadata_url).close()
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(MetadataStoreError, match=r"schema revision '9999'.*upgrade zenml") as info:
        SQLMetadataStore(metadata_url)
    assert f"'{schema.HEAD_REVISION}'" in str(info.value)
    assert _version(engine) == ["9999"], "an unknown schema is never touched"


def test_zenml_tables_without_alembic_version_are_refused(metadata_url: str, engine: sa.Engine) -> None:
    SQLMetadataStore(metadata_url).close()
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE alembic_version"))
    with pytest.raises(MetadataStoreError, match="no alembic_version"):
        SQLMetadataStore(metadata_url)


def test_downgrade_to_base_then_reopen_recreates_the_schema(metadata_url: str, engine: sa.Engine) -> None:
    store = SQLMetadataStore(metadata_url)
    store.create_run(run_id="old", pipeline="p", spec_path="s.yaml", spec_sha256="0" * 64, orchestrator="local",
                     created_at=1.0, git=None)
    store.close()
    with engine.begin() as connection:
        schema.downgrade(connection, "base")
    assert _tables(engine) <= {"alembic_version"}
    reopened = SQLMetadataStore(metadata_url)
    try:
        assert _version(engine) == [schema.HEAD_REVISION]
        assert reopened.runs() == []
        reopened.create_run(run_id="new", pipeline="p", spec_path="s.yaml", spec_sha256="0" * 64,
                            orchestrator="local", created_at=2.0, git=None)
        assert [r.id for r in reopened.runs()] == ["new"]
    finally:
        reopened.close()


def test_data_written_at_the_first_revision_survives_upgrade_to_head(metadata_url: str, engine: sa.Engine) -> None:
    first = schema.KNOWN_REVISIONS[0]
    with engine.begin() as connection:
        schema.upgrade(connection, first)
    assert _version(engine) == [first]
    with engine.begin() as connection:
        pipeline_id = _insert(connection, "pipelines", name="legacy", created_at=10.5)
        connection.execute(sa.text(
            "INSERT INTO runs (id, pipeline_id, status, spec_path, spec_sha256, orchestrator, created_at, "
            "started_at, ended_at, git_commit, git_dirty) VALUES ('run-0001', :pipeline, 'completed', "
            "'pipelines/legacy/run-0001.yaml', :sha, 'local', 11.25, 11.5, 12.0, 'abc', :dirty)"
        ), {"pipeline": pipeline_id, "sha": "e" * 64, "dirty": False})
        step_id = _insert(connection, "step_runs", run_id="run-0001", name="load", type="flows.load",
                          status="completed", params='{"rows": 3}', cache_key="key-1", code_hash="code",
                          started_at=11.5, ended_at=11.75)
        artifact_id = _insert(connection, "artifacts", uri="/a/1", format="json", materializer="m.M",
                              data_type="builtins.int", content_hash="blake3:x", size=2, created_at=11.7,
                              producer_id=step_id)
        _insert(connection, "events", step_run_id=step_id, artifact_id=artifact_id, kind="output", name="output")
        _insert(connection, "metrics", step_run_id=step_id, name="rows", value=3.0)

    store = SQLMetadataStore(metadata_url)  # upgrades to head on open
    try:
        assert _version(engine) == [schema.HEAD_REVISION]
        run = store.get_run("run-0001")
        assert (run.pipeline, run.status, run.created_at, run.git_commit, run.git_dirty) == (
            "legacy", "completed", 11.25, "abc", False)
        [step] = store.step_runs("run-0001")
        assert (step.name, step.params, step.cache_key, step.cache_components) == ("load", {"rows": 3}, "key-1", None)
        assert store.run_outputs("run-0001")[("load", "output")].uri == "/a/1"
        assert store.metrics("run-0001") == {"load": {"rows": 3.0}}
        assert [(p.name, p.run_count) for p in store.pipelines()] == [("legacy", 1)]
        assert [record.id for record, _outputs in store.find_cached("key-1")] == [step_id]
        # the upgraded database takes new writes (autoincrement continues past the old rows)
        new_step = store.start_step(run_id="run-0001", name="train", type_="flows.train", params={},
                                    cache_key="key-2", code_hash="c", cache_components={"v": 1})
        assert new_step > step_id
        assert store.step_run(new_step).cache_components == {"v": 1}
    finally:
        store.close()
