"""Exit codes tell the truth: 0 the run completed, 1 a run was recorded and did not complete, 2 bad input.

A step that calls ``sys.exit`` (any code), raises ``KeyboardInterrupt`` in a worker or another
``BaseException``, or kills its worker process with ``os._exit`` is a failed step of a recorded
run, on every orchestrator: ``zen run`` prints the usual error lines, says how to resume, and
exits 1. Each case runs the installed ``zen`` script in a fresh process, as a shell does.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from zenml.history.runs import PipelineRun

ZEN = str(Path(sys.executable).parent / "zen")

#: ``fragile`` misbehaves as the file FAULT says while it exists; without it the step returns.
FLOW = '''
import os
import sys
from pathlib import Path

from zenml import pipeline, step


class Odd(BaseException):
    """Not an Exception: the kind of thing a library may raise to unwind."""


@step
def load() -> int:
    return 1


@step
def fragile(x: int) -> int:
    fault = Path("FAULT").read_text().strip() if Path("FAULT").exists() else ""
    if fault == "exit-text":
        sys.exit("giving up")
    if fault.startswith("exit"):
        sys.exit(int(fault[4:]))
    if fault == "os_exit":
        os._exit(7)
    if fault == "keyboard":
        raise KeyboardInterrupt
    if fault == "odd":
        raise Odd("unwinding")
    return x + 1


@pipeline
def flaky() -> None:
    fragile(load())
'''


def zen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the console script with no terminal and no stdin."""
    return subprocess.run(
        [ZEN, *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "TERM": "dumb"},
        check=False,
    )


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("Error:")]


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A repository with the flaky pipeline as ``flow.py``."""
    (tmp_path / "flow.py").write_text(FLOW)
    assert zen("init", cwd=tmp_path).returncode == 0
    yield tmp_path
    from zenml.repository import close_stores

    close_stores()


def only_run(project: Path) -> PipelineRun:
    from zenml.repository import Repository

    runs = Repository(project).runs(pipeline="flaky")
    assert len(runs) == 1, runs
    return runs[0]


def assert_failed_run(project: Path, result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Exit 1, the error line (with every fragment) and the resume line, no traceback; the run recorded failed."""
    text = result.stdout + result.stderr
    assert result.returncode == 1, text
    assert "Traceback (most recent call last)" not in text  # (a Dask worker logs a failed task its own way)
    assert "step 'None'" not in text
    run = only_run(project)
    lines = error_lines(result)
    assert len(lines) == 2, text
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert f"run {run.id} was recorded as failed" in lines[1]
    assert f"zen runs resume {run.id}" in lines[1]
    assert run.status == "failed"
    shown = zen("runs", "show", run.id, cwd=project)
    assert shown.returncode == 0 and "step 'None'" not in shown.stdout, shown.stdout
    return str(run.id)


DASK = [pytest.mark.dask, pytest.mark.timeout(300)]


SYS_EXITS = [("local", 0), ("local", 3), ("parallel", 0), ("parallel", 3), pytest.param("dask", 3, marks=DASK)]


@pytest.mark.parametrize(("orchestrator", "code"), SYS_EXITS)
def test_sys_exit_in_a_step_is_a_failed_step_and_exit_1(project: Path, orchestrator: str, code: int) -> None:
    if orchestrator == "dask":
        pytest.importorskip("dask.distributed")
    (project / "FAULT").write_text(f"exit{code}")

    result = zen("run", "flow.py:flaky", "--orchestrator", orchestrator, cwd=project)

    assert_failed_run(project, result, f"step 'fragile' failed: SystemExit: the step called sys.exit({code})")
    step = only_run(project).steps["fragile"]
    assert (step.status, step.record.error_type) == ("failed", "SystemExit")
    assert f"sys.exit({code})" in step.record.error_message


def test_a_failed_sys_exit_run_resumes_once_the_step_is_fixed(project: Path) -> None:
    (project / "FAULT").write_text("exit-text")
    failed = zen("run", "flow.py:flaky", cwd=project)
    run_id = assert_failed_run(project, failed, "the step called sys.exit('giving up')")

    (project / "FAULT").unlink()
    resumed = zen("runs", "resume", run_id, cwd=project)

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"Run {run_id} completed after resume" in resumed.stdout
    assert only_run(project).status == "completed"


@pytest.mark.parametrize("orchestrator", ["local", "parallel"])
def test_a_base_exception_in_a_step_is_a_failed_step(project: Path, orchestrator: str) -> None:
    (project / "FAULT").write_text("odd")
    result = zen("run", "flow.py:flaky", "--orchestrator", orchestrator, cwd=project)
    assert_failed_run(project, result, "step 'fragile' failed: Odd: unwinding")


@pytest.mark.parametrize("orchestrator", ["parallel", pytest.param("dask", marks=DASK)])
def test_keyboard_interrupt_raised_by_a_step_in_a_worker_is_a_failed_step(project: Path, orchestrator: str) -> None:
    if orchestrator == "dask":
        pytest.importorskip("dask.distributed")
    (project / "FAULT").write_text("keyboard")
    result = zen("run", "flow.py:flaky", "--orchestrator", orchestrator, cwd=project)
    # a worker cannot tell a KeyboardInterrupt the step raised from Ctrl-C reaching it: both read as interrupted
    assert_failed_run(project, result, "step 'fragile' failed: KeyboardInterrupt: interrupted (Ctrl-C)")


def test_keyboard_interrupt_in_process_still_stops_the_run_with_130(project: Path) -> None:
    # On the local orchestrator the step runs in the zen process, where it cannot be told from Ctrl-C.
    (project / "FAULT").write_text("keyboard")
    result = zen("run", "flow.py:flaky", cwd=project)
    assert result.returncode == 130, result.stdout + result.stderr
    assert only_run(project).status == "failed"


def test_a_worker_killed_by_os_exit_fails_the_run_with_exit_1(project: Path) -> None:
    (project / "FAULT").write_text("os_exit")

    result = zen("run", "flow.py:flaky", "--orchestrator", "parallel", cwd=project)

    run_id = assert_failed_run(project, result, "WorkerDied: the worker running step 'fragile' died (exit code 7)")
    run = only_run(project)
    assert run.record.error_type == "WorkerDied"
    assert run.error is not None
    died = "WorkerDied: the worker running step 'fragile' died (exit code 7)"
    assert run.error.startswith(f"step 'fragile' failed: {died}")
    (project / "FAULT").unlink()
    resumed = zen("runs", "resume", run_id, cwd=project)  # on the run's own orchestrator: parallel
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert only_run(project).status == "completed"


def test_json_reports_a_sys_exit_as_a_failed_run_and_exits_1(project: Path) -> None:
    (project / "FAULT").write_text("exit0")
    result = zen("run", "flow.py:flaky", "--json", cwd=project)
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["status"] == "failed"
    assert document["error"] == {
        "step": "fragile",
        "type": "SystemExit",
        "message": "the step called sys.exit(0); a step must return its outputs or raise an exception, never exit "
        "the process",
    }


@pytest.mark.parametrize("orchestrator", ["local", "parallel"])
def test_sys_exit_in_a_step_exits_1_in_a_terminal_too(project: Path, orchestrator: str) -> None:
    if shutil.which("script") is None:
        pytest.skip("needs util-linux 'script' for a pseudo-terminal")
    (project / "FAULT").write_text("exit0")
    command = shlex.join([ZEN, "run", "flow.py:flaky", "--orchestrator", orchestrator])
    result = subprocess.run(
        ["script", "-qec", command, "/dev/null"],  # -e: exit with the command's code
        cwd=project,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    text = result.stdout.replace("\r", "")
    assert result.returncode == 1, text
    assert "step 'fragile' failed: SystemExit: the step called sys.exit(0)" in text
    assert "zen runs resume" in text
    assert only_run(project).status == "failed"
