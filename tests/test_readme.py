"""README.md's examples are code: its Python block runs as a script, and its ``zen`` commands run in a shell."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
ZEN = str(Path(sys.executable).parent / "zen")
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks(language: str) -> list[str]:
    return [body for lang, body in _BLOCK.findall(README.read_text()) if lang == language]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository holding README's Python example as ``flow.py``."""
    (python_block,) = _blocks("python")
    (tmp_path / "flow.py").write_text(python_block)
    initialised = _run([ZEN, "init"], tmp_path)
    assert initialised.returncode == 0, initialised.stderr
    return tmp_path


def _zen_commands() -> list[list[str]]:
    """Every ``zen …`` line of README's shell blocks, without its trailing comment."""
    commands = []
    for block in _blocks("bash"):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == "zen":
                commands.append(words)
    return commands


def test_python_example_runs_as_a_script(project: Path) -> None:
    result = _run([sys.executable, "flow.py"], project)
    assert result.returncode == 0, result.stderr
    status, value, *_ = result.stdout.split()
    assert status == "completed"
    assert float(value) == 6.0
    assert "'factor': 2.0" in result.stdout


def test_shell_examples_run(project: Path) -> None:
    commands = _zen_commands()
    assert commands[0] == ["zen", "run", "flow.py:scaled", "--param", "scale.factor=3"]  # the run the others use
    run_id = None
    for words in commands:
        if run_id is not None:
            words = [word.replace("RUN_ID", run_id) for word in words]
        assert "RUN_ID" not in " ".join(words), "README refers to a run before one exists"
        result = _run([ZEN, *words[1:]], project)
        assert result.returncode == 0, (words, result.stderr)
        if run_id is None:
            run_id = re.search(r"^Run (\S+) completed", result.stdout, re.MULTILINE)[1]  # type: ignore[index]
        if words[:2] == ["zen", "graph"]:
            assert "load -->" in result.stdout and "scale" in result.stdout
    assert {" ".join(words[:2]) for words in commands} >= {"zen run", "zen graph", "zen runs"}

    from zenml.repository import Repository

    repository = Repository(project)
    try:
        first = repository.run(str(run_id))
        assert first.steps["scale"].params == {"factor": 3}
        assert first.steps["scale"].outputs["output"].read() == 9.0
        rerun = repository.runs()[0]  # 'zen run pipelines/scaled/RUN_ID.yaml' re-executed it as a new run
        assert rerun.id != first.id and rerun.spec.steps == first.spec.steps
    finally:
        repository.close()
