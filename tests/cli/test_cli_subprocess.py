"""The installed ``zen`` script as a shell runs it: exit codes, plain output, no TTY or stdin needed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import FLOW_SOURCE

ZEN = str(Path(sys.executable).parent / "zen")


def zen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the console script with no terminal and no stdin."""
    return subprocess.run(
        [ZEN, *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TERM": "dumb"},
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with the test pipelines as ``flow.py``, made a repository by ``zen init``."""
    (tmp_path / "flow.py").write_text(FLOW_SOURCE)
    initialised = zen("init", cwd=tmp_path)
    assert initialised.returncode == 0, initialised.stderr
    assert "Initialised zenml repository" in initialised.stdout
    return tmp_path


def test_help_exits_zero(tmp_path: Path) -> None:
    result = zen("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "Usage: zen" in result.stdout
    bare = zen(cwd=tmp_path)
    assert bare.returncode == 2  # no command: the help, as a usage error
    assert "Usage: zen" in bare.stdout + bare.stderr


def test_steps_run_with_the_cycle_collector_on(tmp_path: Path) -> None:
    # ``zen`` pauses the collector while it starts up; the executor must resume it before user code
    (tmp_path / "gcflow.py").write_text(
        "import gc\n"
        "from zenml import pipeline, step\n\n"
        "@step\ndef collecting() -> bool:\n    print('collector on:', gc.isenabled())\n    return gc.isenabled()\n\n"
        "@pipeline\ndef gcflow() -> None:\n    collecting()\n"
    )
    assert zen("init", cwd=tmp_path).returncode == 0
    ran = zen("run", "gcflow.py:gcflow", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "collector on: True" in ran.stdout + ran.stderr


def test_run_rerun_and_step_exec_in_fresh_processes(project: Path) -> None:
    ran = zen("run", "flow.py:scaled", "--param", "scale.factor=3", cwd=project)
    assert ran.returncode == 0, ran.stderr
    assert "\x1b[" not in ran.stdout  # no colours or live display without a terminal
    assert "  load: completed" in ran.stdout and "  scale: completed" in ran.stdout
    assert ran.stdout.strip().splitlines()[-1].endswith("(2 completed)")
    spec = next((project / "pipelines" / "scaled").glob("*.yaml")).relative_to(project)
    # a new process must import the step types the spec names (flow.Scale) on its own
    rerun = zen("run", str(spec), "--no-cache", cwd=project)
    assert rerun.returncode == 0, rerun.stderr
    assert "(2 completed)" in rerun.stdout
    executed = zen("step", "exec", str(spec), "scale", cwd=project)
    assert executed.returncode == 0, executed.stderr
    assert "step scale completed" in executed.stdout
    listed = zen("runs", "list", "--pipeline", "scaled", cwd=project)
    assert listed.returncode == 0
    assert listed.stdout.count("completed") == 2


def test_failed_run_exits_one(project: Path) -> None:
    (project / "broken").touch()
    result = zen("run", "flow.py:failing", cwd=project)
    assert result.returncode == 1
    assert "Error: step 'boom' failed: ValueError: kaboom: the data is bad" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_input_exits_two(project: Path) -> None:
    result = zen("run", "flow.py:scaled", "--param", "scale.factr=2", cwd=project)
    assert result.returncode == 2
    assert [line for line in result.stderr.splitlines() if line.startswith("Error:")] == [
        "Error: step 'scale': Scale has no parameter 'factr'; did you mean 'factor'? (parameters: factor)"
    ]
    assert "Traceback" not in result.stderr
    assert not (project / "pipelines").exists()
    usage = zen("run", "flow.py:scaled", "--bogus", cwd=project)
    assert usage.returncode == 2
    assert "No such option: --bogus" in usage.stderr
    assert "Traceback" not in usage.stderr
