"""A cache hit is taken only from intact artifacts: missing, truncated or edited outputs make the step run again."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from zenml import pipeline, step
from zenml.exceptions import StepError
from zenml.history.runs import ArtifactView, PipelineRun
from zenml.repository import Repository
from zenml.runtime import reuse

ZEN = str(Path(sys.executable).parent / "zen")

FLOW = '''
import numpy as np

from zenml import pipeline, step


@step
def make(n: int = 1000) -> np.ndarray:
    return np.arange(n, dtype=np.int64)


@step
def total(x: np.ndarray) -> int:
    return int(x.sum())


@pipeline
def flow() -> None:
    total(make())
'''


def zen(cwd: Path, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([ZEN, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == expect, result.stderr + result.stdout
    return result


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "flow_reuse.py").write_text(FLOW)
    zen(tmp_path, "init", ".")
    return tmp_path


def _latest(project: Path) -> PipelineRun:
    return Repository(project).runs()[0]


def _data_file(artifact: ArtifactView) -> Path:
    [data] = [p for p in Path(artifact.uri).rglob("*") if p.is_file() and p.name != ".zenml-artifact.json"]
    return data


def _statuses(run: PipelineRun) -> dict[str, str]:
    return {name: s.status for name, s in run.steps.items()}


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "not using the cached output" in line]


def _flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))  # an edit in place: same size, different content


def _truncate(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


def _delete(path: Path) -> None:
    for item in sorted(path.parent.iterdir(), reverse=True):
        item.unlink()
    path.parent.rmdir()


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (_flip_last_byte, "it is changed on disk (its content hash differs from the recorded one)"),
        (_truncate, "bytes on disk but 8128 recorded (truncated, extended or partly deleted)"),
        (_delete, "it is missing (no published folder with a manifest)"),
    ],
)
def test_a_damaged_cached_output_is_not_a_hit_the_step_runs_again(project: Path, damage, why: str) -> None:  # noqa: ANN001
    zen(project, "run", "flow_reuse.py:flow", "-q")
    first = _latest(project)
    artifact = first.steps["make"].outputs["output"]
    damage(_data_file(artifact))

    again = zen(project, "run", "flow_reuse.py:flow", "-q")
    rerun = _latest(project)
    assert _statuses(rerun) == {"make": "completed", "total": "cached"}  # same content again: total is a hit
    new = rerun.steps["make"].outputs["output"]
    assert new.id != artifact.id and np.array_equal(new.read(), np.arange(1000))
    assert rerun.steps["total"].output() == sum(range(1000))
    [warning] = _warnings(again.stderr)  # logged once, naming the step and the artifact
    assert warning.startswith("step 'make': not using the cached output 'output' of run " + first.id)
    assert f"(artifact #{artifact.id} at {artifact.uri})" in warning and why in warning
    assert warning.endswith("running the step again")

    third = zen(project, "run", "flow_reuse.py:flow", "-q")
    assert _statuses(_latest(project)) == {"make": "cached", "total": "cached"}  # the new output serves the cache
    assert _warnings(third.stderr) == []


def test_zen_plan_and_doctor_name_the_damaged_cached_output(project: Path) -> None:
    zen(project, "run", "flow_reuse.py:flow", "-q")
    first = _latest(project)
    _flip_last_byte(_data_file(first.steps["make"].outputs["output"]))
    doctor = zen(project, "doctor", expect=1)
    assert "corrupt_artifact" in doctor.stdout or "does not match its recorded content hash" in doctor.stdout
    planned = " ".join(zen(project, "plan", "flow_reuse.py:flow").stdout.split())
    assert f"make │ run │ the output 'output' cached by run {first.id} is changed on disk" in planned


# -- in-process: large artifacts, retries, object stores ---------------------------------------------


@step
def make_array(n: int = 4096) -> np.ndarray:
    return np.arange(n, dtype=np.int64)


@step
def add_up(x: np.ndarray) -> int:
    return int(x.sum())


@pipeline
def array_flow() -> None:
    add_up(make_array())


@step
def summed(x: np.ndarray, offset: int = 0) -> int:
    return int(x.sum()) + offset


@pipeline
def consumer_flow() -> None:
    summed(make_array())


def test_a_large_output_edited_in_place_is_found_by_its_modification_time(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reuse, "HASH_ON_HIT_LOCAL_BYTES", 0)  # every artifact counts as large: no hash on a hit
    first = array_flow.run()
    data = _data_file(first.steps["make_array"].outputs["output"])
    _flip_last_byte(data)  # newer than the artifact's manifest
    assert _statuses(array_flow.run()) == {"make_array": "completed", "add_up": "cached"}


def test_a_large_output_corrupted_without_a_trace_fails_its_reader_never_serves_bad_data(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = reuse.HASH_ON_HIT_LOCAL_BYTES
    monkeypatch.setattr(reuse, "HASH_ON_HIT_LOCAL_BYTES", 0)
    first = array_flow.run()
    data = _data_file(first.steps["make_array"].outputs["output"])
    published = data.stat()
    _flip_last_byte(data)
    os.utime(data, ns=(published.st_atime_ns, published.st_mtime_ns))  # as bit rot would: no new mtime
    # not re-hashed on the hit (the documented trade-off); the step reading it checks the hash and fails
    with pytest.raises(StepError, match=r"input 'x' of step 'summed' .* does not match its recorded content hash"):
        consumer_flow.run()
    monkeypatch.setattr(reuse, "HASH_ON_HIT_LOCAL_BYTES", limit)
    assert _statuses(consumer_flow.run()) == {"make_array": "completed", "summed": "completed"}  # small: hashed


@step
def flaky_make(flag: str = "") -> np.ndarray:
    if Path(flag).is_file():
        Path(flag).unlink()
        raise RuntimeError("the first attempt fails")
    return np.arange(8, dtype=np.int64)


@pipeline
def retried() -> None:
    add_up(flaky_make.configure(retries=1)())


def test_the_damage_is_logged_once_across_retries(repo: Repository, tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    flag = tmp_path / "fail-once"
    params = {"flaky_make": {"flag": str(flag)}}
    first = retried.run(params=params)
    _truncate(_data_file(first.steps["flaky_make"].outputs["output"]))
    flag.touch()
    with caplog.at_level(logging.WARNING, logger="zenml"):
        second = retried.run(params=params)
    assert _statuses(second) == {"flaky_make": "completed", "add_up": "cached"}
    damaged = [r.getMessage() for r in caplog.records if "not using the cached output" in r.getMessage()]
    assert len(damaged) == 1 and damaged[0].startswith("step 'flaky_make'"), damaged


def test_an_object_store_output_truncated_or_edited_is_not_a_hit(repo: Repository) -> None:
    import fsspec

    bucket = f"memory://reuse-{os.getpid()}-{id(repo)}"
    repo.register_stack("mem", artifact_store=bucket)
    first = array_flow.run(stack="mem")
    fs = fsspec.filesystem("memory")
    uri = first.steps["make_array"].outputs["output"].uri
    [path] = [p for p in fs.find(uri) if not p.endswith(".zenml-artifact.json")]
    data = bytearray(fs.cat_file(path))
    data[-1] ^= 0xFF
    fs.pipe_file(path, bytes(data))  # small: re-hashed on the hit even on an object store
    second = array_flow.run(stack="mem")
    assert _statuses(second) == {"make_array": "completed", "add_up": "cached"}
    uri = second.steps["make_array"].outputs["output"].uri
    [path] = [p for p in fs.find(uri) if not p.endswith(".zenml-artifact.json")]
    fs.pipe_file(path, fs.cat_file(path)[:-8])  # truncated: the listing's sizes tell
    assert _statuses(array_flow.run(stack="mem")) == {"make_array": "completed", "add_up": "cached"}
