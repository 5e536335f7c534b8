"""Resuming failed and killed runs: finished steps are kept, the rest run; dead runs show 'crashed'."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zenml.exceptions import ConfigError

ZEN = str(Path(sys.executable).parent / "zen")

FLOW = '''
import os
import time
from pathlib import Path

from zenml import StepContext, pipeline, step


@step
def first(start: int = 1) -> int:
    return start


@step
def second(x: int) -> int:
    return x + 1


@step
def flaky(x: int) -> int:
    if Path("FAIL").exists():
        raise RuntimeError("the FAIL flag is set")
    if Path("SLOW").exists():
        Path("STARTED").write_text(str(os.getpid()))
        time.sleep(60)
    return x * 10


@step
def last(x: int, context: StepContext) -> int:
    context.log_metric("result", x)
    return x + 5


@pipeline
def resumable() -> None:
    last(flaky(second(first())))
'''


def zen(cwd: Path, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([ZEN, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == expect, result.stderr + result.stdout
    return result


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "flow_resume.py").write_text(FLOW)
    zen(tmp_path, "init", ".")
    return tmp_path


def _store(project: Path):  # noqa: ANN202
    from zenml.repository import Repository

    return Repository(project)


def test_resume_failed_run_keeps_completed_steps(project: Path) -> None:
    (project / "FAIL").write_text("1")
    failed = zen(project, "run", "flow_resume.py:resumable", expect=1)
    assert "RuntimeError" in failed.stderr and "flaky" in failed.stderr
    repository = _store(project)
    run = repository.runs()[0]
    assert run.status == "failed"
    assert run.record.error_step == "flaky"
    before = {name: step.record.started_at for name, step in run.steps.items()}
    assert run.steps["last"].status == "skipped"  # never started

    (project / "FAIL").unlink()
    zen(project, "runs", "resume", run.id)
    resumed = repository.run(run.id)
    assert resumed.status == "completed"
    assert resumed.steps["first"].record.started_at == before["first"]
    assert resumed.steps["second"].record.started_at == before["second"]
    assert resumed.steps["flaky"].status == "completed"
    assert resumed.metrics() == {"last": {"result": 20.0}}
    assert len(repository.runs()) == 1


def test_resume_refuses_completed_and_unknown_runs(project: Path) -> None:
    zen(project, "run", "flow_resume.py:resumable")
    run_id = _store(project).runs()[0].id
    done = zen(project, "runs", "resume", run_id, expect=2)
    assert "already completed" in done.stderr
    missing = zen(project, "runs", "resume", "no-such-run", expect=2)
    assert "no run 'no-such-run'" in missing.stderr


@pytest.mark.services
def test_killed_run_is_detected_as_crashed_and_resumable(
    project: Path, metadata_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZEN_METADATA_STORE", metadata_url)  # each engine: SQLite, MariaDB, PostgreSQL
    (project / "SLOW").write_text("1")
    proc = subprocess.Popen([ZEN, "run", "flow_resume.py:resumable", "-q"], cwd=project,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (project / "STARTED").exists():
        assert time.monotonic() < deadline, "the slow step never started"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)

    listing = zen(project, "runs", "list").stdout
    assert "crashed" in listing
    run = _store(project).runs()[0]
    assert run.status == "crashed"
    # it was mid-step when killed: that step died with it (not 'running' forever); finished ones stay
    statuses = {name: step.status for name, step in run.steps.items()}
    assert statuses == {"first": "completed", "second": "completed", "flaky": "crashed", "last": "skipped"}
    assert run.steps["flaky"].error == "Crashed: the process running it died (killed, or its machine stopped)"
    assert run.steps["flaky"].record.ended_at is not None

    (project / "SLOW").unlink()
    zen(project, "runs", "resume", run.id)
    resumed = _store(project).run(run.id)
    assert resumed.status == "completed"
    assert [s.status for s in resumed.steps.values()] == ["completed"] * 4
    assert resumed.steps["last"].outputs["output"].read() == 25


def test_resume_json_prints_one_document_for_success_failure_and_bad_input(project: Path) -> None:
    import json

    (project / "FAIL").write_text("1")
    zen(project, "run", "flow_resume.py:resumable", expect=1)
    run_id = _store(project).runs()[0].id

    again = zen(project, "runs", "resume", run_id, "--json", expect=1)  # the flag is still set: fails again
    failed = json.loads(again.stdout)
    assert (failed["run_id"], failed["status"]) == (run_id, "failed")
    assert failed["error"]["step"] == "flaky" and "FAIL flag" in failed["error"]["message"]
    assert "Error:" in again.stderr  # the one-line error goes to stderr, never into the document

    (project / "FAIL").unlink()
    done = json.loads(zen(project, "runs", "resume", run_id, "--json").stdout)
    assert (done["run_id"], done["status"]) == (run_id, "completed")
    statuses = {step["name"]: step["status"] for step in done["steps"]}
    assert statuses == {"first": "completed", "second": "completed", "flaky": "completed", "last": "completed"}
    assert done["metrics"] == {"last": {"result": 20.0}}

    unknown = zen(project, "runs", "resume", "no-such-run", "--json", expect=2)
    assert json.loads(unknown.stdout)["status"] == "error"
    quiet = zen(project, "runs", "resume", run_id, "--json", "-q", expect=2)  # completed: nothing left to resume
    assert json.loads(quiet.stdout)["status"] == "error"  # -q changes nothing: still the one document


# -- a stored spec is what ran ---------------------------------------------------------------------


def _edit_in_place(spec_file: Path, old: str, new: str) -> str:
    """What a user does to a stored spec: make it writable and change a value; returns the original text."""
    original = spec_file.read_text()
    assert original.count(old) == 1, old
    spec_file.chmod(0o644)  # chmod u+w
    spec_file.write_text(original.replace(old, new))
    return original


def _refused(result: subprocess.CompletedProcess[str], spec_path: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one line: the file, what is wrong, and where to look
    assert spec_path in lines[0] and "was changed after run" in lines[0] and "zen doctor" in lines[0], lines[0]
    assert "--param" in lines[0] and "outside the pipelines folder" in lines[0]


def test_an_edited_stored_spec_is_refused_by_resume_replay_and_workers(project: Path) -> None:
    (project / "FAIL").write_text("1")
    zen(project, "run", "flow_resume.py:resumable", expect=1)
    run = _store(project).runs()[0]
    spec_path = run.record.spec_path
    original = _edit_in_place(project / spec_path, "      start: 1\n", "      start: 5\n")
    (project / "FAIL").unlink()

    _refused(zen(project, "runs", "resume", run.id, expect=2), spec_path)
    _refused(zen(project, "run", spec_path, expect=2), spec_path)
    _refused(zen(project, "step", "exec", spec_path, "first", expect=2), spec_path)

    repository = _store(project)
    assert [r.id for r in repository.runs()] == [run.id], "nothing new was recorded"
    kept = repository.run(run.id)
    assert kept.status == "failed" and kept.steps["flaky"].status == "failed" and "last" not in kept.steps
    assert kept.steps["first"].outputs["output"].read() == 1
    with pytest.raises(ConfigError, match=r"spec file '.*\.yaml' was changed after run .*'zen doctor'"):
        _ = kept.spec

    (project / spec_path).write_text(original)  # restored, the run finishes as it was launched
    zen(project, "runs", "resume", run.id)
    resumed = _store(project).run(run.id)
    assert resumed.status == "completed" and resumed.spec.steps["first"].params == {"start": 1}
    assert resumed.steps["last"].outputs["output"].read() == 25


def test_a_copied_spec_or_param_runs_a_changed_pipeline(project: Path) -> None:
    zen(project, "run", "flow_resume.py:resumable")
    first = _store(project).runs()[0]
    copy = project / "changed.yaml"  # a copy outside the pipelines folder is a new pipeline definition
    copy.write_text((project / first.record.spec_path).read_text().replace("      start: 1\n", "      start: 5\n"))
    zen(project, "run", "changed.yaml")
    by_param = zen(project, "run", "flow_resume.py:resumable", "--param", "first.start=6")
    assert by_param.returncode == 0
    runs = _store(project).runs()
    assert [r.spec.steps["first"].params["start"] for r in runs] == [6, 5, 1]
    assert [r.steps["last"].outputs["output"].read() for r in runs] == [(6 + 1) * 10 + 5, (5 + 1) * 10 + 5, 25]
