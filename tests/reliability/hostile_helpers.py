"""Helpers of the hostile-input suites: ``zen`` in-process, a project with a stored spec, marker modules.

A *marker module* lives outside the project, on ``sys.path``; importing it writes a file. Tests
hand its dotted path to zenml wherever a file may name a type and assert the file never appears.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import re
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

#: A project's pipeline module: a class step, a function step and a pipeline using both.
FLOW_SOURCE = '''\
"""A small pipeline for the hostile-input tests."""

from __future__ import annotations

from zenml import BaseStep, pipeline, step


class Scale(BaseStep):
    """Multiply the input by ``factor``."""

    def __init__(self, factor: float = 1.0):
        self.factor = factor

    def process(self, x: float) -> float:
        return x * self.factor


@step
def load() -> float:
    return 3.0


@pipeline
def scaled() -> None:
    Scale(factor=2.0)(x=load())
'''

MARKER_SOURCE = '''\
"""Importing this module leaves a file behind: proof that zenml imported it."""

from pathlib import Path

Path({flag!r}).write_text("imported")

from zenml.steps import BaseStep


class Evil(BaseStep):
    """A real step class, but outside the project: its module must never be imported."""

    def process(self) -> int:
        Path({flag!r}).write_text("called")
        return 1
'''


@dataclass(frozen=True)
class Result:
    """What one ``zen`` invocation returned and printed (colour codes removed)."""

    code: int
    out: str
    err: str

    @property
    def error_lines(self) -> list[str]:
        """Lines of stderr that start with ``Error:``."""
        return [line for line in self.err.splitlines() if line.startswith("Error:")]


def zen(*args: str) -> Result:
    """Run ``zen ARGS`` in this process, capturing what it prints."""
    from zenml.cli.app import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return Result(code, _ANSI.sub("", out.getvalue()), _ANSI.sub("", err.getvalue()))


def assert_refused(result: Result, *fragments: str, code: int = 2) -> str:
    """Exit ``code``, one ``Error:`` line holding every fragment and no traceback; return that line."""
    assert result.code == code, (result.out, result.err)
    assert len(result.error_lines) == 1, result.err
    assert "Traceback" not in result.err + result.out
    line = result.error_lines[0]
    for fragment in fragments:
        assert fragment in line, line
    return line


@dataclass(frozen=True)
class Project:
    """A repository with the flow module in it and the spec of one completed run."""

    root: Path
    module: str
    spec: Path

    def spec_data(self) -> dict[str, object]:
        """The stored spec, parsed."""
        data = yaml.safe_load(self.spec.read_text())
        assert isinstance(data, dict)
        return data

    def write_spec(self, data: dict[str, object], name: str = "edited.yaml") -> Path:
        """Write an edited spec next to the project's files."""
        path = self.root / name
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path


def make_project(root: Path) -> Project:
    """``zen init`` in ``root`` (which must be the working directory), write the flow module, run it once."""
    from zenml.repository import Repository, close_stores

    assert Path.cwd().resolve() == root.resolve()
    repository = Repository.init(root)
    module = f"hostile_flow_{uuid.uuid4().hex[:10]}"
    (root / f"{module}.py").write_text(FLOW_SOURCE)
    importlib.invalidate_caches()
    from zenml.engine import run_pipeline
    from zenml.utils.importing import load_target

    run = run_pipeline(load_target(f"{module}.py:scaled"), repository=repository)
    assert run.status == "completed"
    spec = root / run.record.spec_path
    close_stores()
    return Project(root, module, spec)


@dataclass(frozen=True)
class Marker:
    """A module outside the project whose import writes ``flag``."""

    module: str
    flag: Path

    def imported(self) -> bool:
        """Whether anything imported the module (or called its step)."""
        return self.flag.exists() or self.module in sys.modules


def make_marker(folder: Path) -> Marker:
    """Write a marker module into ``folder`` (which the caller puts on ``sys.path``)."""
    folder.mkdir(parents=True, exist_ok=True)
    module = f"zen_marker_{uuid.uuid4().hex[:10]}"
    flag = folder / f"{module}.imported"
    (folder / f"{module}.py").write_text(MARKER_SOURCE.format(flag=str(flag)))
    importlib.invalidate_caches()
    return Marker(module, flag)


@contextlib.contextmanager
def isolated_imports(*folders: Path) -> Iterator[None]:
    """Restore ``sys.path`` afterwards and forget every module imported from ``folders``."""
    saved = list(sys.path)
    try:
        yield
    finally:
        sys.path[:] = saved
        roots = [folder.resolve() for folder in folders]
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if file and any(Path(file).resolve().is_relative_to(root) for root in roots):
                del sys.modules[name]
