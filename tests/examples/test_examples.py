"""The examples run as their READMEs and ``scripts/quickstart`` say."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from zenml.repository import Repository, close_stores

ROOT = Path(__file__).resolve().parents[2]
ZEN = str(Path(sys.executable).parent / "zen")


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=600, env=dict(os.environ), check=False)


def _copy(name: str, tmp_path: Path) -> Path:
    folder = tmp_path / name
    shutil.copytree(ROOT / "examples" / name, folder, ignore=shutil.ignore_patterns(".zen", "pipelines", "data"))
    assert _run(ZEN, "init", ".", cwd=folder).returncode == 0
    return folder


def test_function_steps_example(tmp_path: Path) -> None:
    folder = _copy("function_steps", tmp_path)
    ran = _run(ZEN, "run", "pipeline.py:function_steps", cwd=folder)
    assert ran.returncode == 0, ran.stderr
    assert "completed" in ran.stdout.strip().splitlines()[-1]
    try:
        (run,) = Repository(folder).runs(pipeline="function_steps")
        assert set(run.steps) == {"generate", "split", "fit", "evaluate"}
        assert run.metrics()["evaluate"]["mse"] < 0.05
        slope, _intercept = run.steps["fit"].outputs["output"].read()
        assert abs(slope - 2.5) < 0.1
    finally:
        close_stores()


@pytest.mark.tensorflow
@pytest.mark.timeout(900)
def test_quickstart_as_the_script_runs_it(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow", reason="the quickstart trains with TensorFlow")
    pytest.importorskip("sklearn", reason="the quickstart reads scikit-learn's bundled data")
    script = (ROOT / "scripts" / "quickstart").read_text()
    for command in ('"$ZEN" init .', "../../.venv/bin/python pipeline.py", '"$ZEN" runs list --pipeline quickstart'):
        assert command in script  # the steps below are the script's own
    folder = _copy("quickstart", tmp_path)
    ran = _run(sys.executable, "pipeline.py", cwd=folder)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert ran.stdout.startswith("completed")
    listed = _run(ZEN, "runs", "list", "--pipeline", "quickstart", "--limit", "3", cwd=folder)
    assert listed.returncode == 0 and "completed" in listed.stdout
    try:
        (run,) = Repository(folder).runs(pipeline="quickstart")
        metrics = run.metrics()["evaluator"]
        assert metrics["accuracy"] > 0.9 and metrics["auc"] > 0.95
        assert run.steps["trainer"].outputs["model"].read().meta["framework"] == "tensorflow"
    finally:
        close_stores()
