"""The cache as a user meets it: edit a project value between two ``zen run``s and the step runs again.

Every ``zen`` call here starts from a freshly imported project, as each command of a user does: the
in-process calls forget the project's modules first, and some tests run the real console script in
a subprocess, one of them under a pseudo-terminal.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import Result

from zenml.repository import Repository

Zen = Callable[..., Result]
ZEN = str(Path(sys.executable).parent / "zen")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

SETTINGS = """\
import numpy as np

WEIGHTS = {"a": 1.0, "b": 0.0}
FACTOR = 2.0
GRID = np.array([1.0, 2.0])
"""

HELPERS = """\
from settings import FACTOR


def scale(x: float, factor: float = FACTOR) -> float:
    return x * factor


class Model:
    SIZES = [1, 2]

    def size(self) -> int:
        return sum(self.SIZES)
"""

FLOW = """\
from helpers import Model, scale
from settings import GRID, WEIGHTS

from zenml import pipeline, step

LIMIT = 10


@step
def compute() -> float:
    return LIMIT + WEIGHTS["a"] + scale(1.0) + Model().size() + float(GRID.sum())


@step
def report(total: float) -> str:
    return f"total={total}"


@pipeline
def values_flow() -> None:
    report(compute())
"""

#: what a user edits → (file, old text, new text, what ``zen plan`` must say, compute's new output)
EDITS = {
    "module-constant": ("flow.py", "LIMIT = 10", "LIMIT = 100", "flow.LIMIT changed", 109.0),
    "config-dict": ("settings.py", '"a": 1.0', '"a": 2.0', "settings.WEIGHTS changed", 20.0),
    "class-attribute": ("helpers.py", "SIZES = [1, 2]", "SIZES = [1, 3]", "helpers.Model.SIZES changed", 20.0),
    "helper-default": ("settings.py", "FACTOR = 2.0", "FACTOR = 3.0", "default of helpers.scale(factor) changed", 20.0),
    "numpy-array": ("settings.py", "[1.0, 2.0]", "[1.0, 3.0]", "settings.GRID changed", 20.0),
}
BEFORE = 10 + 1.0 + 2.0 + 3 + 3.0


@pytest.fixture
def project(repo: Repository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The pipeline and its settings and helpers modules at the root of a fresh repository."""
    # edits of equal size within one second would otherwise be read back from a stale .pyc
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    for name, source in {"settings.py": SETTINGS, "helpers.py": HELPERS, "flow.py": FLOW}.items():
        (tmp_path / name).write_text(source)
    return tmp_path


def fresh(zen: Zen, root: Path) -> Zen:
    """``zen`` as a new process would run it: the project's modules are imported again from disk."""

    def invoke(*args: str) -> Result:
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if file and Path(file).resolve().is_relative_to(root.resolve()):
                del sys.modules[name]
        return zen(*args)

    return invoke


def edit(file: Path, old: str, new: str) -> None:
    text = file.read_text()
    assert old in text
    file.write_text(text.replace(old, new))


@pytest.mark.parametrize(("file", "old", "new", "said", "after"), EDITS.values(), ids=EDITS.keys())
def test_an_edited_project_value_reruns_the_step_and_plan_names_it(
    zen: Zen, repo: Repository, project: Path, file: str, old: str, new: str, said: str, after: float
) -> None:
    run = fresh(zen, project)
    assert "(2 completed)" in run("run", "flow.py:values_flow", "-q").out
    assert repo.runs()[0].steps["compute"].output() == BEFORE
    assert "(2 cached)" in run("run", "flow.py:values_flow", "-q").out, "an unchanged project stays cached"

    edit(project / file, old, new)
    plan = run("plan", "flow.py:values_flow")
    assert plan.code == 0, plan.err
    compute_row = next(line for line in plan.out.splitlines() if line.startswith("compute"))
    assert " run " in compute_row and said in compute_row
    assert "same code" not in plan.out

    assert "(2 completed)" in run("run", "flow.py:values_flow", "-q").out
    steps = repo.runs()[0].steps
    assert (steps["compute"].status, steps["compute"].output()) == ("completed", after)
    assert steps["report"].output() == f"total={after}"
    assert "(2 cached)" in run("run", "flow.py:values_flow", "-q").out


# -- the real console script -----------------------------------------------------------------------------


def zen_in_terminal(cwd: Path, *args: str, timeout: float = 120) -> tuple[int, str]:
    """Run ``zen ARGS`` with a pseudo-terminal as stdin, stdout and stderr; its exit code and output."""
    controller, terminal = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160", "PYTHONDONTWRITEBYTECODE": "1"}
    process = subprocess.Popen([ZEN, *args], cwd=cwd, stdin=terminal, stdout=terminal, stderr=terminal, env=env)
    os.close(terminal)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([controller], [], [], 0.2)[0]:
                try:
                    chunk = os.read(controller, 65536)
                except OSError:  # the terminal closed: every writer is gone
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            elif process.poll() is not None:
                break
        else:
            process.kill()
            pytest.fail(f"zen {' '.join(args)} did not return within {timeout} s in a terminal")
        code = process.wait(timeout=10)
    finally:
        os.close(controller)
    return code, _ANSI.sub("", b"".join(chunks).decode(errors="replace"))


def zen_piped(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TERM": "dumb", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [ZEN, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def script_project(tmp_path: Path) -> Path:
    for name, source in {"settings.py": SETTINGS, "helpers.py": HELPERS, "flow.py": FLOW}.items():
        (tmp_path / name).write_text(source)
    assert zen_piped(tmp_path, "init", ".").returncode == 0
    return tmp_path


def test_a_config_edit_reruns_the_step_in_a_terminal(script_project: Path) -> None:
    code, out = zen_in_terminal(script_project, "run", "flow.py:values_flow")
    assert code == 0 and "(2 completed)" in out, out
    code, out = zen_in_terminal(script_project, "run", "flow.py:values_flow")
    assert code == 0 and "(2 cached)" in out, out

    edit(script_project / "settings.py", '"a": 1.0', '"a": 2.0')
    plan = zen_piped(script_project, "plan", "flow.py:values_flow")
    assert plan.returncode == 0 and "settings.WEIGHTS changed" in plan.stdout, plan.stdout + plan.stderr
    code, out = zen_in_terminal(script_project, "run", "flow.py:values_flow")
    assert code == 0 and "(2 completed)" in out, out
    latest = Repository(script_project).runs()[0]
    assert latest.steps["compute"].output() == BEFORE + 1.0
    code, out = zen_in_terminal(script_project, "run", "flow.py:values_flow")
    assert code == 0 and "(2 cached)" in out, out


UNHASHABLE_FLOW = """\
from zenml import pipeline, step

LOG = open(__file__)  # an open file: nothing in it a cache key could hash


@step
def first() -> int:
    return len(LOG.name)


@step
def second() -> int:
    return len(LOG.name) + 1


@pipeline
def handle_flow() -> None:
    first()
    second()
"""


def test_a_step_reading_an_unhashable_value_runs_uncached_with_one_warning(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text(UNHASHABLE_FLOW)
    assert zen_piped(tmp_path, "init", ".").returncode == 0
    for _ in range(2):
        ran = zen_piped(tmp_path, "run", "flow.py:handle_flow", "-q")
        assert ran.returncode == 0, ran.stderr
        assert "(2 completed)" in ran.stdout, "never served from the cache"
        warnings = [line for line in ran.stderr.splitlines() if "runs without the cache" in line]
        assert len(warnings) == 1, ran.stderr
        assert "it reads flow.LOG, which holds a _io.TextIOWrapper that cannot be hashed" in warnings[0]
    plan = zen_piped(tmp_path, "plan", "flow.py:handle_flow")
    assert plan.stdout.count("cannot be cached: flow.LOG holds a _io.TextIOWrapper") == 2, plan.stdout
    assert "0 of 2" not in plan.stdout and "2 of 2 steps would run" in plan.stdout


IN_CODE_FLOW = """\
import dataclasses
import enum
import logging

from zenml import pipeline, step

logger = logging.getLogger(__name__)  # "__main__" in code, "in_code" from the shell


class Mode(enum.Enum):
    FAST = 1


@dataclasses.dataclass
class Config:
    scale: float = 2.0


CONFIG = Config()
MODE = Mode.FAST


@step
def configured() -> float:
    logger.info("scaling")
    return CONFIG.scale * MODE.value


@pipeline
def in_code() -> None:
    configured()


if __name__ == "__main__":
    print({name: step.status for name, step in in_code.run().steps.items()})
"""


def test_a_run_started_in_code_is_reused_by_the_same_pipeline_from_the_shell(tmp_path: Path) -> None:
    # ``python in_code.py`` runs the module as __main__; its values must be keyed as in_code's
    (tmp_path / "in_code.py").write_text(IN_CODE_FLOW)
    assert zen_piped(tmp_path, "init", ".").returncode == 0
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    in_code = subprocess.run(
        [sys.executable, "in_code.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert in_code.returncode == 0 and "{'configured': 'completed'}" in in_code.stdout, in_code.stderr
    shell = zen_piped(tmp_path, "run", "in_code.py:in_code", "-q")
    assert "(1 cached)" in shell.stdout, shell.stdout + shell.stderr
