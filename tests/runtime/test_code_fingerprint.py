"""Editing the code a step uses — its own or a project helper, transitively — makes it miss the cache."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ZEN = str(Path(sys.executable).parent / "zen")

HELPERS = '''
import deeper


def normalize(x: float) -> float:
    return deeper.scale(x) + {offset}
'''

DEEPER = '''
def scale(x: float) -> float:
    return x * {factor}
'''

FLOW = '''
from helpers import normalize

from zenml import pipeline, step


@step
def source() -> float:
    return 2.0


@step
def transform(x: float) -> float:
    return normalize(x)


@pipeline
def helper_flow() -> None:
    transform(source())
'''


def zen(cwd: Path, *args: str) -> str:
    result = subprocess.run([ZEN, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "helpers.py").write_text(HELPERS.format(offset=1))
    (tmp_path / "deeper.py").write_text(DEEPER.format(factor=10))
    (tmp_path / "flow_helpers.py").write_text(FLOW)
    zen(tmp_path, "init", ".")
    return tmp_path


def test_unchanged_code_is_cached(project: Path) -> None:
    zen(project, "run", "flow_helpers.py:helper_flow")
    second = zen(project, "run", "flow_helpers.py:helper_flow")
    assert "2 cached" in second


def test_editing_a_helper_function_misses_and_plan_names_it(project: Path) -> None:
    zen(project, "run", "flow_helpers.py:helper_flow")
    (project / "helpers.py").write_text(HELPERS.format(offset=2))
    plan = zen(project, "plan", "flow_helpers.py:helper_flow")
    assert "code of helpers:normalize changed" in plan
    assert "source" in plan and "cached" in plan
    out = zen(project, "run", "flow_helpers.py:helper_flow")
    assert "1 cached, 1 completed" in out or "1 completed" in out


def test_editing_a_module_used_transitively_misses(project: Path) -> None:
    zen(project, "run", "flow_helpers.py:helper_flow")
    (project / "deeper.py").write_text(DEEPER.format(factor=100))
    plan = zen(project, "plan", "flow_helpers.py:helper_flow")
    assert "code of deeper changed" in plan
    zen(project, "run", "flow_helpers.py:helper_flow")
    show = zen(project, "runs", "list", "-n", "1")
    assert "completed" in show


def test_fingerprint_leaves_out_installed_packages_and_zenml() -> None:
    from zenml.runtime.codehash import step_fingerprint
    from zenml.steps import step

    @step
    def uses_numpy(x: float) -> float:
        import numpy

        return float(numpy.sqrt(x))

    prints = step_fingerprint(uses_numpy, Path(__file__).parent)
    assert prints.values == {}
    qualname = "test_fingerprint_leaves_out_installed_packages_and_zenml.<locals>.uses_numpy"
    assert list(prints.code) == [f"{__name__}:{qualname}"]
