"""``zen run file.py:obj`` on a script that runs its pipeline at import (no ``__main__`` guard).

Legacy ZenML examples end with a bare ``pipeline.run()``. Imported by ``zen run``, such a module
would start a run of its own and then ``zen run`` would start the pipeline again: zen refuses the
import-time run with the fix, exit 2, and records nothing. ``python file.py`` still runs it once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from zenml.repository import Repository, close_stores

ZEN = str(Path(sys.executable).parent / "zen")

SCRIPT = """\
from zenml import pipeline, step


@step
def load() -> float:
    return 3.0


@pipeline
def scaled() -> None:
    load()


run = scaled.run()
print("ran", run.status)
"""


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args),
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
    (tmp_path / "flow.py").write_text(SCRIPT)
    (tmp_path / "guarded.py").write_text(
        SCRIPT.replace("run = scaled.run()\nprint", 'if __name__ == "__main__":\n    run = scaled.run()\n    print')
    )
    assert _run(ZEN, "init", cwd=tmp_path).returncode == 0
    return tmp_path


def _runs(folder: Path) -> int:
    try:
        return len(Repository(folder).runs())
    finally:
        close_stores()


@pytest.mark.parametrize("target", ["flow.py:scaled", "flow:scaled"])
def test_a_run_started_by_importing_the_target_is_refused(project: Path, target: str) -> None:
    result = _run(ZEN, "run", target, cwd=project)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "flow.py, line 14 starts a run while zen imports it" in lines[0]
    assert 'put that call under `if __name__ == "__main__":`' in lines[0]
    assert "ran" not in result.stdout
    assert _runs(project) == 0, "nothing recorded"
    graph = _run(ZEN, "graph", target, cwd=project)
    assert graph.returncode == 2 and "starts a run while zen imports it" in graph.stderr
    assert _runs(project) == 0


def test_the_script_itself_and_a_guarded_module_run_once(project: Path) -> None:
    script = _run(sys.executable, "flow.py", cwd=project)
    assert script.returncode == 0, script.stderr
    assert script.stdout.count("ran completed") == 1
    guarded = _run(ZEN, "run", "guarded.py:scaled", cwd=project)
    assert guarded.returncode == 0, guarded.stderr
    assert "ran" not in guarded.stdout
    assert _runs(project) == 2
