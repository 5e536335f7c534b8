"""``zen runs``, ``zen pipelines``, ``zen artifacts`` and ``zen step exec``: reading and extending history."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import Flow, Result

from zenml.repository import Repository

Zen = Callable[..., Result]


def _run_ids(repo: Repository) -> list[str]:
    return [run.id for run in repo.runs()]


def test_runs_list_filters_by_pipeline_and_limits(zen: Zen, flow: Flow, repo: Repository) -> None:
    empty = zen("runs", "list")
    assert empty.code == 0
    assert "No runs recorded yet" in empty.out
    for target in ("scaled", "simple", "scaled"):
        assert zen("run", flow.target(target), "--quiet").code == 0
    newest_scaled, simple, oldest_scaled = _run_ids(repo)
    everything = zen("runs", "list")
    assert all(run_id in everything.out for run_id in (newest_scaled, simple, oldest_scaled))
    assert everything.out.index(newest_scaled) < everything.out.index(oldest_scaled)  # newest first
    only_scaled = zen("runs", "list", "--pipeline", "scaled")
    assert newest_scaled in only_scaled.out and oldest_scaled in only_scaled.out
    assert simple not in only_scaled.out
    limited = zen("runs", "list", "--limit", "1")
    assert newest_scaled in limited.out
    assert simple not in limited.out and oldest_scaled not in limited.out


def test_runs_show_steps_params_metrics(zen: Zen, flow: Flow, repo: Repository) -> None:
    assert zen("run", flow.target("scaled"), "--param", "scale.factor=2.5").code == 0
    run_id = _run_ids(repo)[0]
    shown = zen("runs", "show", run_id)
    assert shown.code == 0, shown.err
    out = shown.out
    assert f"Run {run_id} of pipeline scaled: completed" in out
    assert "git: (not a git repository)" in out
    assert f"pipelines/scaled/{run_id}.yaml" in out
    for expected in ("load", "scale", '{"factor": 2.5}', "factor", "2.5"):
        assert expected in out
    by_prefix = zen("runs", "show", run_id[:-3])
    assert by_prefix.code == 0
    assert by_prefix.out == out


def test_runs_show_records_git_commit(zen: Zen, flow: Flow, repo: Repository, tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    identity = ["-c", "user.name=zen", "-c", "user.email=zen@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run(["git", *identity, "commit", "-q", "-m", "init"], cwd=tmp_path, check=True)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path, check=True, capture_output=True, text=True
    ).stdout.strip()
    assert zen("run", flow.target("scaled"), "--quiet").code == 0
    run = repo.runs()[0]
    assert run.git is not None and run.git["commit"] == commit and run.git["dirty"] is False
    shown = zen("runs", "show", run.id)
    assert f"git: {commit}" in shown.out
    assert "(dirty)" not in shown.out
    (tmp_path / flow.file).write_text((tmp_path / flow.file).read_text() + "\n# edited\n")
    assert zen("run", flow.target("scaled"), "--quiet").code == 0
    assert "(dirty)" in zen("runs", "show", repo.runs()[0].id).out


def test_runs_show_of_a_failed_run_names_step_and_error(zen: Zen, flow: Flow, repo: Repository) -> None:
    Path("broken").touch()
    assert zen("run", flow.target("failing")).code == 1
    shown = zen("runs", "show", _run_ids(repo)[0])
    assert shown.code == 0
    assert ": failed" in shown.out
    assert "step 'boom' failed: ValueError: kaboom: the data is bad" in shown.out


def test_runs_show_ambiguous_or_unknown_id(zen: Zen, flow: Flow) -> None:
    for _ in range(2):
        assert zen("run", flow.target("scaled"), "--quiet").code == 0
    ambiguous = zen("runs", "show", "2")
    assert ambiguous.code == 2
    assert "matches several runs" in ambiguous.err
    unknown = zen("runs", "show", "nope")
    assert unknown.code == 2
    assert "no run 'nope'" in unknown.err


def test_pipelines_list(zen: Zen, flow: Flow) -> None:
    assert "No pipelines recorded yet" in zen("pipelines", "list").out
    for target in ("scaled", "scaled", "simple"):
        assert zen("run", flow.target(target), "--quiet").code == 0
    listed = zen("pipelines", "list")
    assert listed.code == 0
    rows = {
        line.split()[0]: line.split()[2] for line in listed.out.splitlines() if line.startswith(("scaled", "simple"))
    }
    assert rows == {"scaled": "2", "simple": "1"}


def test_artifacts_list_and_show(zen: Zen, flow: Flow, repo: Repository) -> None:
    assert "No artifacts stored yet" in zen("artifacts", "list").out
    assert zen("run", flow.target("scaled"), "--param", "scale.factor=7").code == 0
    run = repo.runs()[0]
    output = run.steps["scale"].outputs["output"]
    listed = zen("artifacts", "list")
    assert listed.code == 0
    assert "scale.output" in listed.out and "load.output" in listed.out
    assert run.id in listed.out
    assert output.content_hash[:23] in listed.out
    of_run = zen("artifacts", "list", "--run", run.id[:-3])  # a prefix names the run too
    assert of_run.code == 0, of_run.err
    assert output.content_hash[:23] in of_run.out and "scale.output" in of_run.out
    assert of_run.out.count("this run") == 2  # both outputs were computed by the run itself
    shown = zen("artifacts", "show", str(output.id))
    assert shown.code == 0, shown.err
    assert f"Artifact {output.id}" in shown.out
    assert output.content_hash in shown.out
    assert shown.out.strip().splitlines()[-1] == "21.0"  # the preview of the value
    lineage = zen("artifacts", "show", str(output.id), "--lineage")
    assert lineage.code == 0
    assert "Lineage:" in lineage.out and "load" in lineage.out
    missing = zen("artifacts", "show", "9999")
    assert missing.code == 2
    assert "9999" in missing.err


def test_artifacts_show_previews_a_list(zen: Zen, flow: Flow, repo: Repository) -> None:
    assert zen("run", flow.target("greeting"), "--param", "greet.name=zen").code == 0
    artifact = repo.runs()[0].steps["greet"].outputs["output"]
    assert "'hello zen'" in zen("artifacts", "show", str(artifact.id)).out


def test_step_exec_finishes_a_failed_run_step_by_step(zen: Zen, flow: Flow, repo: Repository) -> None:
    Path("broken").touch()
    assert zen("run", flow.target("failing")).code == 1
    run = repo.runs()[0]
    spec = run.record.spec_path
    assert {name: step.status for name, step in run.steps.items()} == {
        "load": "completed",
        "boom": "failed",
        "scale": "skipped",
    }
    Path("broken").unlink()
    executed = zen("step", "exec", spec, "boom")
    assert executed.code == 0, executed.err
    assert "step boom completed" in executed.out
    assert zen("step", "exec", spec, "scale").code == 0
    after = repo.run(run.id)
    assert {name: step.status for name, step in after.steps.items()} == {
        "load": "completed",
        "boom": "completed",
        "scale": "completed",
    }
    assert after.steps["scale"].outputs["output"].read() == 6.0
    assert len(repo.runs()) == 1  # the same run, not a new one


def test_step_exec_of_a_finished_step_changes_nothing(zen: Zen, flow: Flow, repo: Repository) -> None:
    assert zen("run", flow.target("scaled")).code == 0
    run = repo.runs()[0]
    before = {name: (step.status, step.outputs["output"].id) for name, step in run.steps.items()}
    again = zen("step", "exec", run.record.spec_path, "scale")
    assert again.code == 0, again.err
    after = repo.run(run.id)
    assert {name: (step.status, step.outputs["output"].id) for name, step in after.steps.items()} == before
    assert after.status == "completed"


def test_step_exec_bad_input(zen: Zen, flow: Flow, repo: Repository, tmp_path: Path) -> None:
    assert zen("run", flow.target("scaled"), "--quiet").code == 0
    spec = repo.runs()[0].record.spec_path
    unknown_step = zen("step", "exec", spec, "nope")
    assert unknown_step.code == 2
    assert "no step 'nope'" in unknown_step.err
    text = (tmp_path / spec).read_text()
    run_id = repo.runs()[0].id
    (tmp_path / "unlaunched.yaml").write_text(text.replace(run_id, run_id[:-8] + "ffffffff"))
    unlaunched = zen("step", "exec", "unlaunched.yaml", "load")
    assert unlaunched.code == 2
    assert "not recorded in this metadata store" in unlaunched.err
    assert "zen run unlaunched.yaml" in unlaunched.err
    assert len(repo.runs()) == 1
