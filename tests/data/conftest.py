"""Data-step fixtures: the shared ``processing`` backend parameter, module-wide repositories, ``zen`` in-process."""

from __future__ import annotations

import importlib
import os
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from data_helpers import BACKENDS, backend_param

from zenml.backends.processing.base import BaseProcessingBackend

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(params=[backend_param(name) for name in BACKENDS])
def processing(request: pytest.FixtureRequest) -> BaseProcessingBackend:
    """Each processing backend in turn: in-process, two worker processes, Beam's DirectRunner, Spark local[2]."""
    return BACKENDS[request.param]()


@pytest.fixture(scope="module")
def module_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One repository (the working directory) shared by a test module, so its tests can reuse runs.

    It clears the developer's ``ZEN_*`` settings itself: the root conftest's autouse fixture is
    function-scoped, so it starts only after module-scoped fixtures.
    """
    from zenml.repository import Repository

    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("ZEN_") and not name.startswith("ZEN_TEST_"):
                patch.delenv(name)
        root = tmp_path_factory.mktemp("data-repo")
        patch.chdir(root)
        repository = Repository.init(root)
        yield repository
        repository.close()


@pytest.fixture
def zen(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., tuple]]:
    """Run ``zen ARGS`` in-process; return ``(exit code, stdout, stderr)`` without colour codes.

    ``zen run file.py:x`` puts the working directory on ``sys.path`` and imports the module: both
    are undone afterwards.
    """
    from zenml.cli import output
    from zenml.cli.app import main

    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(output.console, "width", 250)  # wide tables: ids and hashes are never folded
    monkeypatch.setattr(output.err_console, "width", 250)
    before = set(sys.modules)

    def invoke(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return code, _ANSI.sub("", captured.out), _ANSI.sub("", captured.err)

    yield invoke
    for name in set(sys.modules) - before:
        if name.startswith("data_flow_"):
            del sys.modules[name]


@pytest.fixture
def flow_file() -> Callable[[str], str]:
    """Write pipeline source as a uniquely named ``data_flow_*.py`` in the working directory; return its name."""

    def write(source: str) -> str:
        module = f"data_flow_{uuid.uuid4().hex[:10]}"
        Path(f"{module}.py").write_text(source)
        importlib.invalidate_caches()
        return f"{module}.py"

    return write
