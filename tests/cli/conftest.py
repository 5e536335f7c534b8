"""CLI fixtures: ``zen`` run in-process, the test pipelines in a fresh repository, isolated imports."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_helpers import Flow, Result, write_flow

from zenml.cli import output
from zenml.cli.app import main

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(autouse=True)
def isolated_imports(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Undo the ``sys.path`` entries the CLI adds and forget the modules it imported from this test's folder."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield
    root = tmp_path.resolve()
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and Path(file).resolve().is_relative_to(root):
            del sys.modules[name]


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables never fold ids, whatever terminal ``pytest`` itself was started from."""
    monkeypatch.setattr(output.console, "width", 200)
    monkeypatch.setattr(output.err_console, "width", 200)


@pytest.fixture
def zen(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``zen ARGS`` in-process; return its exit code and what it printed (colour codes removed)."""

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, _ANSI.sub("", captured.out), _ANSI.sub("", captured.err))

    return invoke


@pytest.fixture
def flow(repo: object, tmp_path: Path) -> Flow:
    """The test pipelines as ``flow_<unique>.py`` at the root of a fresh repository (the working directory)."""
    return write_flow(tmp_path)
