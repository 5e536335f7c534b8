"""``ParallelOrchestrator``: independent steps overlap in worker processes; failures stop the run."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zenml import pipeline, step
from zenml.backends.orchestrator.parallel import ParallelOrchestrator
from zenml.engine import run_pipeline
from zenml.exceptions import ConfigError, StepError
from zenml.repository import Repository
from zenml.runtime import StepOutcome, Stores


@step
def origin() -> int:
    return 2


@step
def nap(x: int, seconds: float = 1.0) -> int:
    time.sleep(seconds)
    return x


@step
def combine(a: int, b: int) -> int:
    return a * b


@step
def fail(x: int) -> int:
    raise ValueError(f"bad value {x}")


@pipeline
def two_naps() -> None:
    value = origin()
    combine(a=nap.configure(name="nap_a")(value), b=nap.configure(name="nap_b")(value, seconds=1.2))


@pipeline
def fail_beside_a_nap() -> None:
    value = origin()
    combine(a=fail(value), b=nap(value, seconds=1.0))


class Recorder:
    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[tuple[str, str]] = []

    def step_started(self, name: str) -> None:
        self.started.append(name)

    def step_finished(self, outcome: StepOutcome) -> None:
        self.finished.append((outcome.name, outcome.status))


@pytest.mark.timeout(120)
def test_independent_steps_overlap_and_events_reach_the_parent(repo: Repository) -> None:
    recorder = Recorder()
    run = run_pipeline(two_naps, orchestrator="parallel", repository=repo, listener=recorder)
    assert run.status == "completed"
    assert run.steps["combine"].output() == 4
    records = {r.name: r for r in repo.stores().metadata.step_runs(run.id)}
    a, b = records["nap_a"], records["nap_b"]
    assert a.started_at is not None and b.started_at is not None and a.ended_at and b.ended_at
    assert a.started_at < b.ended_at and b.started_at < a.ended_at, "independent steps did not overlap"
    assert recorder.started[0] == "origin" and recorder.started[-1] == "combine"
    assert sorted(recorder.finished) == sorted((name, "completed") for name in records)
    assert run.spec.backends.orchestrator.name == "parallel"


@pytest.mark.timeout(120)
def test_first_failure_lets_running_steps_finish_and_submits_nothing_new(repo: Repository) -> None:
    recorder = Recorder()
    with pytest.raises(StepError, match=r"step 'fail' failed: ValueError: bad value 2") as caught:
        run_pipeline(
            fail_beside_a_nap, orchestrator=ParallelOrchestrator(workers=2), repository=repo, listener=recorder
        )
    statuses = {s.name: s.status for s in repo.stores().metadata.step_runs(caught.value.run_id)}  # type: ignore[attr-defined]
    assert statuses == {"origin": "completed", "fail": "failed", "nap": "completed"}
    assert "combine" not in recorder.started
    assert ("fail", "failed") in recorder.finished
    assert repo.run(caught.value.run_id).status == "failed"  # type: ignore[attr-defined]


def test_step_error_survives_pickling() -> None:
    error = StepError("train", "ValueError", "boom")
    error.run_id = "r1"  # type: ignore[attr-defined]
    twin = pickle.loads(pickle.dumps(error))
    assert (twin.step, twin.error_type, twin.error_message, twin.run_id) == ("train", "ValueError", "boom", "r1")
    assert str(twin) == str(error)


def test_stores_without_a_recipe_are_refused(repo: Repository) -> None:
    stores = repo.stores()
    handmade = Stores(metadata=stores.metadata, artifacts=stores.artifacts, project_root=stores.project_root)
    from zenml.engine import compile_pipeline

    spec, _, _ = compile_pipeline(two_naps, repository=repo)
    with pytest.raises(ConfigError, match="needs stores opened from a stack"):
        ParallelOrchestrator().run(spec, handmade)


def test_workers_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="workers >= 1"):
        ParallelOrchestrator(workers=0)
    assert ParallelOrchestrator(workers=3).to_config() == {
        "type": "zenml.backends.orchestrator.parallel.ParallelOrchestrator",
        "params": {"workers": 3},
    }


# -- workers that die, exit or ignore their timeout: only their own step fails -------------------------


@step
def dies(x: int, how: str = "exit") -> int:
    if how == "exit":
        os._exit(3)
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.exit(4)


@step
def deaf(x: int, seconds: float = 30.0) -> int:
    """Sleeps with SIGALRM blocked, as C code that masks signals does: the in-process timeout cannot fire."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    time.sleep(seconds)
    return x


@pipeline
def dies_beside_a_nap() -> None:
    value = origin()
    combine(a=dies(value), b=nap(value, seconds=1.5))
    nap.configure(name="after_nap")(nap.configure(name="first_nap")(value, seconds=0.1))


@pipeline
def deaf_beside_a_nap() -> None:
    value = origin()
    combine(a=deaf.configure(timeout=1.0)(value), b=nap(value, seconds=0.5))


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("exit", "the worker running step 'dies' died (exit code 3)"),
        ("kill", "the worker running step 'dies' died (signal 9, SIGKILL: killed, e.g. by the out-of-memory killer)"),
    ],
)
def test_a_dead_worker_fails_only_its_own_step(repo: Repository, how: str, message: str) -> None:
    # today one death breaks the whole pool: the nap running beside it is killed too and stays 'running'
    with pytest.raises(StepError, match=r"step 'dies' failed: WorkerDied: ") as caught:
        run_pipeline(
            dies_beside_a_nap,
            orchestrator=ParallelOrchestrator(workers=2),
            repository=repo,
            params={"dies": {"how": how}},
            enable_cache=False,
            failure_policy="continue",
        )
    assert caught.value.error_message == message
    records = {r.name: r for r in repo.stores().metadata.step_runs(caught.value.run_id)}  # type: ignore[attr-defined]
    statuses = {name: record.status for name, record in records.items()}
    assert statuses == {
        "origin": "completed",
        "dies": "failed",
        "nap": "completed",
        "first_nap": "completed",
        "after_nap": "completed",
    }
    assert (records["dies"].error_type, records["dies"].error_message) == ("WorkerDied", message)


@pytest.mark.timeout(120)
def test_sys_exit_in_a_step_is_that_steps_failure(repo: Repository) -> None:
    # today the SystemExit travels back from the pool and ends the orchestrating process
    with pytest.raises(StepError, match=r"step 'dies' failed: SystemExit") as caught:
        run_pipeline(dies_beside_a_nap, orchestrator="parallel", repository=repo, params={"dies": {"how": "sys.exit"}})
    statuses = {r.name: r.status for r in repo.stores().metadata.step_runs(caught.value.run_id)}  # type: ignore[attr-defined]
    assert statuses["dies"] == "failed" and "combine" not in statuses


@pytest.mark.timeout(120)
def test_a_step_that_masks_its_timeout_is_stopped_with_its_worker(repo: Repository) -> None:
    began = time.monotonic()
    with pytest.raises(StepError, match=r"step 'deaf' timed out: StepTimeout: .*without returning to Python") as caught:
        run_pipeline(deaf_beside_a_nap, orchestrator=ParallelOrchestrator(workers=2), repository=repo)
    assert time.monotonic() - began < 20, "the step ran on past its timeout"
    statuses = {r.name: r.status for r in repo.stores().metadata.step_runs(caught.value.run_id)}  # type: ignore[attr-defined]
    assert statuses == {"origin": "completed", "deaf": "timed_out", "nap": "completed"}


UNGUARDED = """
import threading
import time

from zenml import pipeline, step
from zenml.backends.orchestrator import fork_server


@step
def hello() -> int:
    return 1


@pipeline
def p() -> None:
    hello()


if THREAD:  # another thread: the workers' fork server is multiprocessing's own, a fresh interpreter
    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
p.run(orchestrator="parallel")  # no __main__ guard
print(fork_server.running())
"""


@pytest.mark.timeout(120)
def test_a_script_without_a_main_guard_is_told_to_add_one(repo: Repository, tmp_path: Path) -> None:
    # multiprocessing's own fork server imports the main module in each worker, which runs the script again
    (tmp_path / "unguarded.py").write_text("THREAD = True\n" + UNGUARDED)
    done = subprocess.run(  # noqa: S603
        [sys.executable, "unguarded.py"], cwd=tmp_path, capture_output=True, text=True, timeout=100
    )
    assert done.returncode != 0
    assert "step 'hello' failed: WorkerDied: the worker running step 'hello' died (exit code 1) before it could" in (
        done.stderr
    )
    assert 'guard it with `if __name__ == "__main__":`' in done.stderr


@pytest.mark.timeout(120)
def test_a_single_threaded_script_without_a_main_guard_runs(repo: Repository, tmp_path: Path) -> None:
    # its workers are forks of a copy of the script's own process, which already ran the top level
    (tmp_path / "unguarded.py").write_text("THREAD = False\n" + UNGUARDED)
    done = subprocess.run(  # noqa: S603
        [sys.executable, "unguarded.py"], cwd=tmp_path, capture_output=True, text=True, timeout=100
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["forked"]


@step
def read_env() -> str:
    return os.environ.get("ZENML_TEST_POOL_ENV", "<unset>")


@pipeline
def env_reader() -> None:
    read_env()


@pytest.mark.timeout(120)
def test_workers_see_the_environment_of_the_moment_the_pool_starts(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the fork server outlives a run: its forks still take the orchestrating process's environment, as spawned ones do
    def value() -> object:
        run = run_pipeline(env_reader, orchestrator="parallel", repository=repo, enable_cache=False)
        return run.steps["read_env"].output()

    monkeypatch.setenv("ZENML_TEST_POOL_ENV", "first")
    assert value() == "first"
    monkeypatch.setenv("ZENML_TEST_POOL_ENV", "second")
    assert value() == "second"
    monkeypatch.delenv("ZENML_TEST_POOL_ENV")
    assert value() == "<unset>"


def test_workers_are_spawned_where_there_is_no_fork_server(monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    from zenml.backends.orchestrator import pool

    assert pool.pool_context().get_start_method() in multiprocessing.get_all_start_methods()
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert pool.pool_context().get_start_method() == "spawn"
