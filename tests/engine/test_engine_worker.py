"""The worker entry: one step of a recorded run's stored spec, run in this process (``zen step exec``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_helpers import SECRET, submitted

from zenml.engine import run_worker_step
from zenml.exceptions import ConfigError
from zenml.repository import Repository


def test_run_worker_step_runs_one_step_of_a_stored_spec_as_a_worker(repo: Repository, monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    spec, path = submitted(repo)
    monkeypatch.chdir(tmp_path.parent)  # workers start anywhere: the spec's location finds the repository
    outcomes = [run_worker_step(path, name) for name in ("load", "multiply", "summarize")]
    assert [(o.name, o.status) for o in outcomes] == [
        ("load", "completed"), ("multiply", "completed"), ("summarize", "completed")]
    run = repo.run(spec.run_id)
    assert run.steps["summarize"].output() == 9
    assert run.spec == spec
    retried = run_worker_step(path, "load")  # a worker retried by its scheduler re-runs the step
    assert retried.status == "completed"
    assert repo.run(spec.run_id).steps["load"].output() == [0, 1, 2]
    assert len(repo.run(spec.run_id).steps) == 3


def test_run_worker_step_of_an_unknown_step_is_a_config_error(repo: Repository) -> None:
    _spec, path = submitted(repo)
    with pytest.raises(ConfigError, match=r"has no step 'train' \(steps: load, multiply, summarize\)"):
        run_worker_step(path, "train")


def test_run_worker_step_refuses_a_stack_whose_stores_differ(repo: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, path = submitted(repo)
    repo.register_stack("elsewhere", artifact_store="/tmp/other-store", metadata_store="sqlite:///other.db")
    with pytest.raises(ConfigError, match=r"stack 'elsewhere' here points at .*configure the same stores"):
        run_worker_step(path, "load", stack="elsewhere")
    monkeypatch.setenv("ZEN_METADATA_STORE", f"postgresql://postgres:{SECRET}@10.0.0.1/zen")
    with pytest.raises(ConfigError, match=r"postgresql://postgres:\*\*\*@10\.0\.0\.1/zen") as info:
        run_worker_step(path, "load")
    assert SECRET not in str(info.value)
    monkeypatch.delenv("ZEN_METADATA_STORE")
    assert repo.stores().metadata.step_runs(spec.run_id) == [], "nothing ran"
    assert not (repo.root / "other.db").exists()
