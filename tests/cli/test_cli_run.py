"""``zen init`` and ``zen run`` on the happy paths: the three target forms, parameters, backends, caching."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import Flow, Result, only_run, store_state, write_flow

from zenml.history.runs import PipelineRun
from zenml.repository import Repository

Zen = Callable[..., Result]
MonkeyPatch = pytest.MonkeyPatch


def _newest(repo: Repository) -> PipelineRun:
    return repo.runs(limit=1)[0]


def test_init_creates_the_repository_and_ignores_it_in_git(zen: Zen, tmp_path: Path, monkeypatch: MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = zen("init")
    assert result.code == 0, result.err
    assert "Initialised zenml repository" in result.out
    assert (tmp_path / ".zen" / "config.yaml").is_file()
    assert ".zen/" in (tmp_path / ".gitignore").read_text().splitlines()
    assert zen("init").code == 0  # idempotent
    assert (tmp_path / ".gitignore").read_text().count(".zen/") == 1


def test_init_takes_a_path_argument(zen: Zen, tmp_path: Path, monkeypatch: MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "project").mkdir()
    assert zen("init", "project").code == 0
    assert (tmp_path / "project" / ".zen" / "config.yaml").is_file()
    assert not (tmp_path / ".zen").exists()


def test_commands_find_the_repository_from_a_sub_folder(zen: Zen, tmp_path: Path, monkeypatch: MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert zen("init").code == 0
    flow = write_flow(tmp_path)
    deep = tmp_path / "src" / "deeper"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    result = zen("run", f"../../{flow.target('scaled')}")
    assert result.code == 0, result.err
    assert len(list((tmp_path / "pipelines" / "scaled").glob("*.yaml"))) == 1  # at the root, not in src/deeper
    assert not (deep / "pipelines").exists()
    listed = zen("runs", "list")
    assert listed.code == 0
    assert only_run(tmp_path) in listed.out


def test_run_file_target_applies_and_records_params(zen: Zen, flow: Flow, repo: Repository) -> None:
    result = zen("run", flow.target("scaled"), "--param", "scale.factor=3")
    assert result.code == 0, result.err
    assert "completed" in result.out
    run = _newest(repo)
    assert run.status == "completed"
    assert run.steps["scale"].params == {"factor": 3}
    assert run.steps["scale"].outputs["output"].read() == 9.0
    assert run.spec.steps["scale"].params == {"factor": 3}
    assert run.metrics() == {"scale": {"factor": 3.0}}


def test_run_pipeline_object_target(zen: Zen, flow: Flow, repo: Repository) -> None:
    result = zen("run", flow.target("simple"))
    assert result.code == 0, result.err
    run = _newest(repo)
    assert run.pipeline == "simple"
    assert list(run.steps) == ["load", "scale"]
    assert run.steps["scale"].outputs["output"].read() == 6.0


def test_run_package_module_target(zen: Zen, repo: Repository, tmp_path: Path) -> None:
    from cli_helpers import FLOW_SOURCE

    package = write_flow(tmp_path, source="", prefix="pkg").module
    (tmp_path / f"{package}.py").unlink()
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / package / "pipes.py").write_text(FLOW_SOURCE)
    result = zen("run", f"{package}.pipes:scaled", "--param", "scale.factor=5")
    assert result.code == 0, result.err
    run = _newest(repo)
    assert run.steps["scale"].type == f"{package}.pipes.Scale"
    assert run.steps["scale"].outputs["output"].read() == 15.0


def test_string_params_stay_strings(zen: Zen, flow: Flow, repo: Repository) -> None:
    result = zen("run", flow.target("greeting"), "--param", "greet.name=123")
    assert result.code == 0, result.err
    step = _newest(repo).steps["greet"]
    assert step.params == {"name": "123"}
    assert step.outputs["output"].read() == "hello 123"


def test_rerun_of_a_stored_spec_is_a_new_run_with_the_same_steps(zen: Zen, flow: Flow, repo: Repository) -> None:
    assert zen("run", flow.target("scaled"), "--param", "scale.factor=4").code == 0
    first = _newest(repo)
    spec_path = first.record.spec_path
    result = zen("run", spec_path)
    assert result.code == 0, result.err
    runs = repo.runs()
    assert len(runs) == 2
    second = runs[0]
    assert second.id != first.id
    assert second.spec.steps == first.spec.steps
    assert [s.status for s in second.steps.values()] == ["cached", "cached"]
    assert second.steps["scale"].outputs["output"].read() == 12.0
    assert Path(second.record.spec_path) != Path(spec_path)


def test_no_cache_reexecutes_every_step(zen: Zen, flow: Flow, repo: Repository) -> None:
    assert zen("run", flow.target("scaled")).code == 0
    cached = zen("run", flow.target("scaled"))
    assert cached.code == 0
    assert [s.status for s in _newest(repo).steps.values()] == ["cached", "cached"]
    assert "2 cached" in cached.out
    fresh = zen("run", flow.target("scaled"), "--no-cache")
    assert fresh.code == 0
    assert [s.status for s in _newest(repo).steps.values()] == ["completed", "completed"]
    assert "2 completed" in fresh.out


def test_progress_lines_and_quiet(zen: Zen, flow: Flow) -> None:
    loud = zen("run", flow.target("scaled"))
    assert "load: completed" in loud.out
    assert "scale: completed" in loud.out
    quiet = zen("run", flow.target("scaled"), "--quiet")
    assert quiet.code == 0
    lines = quiet.out.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Run ") and "completed" in lines[0]


def test_explicit_local_backends(zen: Zen, flow: Flow, repo: Repository) -> None:
    result = zen(
        "run", flow.target("scaled"), "--orchestrator", "local", "--processing", "local", "--training", "local"
    )
    assert result.code == 0, result.err
    run = _newest(repo)
    assert run.record.orchestrator == "local"
    assert run.spec.backends.processing.name == "local"


def test_run_on_a_named_stack(zen: Zen, flow: Flow, tmp_path: Path) -> None:
    registered = zen(
        "stack", "register", "other", "--metadata-store", "sqlite:///other.db", "--artifact-store", "other-artifacts"
    )
    assert registered.code == 0, registered.err
    result = zen("run", flow.target("scaled"), "--stack", "other")
    assert result.code == 0, result.err
    assert store_state(tmp_path).runs == []  # nothing in the default stack's store
    assert (tmp_path / "other.db").is_file()
    assert any((tmp_path / "other-artifacts").rglob("*"))
    assert zen("stack", "set", "other").code == 0
    listed = zen("runs", "list")
    assert "scaled" in listed.out
    assert zen("stack", "set", "default").code == 0


def test_backend_options_reach_the_spec(zen: Zen, flow: Flow, repo: Repository) -> None:
    from zenml.backends.processing.local import LocalProcessing

    params = LocalProcessing().get_params()
    if not params:  # nothing to set: the option must be refused (see test_cli_bad_input)
        return
    key, value = next(iter(params.items()))
    result = zen("run", flow.target("scaled"), "--backend-opt", f"processing.{key}={value}")
    assert result.code == 0, result.err
    assert _newest(repo).spec.backends.processing.params == {key: value}


def test_version_and_help(zen: Zen) -> None:
    import zenml

    version = zen("version")
    assert version.code == 0
    assert zenml.__version__ in version.out
    helped = zen("--help")
    assert helped.code == 0
    for command in ("init", "run", "runs", "graph", "stack", "steps", "version"):
        assert command in helped.out
    assert zen("run", "--help").code == 0
