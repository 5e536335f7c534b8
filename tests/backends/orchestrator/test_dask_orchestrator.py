"""``DaskOrchestrator``: steps as Dask tasks, on a LocalCluster or an existing scheduler."""

from __future__ import annotations

import ctypes
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from zenml import pipeline, step
from zenml.backends.orchestrator.dask import DaskOrchestrator
from zenml.engine import run_pipeline
from zenml.exceptions import BackendError, ConfigError, StepError
from zenml.repository import Repository
from zenml.runtime.stores import StoresRecipe

pytestmark = pytest.mark.dask
pytest.importorskip("dask.distributed")

DASK = str(Path(sys.executable).parent / "dask")


@step
def start() -> int:
    return 5


@step
def double(x: int) -> int:
    return 2 * x


@step
def pid_of(x: int) -> int:
    return os.getpid()


@step
def summed(a: int, b: int) -> list[int]:
    return [a, b]


@pipeline
def doubled() -> None:
    value = start()
    summed(a=double(value), b=double.configure(name="double_again")(value))


@pipeline
def where() -> None:
    value = start()
    summed(a=pid_of(value), b=pid_of.configure(name="pid_again")(value))


@step
def four_pids(a: int, b: int, c: int, d: int) -> list[int]:
    return [a, b, c, d]


@pipeline
def fan_of_pids() -> None:
    value = start()
    four_pids(*(pid_of.configure(name=f"pid_{index}")(value) for index in range(4)))


@step
def worker_profiling(x: int) -> bool:
    import dask

    return bool(dask.config.get("distributed.worker.profile.enabled"))


@pipeline
def profiling() -> None:
    worker_profiling(start())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.timeout(120)
def test_local_cluster_runs_a_pipeline_in_worker_processes(repo: Repository) -> None:
    run = run_pipeline(where, orchestrator=DaskOrchestrator(n_workers=2), repository=repo)
    assert run.status == "completed"
    pids = run.steps["summed"].output()
    assert os.getpid() not in pids
    assert run.spec.backends.orchestrator.name == "dask"


@pytest.mark.timeout(120)
def test_local_workers_do_not_sample_profiles_nobody_can_see(repo: Repository) -> None:
    # the local cluster has no dashboard; the sampling cost CPU-bound steps 2 % of their wall time
    run = run_pipeline(profiling, orchestrator=DaskOrchestrator(n_workers=1), repository=repo, enable_cache=False)
    assert run.status == "completed"
    assert run.steps["worker_profiling"].output() is False


@pytest.mark.timeout(120)
def test_a_fan_out_spreads_over_the_workers_not_onto_the_one_holding_its_input(repo: Repository) -> None:
    # left to itself the scheduler put every branch on the worker holding ``start``'s output
    run = run_pipeline(fan_of_pids, orchestrator=DaskOrchestrator(n_workers=2), repository=repo, enable_cache=False)
    assert run.status == "completed"
    assert len(set(run.steps["four_pids"].output())) == 2


@pytest.mark.timeout(30)
def test_unreachable_scheduler_fails_fast_with_the_address(repo: Repository) -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"
    began = time.perf_counter()
    with pytest.raises(BackendError, match=f"cannot reach the Dask scheduler at {address} within 2 s"):
        run_pipeline(doubled, orchestrator=DaskOrchestrator(address=address, timeout=2.0), repository=repo)
    assert time.perf_counter() - began < 10


def test_remote_cluster_with_local_stores_is_refused_before_any_step(repo: Repository) -> None:
    with pytest.raises(
        ConfigError, match=r"shared metadata store \(MySQL/PostgreSQL.*shared artifact store \(S3/GCS"
    ) as e:
        run_pipeline(doubled, orchestrator=DaskOrchestrator(address="tcp://scheduler.example:8786"), repository=repo)
    assert "local SQLite file" in str(e.value) and "local folder" in str(e.value)
    assert repo.runs() == []  # refused before the run was recorded


def test_shared_stores_may_go_to_a_remote_cluster_and_local_ones_to_localhost(tmp_path: Path) -> None:
    shared = StoresRecipe("postgresql+psycopg://u:p@db/zen", "s3://bucket/zen", {}, tmp_path)
    DaskOrchestrator(address="tcp://scheduler.example:8786").check_shared_stores(shared)
    local = StoresRecipe(f"sqlite:///{tmp_path}/m.db", str(tmp_path / "artifacts"), {}, tmp_path)
    DaskOrchestrator(address="tcp://127.0.0.1:8786").check_shared_stores(local)
    DaskOrchestrator(address="tcp://localhost:8786").check_shared_stores(local)
    assert "p@db" not in repr(shared)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ConfigError, match="n_workers >= 1"):
        DaskOrchestrator(n_workers=0)
    with pytest.raises(ConfigError, match="timeout > 0"):
        DaskOrchestrator(timeout=0)


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """A ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1; all stopped afterwards."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    common = {"cwd": tmp_path, "env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [
        subprocess.Popen(  # noqa: S603
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            start_new_session=True,
            **common,  # type: ignore[call-overload]
        )
    ]
    try:
        for _ in range(2):
            processes.append(
                subprocess.Popen(  # noqa: S603
                    [DASK, "worker", address, "--nthreads", "1", "--no-dashboard", "--local-directory", str(tmp_path),
                     "--resources", "CPU=1"],  # fmt: skip
                    start_new_session=True,
                    **common,  # type: ignore[call-overload]
                )
            )
        from dask.distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for process in reversed(processes):
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.mark.services
@pytest.mark.timeout(180)
def test_existing_cluster_runs_a_pipeline(
    repo: Repository, postgres_url: str, dask_cluster: str, tmp_path: Path
) -> None:
    repo.register_stack("cluster", metadata_store=postgres_url, artifact_store=str(tmp_path / "shared-artifacts"))
    run = run_pipeline(where, orchestrator=DaskOrchestrator(address=dask_cluster), repository=repo, stack="cluster")
    assert run.status == "completed"
    pids = run.steps["summed"].output()
    assert os.getpid() not in pids
    doubled_run = run_pipeline(
        doubled, orchestrator=DaskOrchestrator(address=dask_cluster), repository=repo, stack="cluster"
    )
    assert doubled_run.steps["summed"].output() == [10, 10]


@pipeline
def needs_gpu() -> None:
    double.configure(resources={"gpu": 1})(start())


@pipeline
def needs_cpu() -> None:
    double.configure(resources={"cpu": 1})(start())


@pytest.mark.services
@pytest.mark.timeout(180)
def test_existing_cluster_honours_declared_resources(
    repo: Repository, postgres_url: str, dask_cluster: str, tmp_path: Path
) -> None:
    repo.register_stack("cluster", metadata_store=postgres_url, artifact_store=str(tmp_path / "shared-artifacts"))
    orchestrator = DaskOrchestrator(address=dask_cluster)
    run = run_pipeline(needs_cpu, orchestrator=orchestrator, repository=repo, stack="cluster")
    assert run.steps["double"].output() == 10
    with pytest.raises(BackendError, match=r"step 'double' asks for \{'GPU': 1.0\}.*--resources"):
        run_pipeline(needs_gpu, orchestrator=orchestrator, repository=repo, stack="cluster")
    metadata = repo.stores(repo.stack("cluster")).metadata
    (refused,) = metadata.runs(pipeline="needs_gpu")
    assert refused.status == "failed" and metadata.step_runs(refused.id) == [], "a step was sent anyway"


# -- workers that die, steps that exit or ignore their timeout ------------------------------------------


@step
def dies(how: str = "exit") -> int:
    """Ends its worker's process: ``os._exit(3)``, SIGKILL, a segfault; or calls ``sys.exit(4)``."""
    if how == "exit":
        os._exit(3)
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if how == "segv":
        ctypes.string_at(0)
    sys.exit(4)


@step
def counted(marker_dir: str = "", seconds: float = 1.0) -> int:
    """Leaves a file per execution (so a re-execution shows), then naps."""
    Path(marker_dir, f"ran-{uuid.uuid4().hex}").touch()
    time.sleep(seconds)
    return 1


@pipeline
def deaths() -> None:
    for how in ("exit", "kill", "segv", "sys_exit"):
        dies.configure(name=f"dies_{how}")(how=how)
    double(counted())


@pytest.mark.timeout(120)
def test_dead_workers_fail_their_steps_at_once_and_nothing_completed_runs_again(
    repo: Repository, tmp_path: Path
) -> None:
    # today: the nanny restarts each worker, the scheduler retries the task on the other worker
    # (killing it too), recomputes what the dead workers held, and the run never returns
    began = time.monotonic()
    with pytest.raises(StepError) as caught:
        run_pipeline(
            deaths,
            orchestrator=DaskOrchestrator(n_workers=2),
            repository=repo,
            params={"counted": {"marker_dir": str(tmp_path)}},
            enable_cache=False,
            failure_policy="continue",
        )
    assert time.monotonic() - began < 60
    records = {r.name: r for r in repo.stores().metadata.step_runs(caught.value.run_id)}  # type: ignore[attr-defined]
    assert {name: r.status for name, r in records.items()} == {
        "dies_exit": "failed",
        "dies_kill": "failed",
        "dies_segv": "failed",
        "dies_sys_exit": "failed",
        "counted": "completed",
        "double": "completed",
    }
    assert records["dies_exit"].error_message == "the worker running step 'dies_exit' died (exit code 3)"
    assert records["dies_kill"].error_message.startswith("the worker running step 'dies_kill' died (signal 9, SIGKILL")
    assert "died (signal 11, SIGSEGV" in str(records["dies_segv"].error_message)
    assert {records[name].error_type for name in ("dies_exit", "dies_kill", "dies_segv")} == {"WorkerDied"}
    # sys.exit is the step's own failure: its worker lives on
    assert records["dies_sys_exit"].error_type == "SystemExit", records["dies_sys_exit"]
    assert len(list(tmp_path.glob("ran-*"))) == 1, "a completed step was executed again"


FLOW = """
import os
from pathlib import Path

from zenml import pipeline, step


@step
def die() -> int:
    if not Path("released").exists():
        os._exit(3)
    return 1


@step
def fine() -> int:
    return 2


@pipeline
def p() -> None:
    die()
    fine()
"""


def _in_terminal(argv: list[str], cwd: Path, timeout: float = 120.0) -> tuple[int, str]:
    """Run ``argv`` with a pseudo-terminal as its stdin, stdout and stderr; its exit code and output (no colours)."""
    master, slave = pty.openpty()
    process = subprocess.Popen(argv, cwd=cwd, stdin=slave, stdout=slave, stderr=slave)  # noqa: S603
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            assert time.monotonic() < deadline, f"{argv} did not return within {timeout:g} s"
            if select.select([master], [], [], 0.5)[0]:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every process holding the terminal is gone
                    break
                if not data:
                    break
                chunks.append(data)
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
    text = b"".join(chunks).decode(errors="replace")
    return process.wait(), re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


@pytest.mark.timeout(180)
def test_zen_run_returns_when_a_worker_dies_and_resume_finishes_the_run(tmp_path: Path) -> None:
    zen = str(Path(sys.executable).parent / "zen")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            [zen, *args], cwd=tmp_path, capture_output=True, text=True, timeout=150, stdin=subprocess.DEVNULL
        )

    (tmp_path / "flow.py").write_text(FLOW)
    assert run("init").returncode == 0
    # in a terminal, as a user runs it (the progress display is live there)
    code, output = _in_terminal([zen, "run", "flow.py:p", "--orchestrator", "dask", "--no-cache"], tmp_path)
    assert code == 1, output
    assert "step 'die' failed: WorkerDied: the worker running step 'die' died (exit code 3)" in output
    run_id = Repository(tmp_path).runs()[0].id
    assert {s.name: s.status for s in Repository(tmp_path).stores().metadata.step_runs(run_id)} == {
        "die": "failed",
        "fine": "completed",
    }
    (tmp_path / "released").touch()
    resumed = run("runs", "resume", run_id)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert Repository(tmp_path).run(run_id).status == "completed"


@step
def stuck(seconds: float = 60.0) -> int:
    time.sleep(seconds)  # one C call: the timeout raised in the worker thread cannot land
    return 1


@pipeline
def stuck_beside_a_counted_nap() -> None:
    stuck.configure(timeout=0.5)()
    counted()


@pytest.mark.timeout(120)
def test_a_step_past_its_timeout_in_a_c_call_is_stopped_with_its_worker_and_its_neighbour_runs_again(
    repo: Repository, tmp_path: Path
) -> None:
    # one worker, two threads: the nap shares the process that has to be ended to stop the stuck step
    began = time.monotonic()
    with pytest.raises(StepError, match="step 'stuck' timed out: StepTimeout: .*without returning to Python") as caught:
        run_pipeline(
            stuck_beside_a_counted_nap,
            orchestrator=DaskOrchestrator(n_workers=1, threads_per_worker=2),
            repository=repo,
            params={"counted": {"marker_dir": str(tmp_path), "seconds": 6.0}},
            enable_cache=False,
            failure_policy="continue",
        )
    assert time.monotonic() - began < 45
    records = {r.name: r for r in repo.stores().metadata.step_runs(caught.value.run_id)}  # type: ignore[attr-defined]
    assert records["stuck"].status == "timed_out"
    assert records["counted"].status == "completed"
    assert len(list(tmp_path.glob("ran-*"))) == 2, "the step on the ended worker was not run again"


@pipeline
def one_death() -> None:
    dies(how="exit")


@pytest.mark.timeout(180)
def test_an_existing_cluster_reports_the_exit_code_its_nanny_logged(repo: Repository, dask_cluster: str) -> None:
    # a scheduler zenml did not start retries the task on other workers (allowed-failures 3 by
    # default), then fails it; the exit code is read from the nannies' logs
    with pytest.raises(StepError, match=r"the worker running step 'dies' died \(exit code 3\)") as caught:
        run_pipeline(one_death, orchestrator=DaskOrchestrator(address=dask_cluster), repository=repo)
    (record,) = repo.stores().metadata.step_runs(caught.value.run_id)  # type: ignore[attr-defined]
    assert (record.status, record.error_type) == ("failed", "WorkerDied")


@step
def read_env() -> str:
    return os.environ.get("ZENML_TEST_DASK_ENV", "<unset>")


@pipeline
def env_reader() -> None:
    read_env()


@pytest.mark.timeout(180)
def test_local_workers_see_the_environment_of_the_moment_the_cluster_starts(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    # workers are forks of a fork server that outlives a run; they still take this process's environment
    def value() -> object:
        run = run_pipeline(env_reader, orchestrator=DaskOrchestrator(n_workers=1), repository=repo, enable_cache=False)
        return run.steps["read_env"].output()

    monkeypatch.setenv("ZENML_TEST_DASK_ENV", "first")
    assert value() == "first"
    monkeypatch.setenv("ZENML_TEST_DASK_ENV", "second")
    assert value() == "second"


def test_local_workers_are_spawned_where_there_is_no_fork_server(monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    from zenml.backends.orchestrator import dask as dask_orchestrator

    assert dask_orchestrator.forkserver_settings() == {"distributed.worker.multiprocessing-method": "forkserver"}
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert dask_orchestrator.forkserver_settings() == {}
