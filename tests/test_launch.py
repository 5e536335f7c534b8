"""Launching: the run spec is written once, read-only, hashed and password-free; reruns; workers."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from zenml import BaseStep, pipeline, step
from zenml.backends.processing.local import LocalProcessing
from zenml.backends.training.local import LocalTraining
from zenml.exceptions import ConfigError, MetadataStoreError, StepError
from zenml.launch import compile_pipeline, exec_step, plan_spec_file, rerun_spec, run_pipeline, write_spec
from zenml.pipelines.spec import RunSpec
from zenml.repository import Repository

SECRET = "s3cret"


@step
def load(rows: int = 3) -> list[int]:
    return list(range(rows))


class Multiply(BaseStep):
    def __init__(self, factor: int = 2):
        self.factor = factor

    def process(self, values: list[int]) -> list[int]:
        return [v * self.factor for v in values]


@step
def summarize(values: list[int]) -> int:
    return sum(values)


@pipeline
def numbers() -> None:
    summarize(Multiply(factor=3)(values=load()))


def _spec_files(repository: Repository) -> list[Path]:
    return sorted(repository.pipelines_dir.rglob("*.yaml")) if repository.pipelines_dir.exists() else []


def _artifact_entries(repository: Repository) -> list[str]:
    root = repository.root / ".zen" / "artifacts"
    return sorted(p.name for p in root.iterdir() if p.name != ".staging") if root.exists() else []


# -- the spec file ---------------------------------------------------------------------------------------


def test_spec_is_written_once_read_only_with_its_sha256_recorded(repo: Repository) -> None:
    run = run_pipeline(numbers)
    path = repo.root / "pipelines" / "numbers" / f"{run.id}.yaml"
    assert _spec_files(repo) == [path]
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
        for stores in repo._stores.values():
            stores.metadata.close()
        repo._stores.clear()


# -- reruns and workers ----------------------------------------------------------------------------------


def test_rerun_spec_makes_a_new_run_with_the_same_steps(repo: Repository) -> None:
    first = run_pipeline(numbers, params={"load": {"rows": 4}})
    path = repo.root / first.record.spec_path
    again = rerun_spec(path)
    assert again.id != first.id
    assert again.status == "completed"
    assert again.spec.steps == first.spec.steps
    assert again.spec.steps["load"].params == {"rows": 4}
    assert {name: s.status for name, s in again.steps.items()} == {
        "load": "cached", "multiply": "cached", "summarize": "cached"}
    assert again.steps["summarize"].output() == first.steps["summarize"].output() == 18
    assert (repo.root / again.record.spec_path).is_file()
    assert stat.S_IMODE((repo.root / again.record.spec_path).stat().st_mode) == 0o444
    assert path.read_text() == first.spec.to_yaml(), "the original spec is never rewritten"

    fresh = rerun_spec(path, enable_cache=False, backend_options={"processing": {"workers": 2}})
    assert {s.status for s in fresh.steps.values()} == {"completed"}
    assert fresh.spec.backends.processing.params == {"workers": 2}
    assert fresh.spec.backends.training == first.spec.backends.training, "kinds not asked for keep their choice"
    assert fresh.spec.steps == first.spec.steps


def test_rerun_of_a_missing_or_broken_spec_is_a_config_error(repo: Repository) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        rerun_spec(repo.root / "pipelines" / "none.yaml")
    broken = repo.root / "broken.yaml"
    broken.write_text("spec_version: 99\n")
    with pytest.raises(ConfigError, match="newer than this zenml understands"):
        rerun_spec(broken)
    assert repo.runs() == []


def _submitted(repository: Repository) -> tuple[RunSpec, Path]:
    """What an orchestrator does before handing steps to workers: compile, persist, record."""
    spec, repository, stack = compile_pipeline(numbers, repository=repository)
    path = write_spec(spec, repository)
    repository.stores(stack).metadata.create_run(
        run_id=spec.run_id, pipeline=spec.pipeline.name, spec_path=str(path.relative_to(repository.root)),
        spec_sha256=spec.sha256(), orchestrator="local", created_at=spec.created_at.timestamp(), git=None)
    return spec, path


def test_exec_step_runs_one_step_of_a_stored_spec_as_a_worker(repo: Repository, monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    spec, path = _submitted(repo)
    monkeypatch.chdir(tmp_path.parent)  # workers start anywhere: the spec's location finds the repository
    outcomes = [exec_step(path, name) for name in ("load", "multiply", "summarize")]
    assert [(o.name, o.status) for o in outcomes] == [
        ("load", "completed"), ("multiply", "completed"), ("summarize", "completed")]
    run = repo.run(spec.run_id)
    assert run.steps["summarize"].output() == 9
    assert run.spec == spec
    retried = exec_step(path, "load")  # a worker retried by its scheduler re-runs the step
    assert retried.status == "completed"
    assert repo.run(spec.run_id).steps["load"].output() == [0, 1, 2]
    assert len(repo.run(spec.run_id).steps) == 3


def test_exec_step_of_an_unknown_step_is_a_config_error(repo: Repository) -> None:
    _spec, path = _submitted(repo)
    with pytest.raises(ConfigError, match=r"has no step 'train' \(steps: load, multiply, summarize\)"):
        exec_step(path, "train")


def test_exec_step_refuses_a_stack_whose_stores_differ(repo: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, path = _submitted(repo)
    repo.register_stack("elsewhere", artifact_store="/tmp/other-store", metadata_store="sqlite:///other.db")
    with pytest.raises(ConfigError, match=r"stack 'elsewhere' here points at .*configure the same stores"):
        exec_step(path, "load", stack="elsewhere")
    monkeypatch.setenv("ZEN_METADATA_STORE", f"postgresql://postgres:{SECRET}@10.0.0.1/zen")
    with pytest.raises(ConfigError, match=r"postgresql://postgres:\*\*\*@10\.0\.0\.1/zen") as info:
        exec_step(path, "load")
    assert SECRET not in str(info.value)
    monkeypatch.delenv("ZEN_METADATA_STORE")
    assert repo.stores().metadata.step_runs(spec.run_id) == [], "nothing ran"
    assert not (repo.root / "other.db").exists()


def _edit_in_place(path: Path) -> None:
    text = path.read_text()
    assert text.count("      rows: 3\n") == 1
    path.chmod(0o644)
    path.write_text(text.replace("      rows: 3\n", "      rows: 30\n"))


def test_readers_refuse_a_stored_spec_edited_since_launch(repo: Repository) -> None:
    spec, path = _submitted(repo)
    _edit_in_place(path)
    changed = rf"spec file '{path}' was changed after run {spec.run_id} recorded it .*'zen doctor'"
    with pytest.raises(ConfigError, match=changed):
        exec_step(path, "load")  # the worker entry point
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
        _edit_in_place(copy)
        again = rerun_spec(copy)
        assert again.spec.steps["load"].params == {"rows": 30} and again.steps["summarize"].output() == 3 * 435


# -- bad input fails before anything is written ----------------------------------------------------------


def _untouched(repository: Repository) -> None:
    assert _spec_files(repository) == []
    assert Repository(repository.root).runs() == []
    assert _artifact_entries(repository) == []


def test_unknown_backend_name_lists_the_known_ones(repo: Repository) -> None:
    with pytest.raises(ConfigError, match=r"unknown orchestrator backend 'kubeflow'; known orchestrator backends: loc"):
        run_pipeline(numbers, orchestrator="kubeflow")
    with pytest.raises(ConfigError, match=r"unknown processing backend 'flink'; known processing backends: local, b"):
        run_pipeline(numbers, processing="flink")
    with pytest.raises(ConfigError, match=r"stack 'typo': unknown training backend 'locale'; known training backends"):
        repo.register_stack("typo", training="locale")  # refused when registered ...
    repo.config.stacks["typo"] = {**repo.config.stacks["default"], "training": "locale"}
    repo.save_config()  # ... and when a hand-edited config.yaml names it, refused before anything is recorded
    with pytest.raises(ConfigError, match=r"unknown training backend 'locale'; known training backends: local"):
        run_pipeline(numbers, stack="typo")
    _untouched(repo)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"training": {"device": "tpu"}}, r"LocalTraining device 'tpu' is not one of"),
        ({"processing": {"wrokers": 2}}, r"LocalProcessing has no parameter 'wrokers'.*workers"),
        ({"processing": {"workers": 0}}, r"workers must be at least 1"),
        ({"processing": {"workers": "two"}}, r"parameter 'workers' of LocalProcessing must be int"),
        ({"gpu": {"count": 1}}, r"--backend-opt kind 'gpu' is unknown; use one of orchestrator, processing, training"),
    ],
    ids=["device", "misspelled", "zero-workers", "wrong-type", "unknown-kind"],
)
def test_bad_backend_options_are_config_errors(repo: Repository, options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        run_pipeline(numbers, backend_options=options)
    _untouched(repo)


def test_backend_objects_are_accepted_and_checked_for_kind(repo: Repository) -> None:
    run = run_pipeline(numbers, processing=LocalProcessing(workers=2), training=LocalTraining(device="cpu"))
    assert run.spec.backends.processing.name == "local"
    assert run.spec.backends.processing.params == {"workers": 2}
    assert run.spec.backends.training.params == {"device": "cpu"}
    with pytest.raises(ConfigError, match="LocalTraining is not a processing backend"):
        run_pipeline(numbers, processing=LocalTraining())  # type: ignore[arg-type]


def test_unreachable_metadata_store_fails_before_any_spec_is_written(repo: Repository) -> None:
    repo.register_stack("down", metadata_store=f"postgresql+psycopg://postgres:{SECRET}@127.0.0.1:1/zen",
                        artifact_store=".zen/down-artifacts")
    with pytest.raises(MetadataStoreError, match=r"cannot connect to the metadata store postgresql\+psycopg://"
                                                 r"postgres:\*\*\*@127\.0\.0\.1:1/zen") as info:
        run_pipeline(numbers, stack="down")
    assert SECRET not in str(info.value)
    _untouched(repo)
    down = repo.root / ".zen" / "down-artifacts"
    assert not down.exists() or os.listdir(down) == []


def test_a_failed_step_records_a_failed_run_with_its_spec(repo: Repository) -> None:
    with pytest.raises(StepError, match="ZeroDivisionError"):
        run_pipeline(broken_numbers)
    [run] = repo.runs()
    assert run.status == "failed"
    assert (repo.root / run.record.spec_path).is_file(), "a failed run keeps its spec for resume"


@step
def divide(values: list[int]) -> float:
    return 1 / len([v for v in values if v > 100])


@pipeline
def broken_numbers() -> None:
    divide(load())
