"""Steps lost with their worker: exit statuses in words, and the record a lost step gets."""

from __future__ import annotations

import pytest

from zenml import pipeline, step
from zenml.backends.orchestrator.lost import exit_status, record_lost, worker_died
from zenml.engine import compile_pipeline
from zenml.repository import Repository


@pytest.mark.parametrize(
    ("exitcode", "words"),
    [
        (3, "exit code 3"),
        (0, "exit code 0"),
        (-9, "signal 9, SIGKILL: killed, e.g. by the out-of-memory killer"),
        (-11, "signal 11, SIGSEGV: a crash in native code"),
        (-1, "signal 1, SIGHUP"),
        (-200, "signal 200"),
        (None, "exit status unknown"),
    ],
)
def test_exit_status_in_words(exitcode: int | None, words: str) -> None:
    assert exit_status(exitcode) == words


@step
def first() -> int:
    return 1


@step
def second(x: int, scale: int = 2) -> int:
    return x * scale


@pipeline
def two() -> None:
    second(first(), scale=3)


def test_a_step_lost_before_it_began_gets_a_failed_record(repo: Repository) -> None:
    spec, _, _ = compile_pipeline(two, repository=repo)
    metadata = repo.stores().metadata
    metadata.create_run(
        run_id=spec.run_id, pipeline="two", spec_path="x.yaml", spec_sha256="0", orchestrator="dask",
        created_at=0.0, git=None,
    )  # fmt: skip
    error = record_lost(repo.stores(), spec, "second", worker_died("second", -9))
    assert str(error) == (
        "step 'second' failed: WorkerDied: the worker running step 'second' died "
        "(signal 9, SIGKILL: killed, e.g. by the out-of-memory killer)"
    )
    (row,) = metadata.step_runs(spec.run_id)
    assert (row.name, row.status, row.error_type, row.params) == ("second", "failed", "WorkerDied", {"scale": 3})
    assert row.ended_at is not None
    # a later loss of the same step (a resumed run) overwrites its row, never adds one
    record_lost(repo.stores(), spec, "second", worker_died("second", 3))
    (again,) = metadata.step_runs(spec.run_id)
    assert again.id == row.id and again.error_message == "the worker running step 'second' died (exit code 3)"
