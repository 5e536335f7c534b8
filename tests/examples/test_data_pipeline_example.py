"""The data-pipeline example runs as its README says, on the local and the Beam backend."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "data_pipeline"
ZEN = str(Path(sys.executable).parent / "zen")


def run(cwd: Path, *command: str) -> str:
    result = subprocess.run(list(command), cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_data_pipeline_example_runs_locally_and_on_beam(tmp_path: Path) -> None:
    pytest.importorskip("apache_beam", reason="the Beam half needs the beam extra")
    work = tmp_path / "data_pipeline"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns(".zen", "pipelines", "data"))
    run(work, ZEN, "init", ".")
    out = run(work, sys.executable, "pipeline.py")
    assert out.startswith("completed")
    assert "'train':" in out and "'eval':" in out and "'test':" in out
    beam = run(work, ZEN, "run", "pipeline.py:patients", "--processing", "beam")
    assert "completed" in beam
    from zenml.repository import Repository

    local_run, beam_run = reversed(Repository(work).runs(pipeline="patients"))
    for split in ("train", "eval", "test"):
        local = local_run.steps["preprocessor"].outputs["data"].read().to_pandas(split)
        on_beam = beam_run.steps["preprocessor"].outputs["data"].read().to_pandas(split)
        columns = list(local.columns)
        local = local.sort_values(columns).reset_index(drop=True)
        on_beam = on_beam.sort_values(columns).reset_index(drop=True)
        assert len(local) == len(on_beam)
        assert ((local - on_beam).abs().to_numpy() < 1e-9).all()
