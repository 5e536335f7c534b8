"""The quickstart example runs as ``scripts/quickstart`` runs it: ``zen init`` then ``zen run`` in its folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from zenml.repository import Repository

ROOT = Path(__file__).resolve().parents[2]
ZEN = str(Path(sys.executable).parent / "zen")


def _zen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ZEN, *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
        check=False,
    )


def test_quickstart_as_the_script_runs_it(tmp_path: Path) -> None:
    script = (ROOT / "scripts" / "quickstart").read_text()
    for command in ('"$ZEN" init .', '"$ZEN" run pipeline.py:quickstart', '"$ZEN" runs list --pipeline quickstart'):
        assert command in script  # the steps below are the script's own
    folder = tmp_path / "quickstart"
    shutil.copytree(ROOT / "examples" / "quickstart", folder, ignore=shutil.ignore_patterns(".zen", "pipelines"))
    assert _zen("init", ".", cwd=folder).returncode == 0
    ran = _zen("run", "pipeline.py:quickstart", cwd=folder)
    assert ran.returncode == 0, ran.stderr
    assert "completed" in ran.stdout.strip().splitlines()[-1]
    listed = _zen("runs", "list", "--pipeline", "quickstart", "--limit", "3", cwd=folder)
    assert listed.returncode == 0
    assert "quickstart" in listed.stdout and "completed" in listed.stdout

    repository = Repository(folder)
    try:
        (run,) = repository.runs(pipeline="quickstart")
        assert run.status == "completed"
        assert set(run.steps) == {"generate", "split", "fit", "evaluate"}
        assert all(step.status == "completed" for step in run.steps.values())
        assert run.metrics()["evaluate"]["mse"] < 0.05
        slope, _intercept = run.steps["fit"].outputs["output"].read()
        assert abs(slope - 2.5) < 0.1
    finally:
        for stores in repository._stores.values():
            stores.metadata.close()
