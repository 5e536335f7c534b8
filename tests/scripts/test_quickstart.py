"""README's first command on a fresh machine: a clone of this repository runs ``bash scripts/quickstart``.

The clone (of the committed HEAD) gets its own virtual environment from the script, with only what
the script installs, so an extra the quickstart needs and the script forgets fails here even though
the test environment has every extra. pip's cache and the machine's wheel folders keep the install
to about a minute on a machine that has installed TensorFlow before.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
#: framework start-up output that the quiet default keeps off the terminal
NOISE = re.compile(r"absl::InitializeLog|^[IEW]\d{4} |oneDNN|cudart_stub|cpu_feature_guard|cuInit", re.MULTILINE)


def _fresh_environment() -> dict[str, str]:
    """The user's shell: no test venv on PATH or activated, no zenml or Python settings of the tests."""
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(part for part in os.environ.get("PATH", "").split(os.pathsep) if part != venv_bin)
    drop = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTEST_CURRENT_TEST")
    return {
        **{name: value for name, value in os.environ.items() if name not in drop and not name.startswith("ZEN_")},
        "PATH": path,
    }


def _clone_head(destination: Path) -> Path:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout of the repository")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(destination)], check=True)
    subprocess.run(["git", "checkout", "--quiet", "--detach", head.stdout.strip()], cwd=destination, check=True)
    return destination


def test_the_script_installs_what_the_quickstart_example_needs() -> None:
    needs = yaml.safe_load((ROOT / "examples" / "quickstart" / "example.yaml").read_text())["needs"]
    installs = re.search(r'pip install .*-e "\.\[([\w,]+)\]"', (ROOT / "scripts" / "quickstart").read_text())
    assert installs is not None, "scripts/quickstart installs zenml with extras"
    assert sorted(installs[1].split(",")) == sorted(needs)


@pytest.fixture
def clone(tmp_path: Path) -> Iterator[Path]:
    """A clone of HEAD; its venv (TensorFlow: about 2.5 GB) is removed afterwards, not left in pytest's tmp."""
    folder = _clone_head(tmp_path / "zenml")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_quickstart_runs_in_a_fresh_clone_with_its_own_venv(clone: Path) -> None:
    result = subprocess.run(
        ["bash", "scripts/quickstart"],
        cwd=clone,
        env=_fresh_environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=1400,
        check=False,
    )
    shown = result.stdout + result.stderr
    assert result.returncode == 0, shown[-4000:]
    assert re.search(r"^completed accuracy=0\.9\d+ auc=0\.9\d+ f1=", result.stdout, re.MULTILINE), shown[-4000:]
    assert re.search(r"│ quickstart +│ completed +│", result.stdout), "the run list shows the recorded run"
    assert not NOISE.search(shown), f"framework start-up noise in the quickstart's output:\n{shown[-4000:]}"
    venv_python = clone / ".venv" / "bin" / "python"
    assert venv_python.is_file(), "the script made the clone its own .venv"
    installed = subprocess.run(
        [str(venv_python), "-c", "import zenml, torch"], capture_output=True, text=True, check=False
    )
    assert installed.returncode != 0 and "torch" in installed.stderr, "only the quickstart's extras"
