"""Spec files: written once, read-only, hashed and password-free; a stored spec edited since launch is refused."""

from __future__ import annotations

import hashlib
import stat

import pytest
import sqlalchemy as sa
import yaml
from engine_helpers import SECRET, edit_in_place, numbers, spec_files, submitted

from zenml.engine import plan_spec_file, rerun_spec, run_pipeline, run_worker_step
from zenml.exceptions import ConfigError
from zenml.pipelines.spec import RunSpec
from zenml.repository import Repository


def test_spec_is_written_once_read_only_with_its_sha256_recorded(repo: Repository) -> None:
    run = run_pipeline(numbers)
    path = repo.root / "pipelines" / "numbers" / f"{run.id}.yaml"
    assert spec_files(repo) == [path]
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert run.record.spec_path == f"pipelines/numbers/{run.id}.yaml"
    assert run.record.spec_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert not list(path.parent.glob(".*.tmp")), "no temporary file is left behind"

    data = yaml.safe_load(path.read_text())
    assert data["spec_version"] == 1
    assert data["run_id"] == run.id
    assert data["pipeline"]["name"] == "numbers"
    assert list(data["steps"]) == ["load", "multiply", "summarize"]
    assert data["steps"]["multiply"]["type"].endswith("Multiply")
    assert data["steps"]["multiply"]["params"] == {"factor": 3}
    assert data["steps"]["multiply"]["inputs"] == {"values": "load.output"}
    assert data["steps"]["summarize"]["inputs"] == {"values": "multiply.output"}
    assert data["steps"]["load"]["enable_cache"] is True
    assert {kind: b["name"] for kind, b in data["backends"].items()} == {
        "orchestrator": "local", "processing": "local", "training": "local"}
    assert data["stack"] == {"name": "default", "artifact_store": ".zen/artifacts",
                             "metadata_store": "sqlite:///.zen/metadata.db"}
    assert data["environment"]["python"] and data["environment"]["zenml"]
    assert RunSpec.from_yaml(path.read_text()) == run.spec


def test_write_spec_honours_the_configured_pipelines_dir(repo: Repository) -> None:
    repo.config.pipelines_dir = "specs/nested"
    repo.save_config()
    run = run_pipeline(numbers, repository=Repository())
    assert (repo.root / "specs" / "nested" / "numbers" / f"{run.id}.yaml").is_file()
    assert not (repo.root / "pipelines").exists()
    assert run.spec.run_id == run.id


@pytest.mark.services
def test_spec_never_contains_the_stack_password(repo: Repository, postgres_url: str) -> None:
    with_password = sa.engine.make_url(postgres_url).set(password=SECRET).render_as_string(hide_password=False)
    assert SECRET in with_password
    repo.register_stack("team", metadata_store=with_password)
    run = run_pipeline(numbers, stack="team", repository=repo)  # PostgreSQL trust auth accepts any password
    try:
        assert run.status == "completed"
        spec_text = (repo.root / run.record.spec_path).read_text()
        assert SECRET not in spec_text
        assert run.spec.stack.metadata_store == with_password.replace(f":{SECRET}@", ":***@")
        described = Repository().stack("team").describe()
        assert SECRET not in repr(described)
        assert described["metadata_store"].startswith("postgresql+psycopg://postgres:***@127.0.0.1:5432/")
        engine = sa.create_engine(postgres_url)
        try:
            with engine.connect() as connection:
                rows = [str(tuple(row)) for table in ("runs", "step_runs", "artifacts")
                        for row in connection.execute(sa.text(f"SELECT * FROM {table}"))]
        finally:
            engine.dispose()
        assert rows and not any(SECRET in row for row in rows), "the metadata store holds no password either"
        assert repo.stores().metadata.runs() == [], "the default stack was not used"
    finally:
        repo.close()


def test_readers_refuse_a_stored_spec_edited_since_launch(repo: Repository) -> None:
    spec, path = submitted(repo)
    edit_in_place(path)
    changed = rf"spec file '{path}' was changed after run {spec.run_id} recorded it .*'zen doctor'"
    with pytest.raises(ConfigError, match=changed):
        run_worker_step(path, "load")  # the worker entry point
    with pytest.raises(ConfigError, match=changed):
        plan_spec_file(path)
    with pytest.raises(ConfigError, match=changed):
        rerun_spec(path)
    with pytest.raises(ConfigError, match=changed):
        _ = repo.run(spec.run_id).spec
    assert repo.stores().metadata.step_runs(spec.run_id) == [], "nothing ran"
    assert [run.id for run in repo.runs()] == [spec.run_id], "nothing new was recorded"

    path.unlink()
    with pytest.raises(ConfigError, match=rf"spec file '{path}' of run {spec.run_id} is missing; .*'zen doctor'"):
        _ = repo.run(spec.run_id).spec


def test_a_spec_no_recorded_run_was_launched_from_is_a_new_definition(repo: Repository) -> None:
    first = run_pipeline(numbers)
    for copy in (repo.root / "elsewhere.yaml", repo.pipelines_dir / "numbers" / "mine.yaml"):
        copy.write_text((repo.root / first.record.spec_path).read_text())
        edit_in_place(copy)
        again = rerun_spec(copy)
        assert again.spec.steps["load"].params == {"rows": 30} and again.steps["summarize"].output() == 3 * 435
