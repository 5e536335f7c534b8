"""The ``testing`` extra: what ``zenml.testing``'s pytest helpers need, and the message without it."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]

WITHOUT_PYTEST = """
import sys
sys.modules["pytest"] = None  # as in an environment without pytest: importing it raises ImportError
from zenml.exceptions import ConfigError
from zenml.testing import parametrize_with_checks
try:
    parametrize_with_checks([])
except ConfigError as exc:
    print(exc)
"""


def test_the_testing_extra_installs_pytest() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert [Requirement(line).name for line in extras["testing"]] == ["pytest"]


def test_without_pytest_the_helper_names_the_extra() -> None:
    result = subprocess.run([sys.executable, "-c", WITHOUT_PYTEST], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "parametrize_with_checks needs pytest: pip install 'zenml[testing]'"
