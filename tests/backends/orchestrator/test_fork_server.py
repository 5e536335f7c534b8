"""The fork server step workers come from: a fork of the run's own process where that is safe, else multiprocessing's.

The test process itself runs pytest-timeout's watchdog thread, so it never forks one (its runs use
multiprocessing's own server, which the orchestrator tests cover). These tests run scripts in fresh,
single-threaded processes, as users' scripts and ``zen run`` are.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from zenml.backends.orchestrator import fork_server
from zenml.repository import Repository

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the server is forked only on Linux")

PROBED_RUNS = """
import json
import os
import signal
import sys

from zenml import pipeline, step
from zenml.backends.orchestrator import fork_server

VALUE = 1


@step
def probe() -> dict:
    with open(f"/proc/{os.getppid()}/cmdline", "rb") as server:
        command = server.read().decode()
    return {
        "server": os.getppid(),
        "server_command": command,
        "value": VALUE,
        "usr1_default": signal.getsignal(signal.SIGUSR1) == signal.SIG_DFL,
        "has_sqlalchemy": "sqlalchemy" in sys.modules,
    }


@pipeline
def probed() -> None:
    probe()


if __name__ == "__main__":
    with open("/proc/self/cmdline", "rb") as me:  # before Dask's scheduler, in this process, retitles it
        command = me.read().decode()
    signal.signal(signal.SIGUSR1, lambda *_: None)  # this process's own handler: a worker must not inherit it
    seen = []
    for value in range(1, int(sys.argv[2]) + 1):
        VALUE = value  # the second run's workers must see the code and state this run was compiled from
        run = probed.run(orchestrator=sys.argv[1], enable_cache=False)
        seen.append({"kind": fork_server.running(), **run.steps["probe"].output()})
    first = seen[0]["server"]
    try:
        reaped = os.waitpid(first, os.WNOHANG)[0] == first
    except ChildProcessError:  # already reaped when the second run replaced it
        reaped = True
    print(json.dumps({"seen": seen, "first_reaped": reaped, "command": command}))
"""


def _run_script(tmp_path: Path, source: str, *args: str) -> dict[str, object]:
    (tmp_path / "script.py").write_text(source)
    done = subprocess.run(  # noqa: S603
        [sys.executable, "script.py", *args], cwd=tmp_path, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.timeout(300)
def test_each_parallel_run_forks_a_fresh_server_from_its_own_process(repo: Repository, tmp_path: Path) -> None:
    result = _run_script(tmp_path, PROBED_RUNS, "parallel", "2")
    seen = result["seen"]
    assert isinstance(seen, list)
    assert [probe["kind"] for probe in seen] == ["forked", "forked"]
    assert [probe["value"] for probe in seen] == [1, 2], "a worker ran an earlier run's copy of the script"
    first, second = (probe["server"] for probe in seen)
    assert first != second, "the second run reused the first run's server"
    assert result["first_reaped"] is True, "the replaced server was left a zombie"
    # a forked server is a copy of the script (its command line is the script's), not a fresh interpreter
    assert [probe["server_command"] for probe in seen] == [result["command"]] * 2
    assert all(probe["usr1_default"] for probe in seen), "a worker inherited the script's signal handler"
    assert not any(probe["has_sqlalchemy"] for probe in seen), "a SQLite run imported SQLAlchemy in its workers"


@pytest.mark.timeout(300)
def test_a_local_dask_cluster_forks_its_workers_from_the_runs_process(repo: Repository, tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    # one run: Dask leaves threads of its own behind (and imports numpy, whose BLAS starts one), so a
    # second run in the same process gets multiprocessing's own server
    result = _run_script(tmp_path, PROBED_RUNS, "dask", "1")
    assert result["seen"] == [
        {
            "kind": "forked",
            "server": result["seen"][0]["server"],  # type: ignore[index]
            "server_command": result["command"],
            "value": 1,
            "usr1_default": True,
            "has_sqlalchemy": False,
        }
    ]


THREADED = """
import json
import threading
import time

from zenml import pipeline, step
from zenml.backends.orchestrator import fork_server


@step
def one() -> int:
    return 1


@pipeline
def single() -> None:
    one()


if __name__ == "__main__":
    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
    run = single.run(orchestrator="parallel", enable_cache=False)
    print(json.dumps({"kind": fork_server.running(), "output": run.steps["one"].output()}))
"""


@pytest.mark.timeout(300)
def test_a_process_running_another_thread_uses_multiprocessings_own_server(repo: Repository, tmp_path: Path) -> None:
    # a lock the other thread held would stay locked in a copy forever: no fork then
    assert _run_script(tmp_path, THREADED) == {"kind": "spawned", "output": 1}


FORKED_CHILD = """
import json
import os

from zenml.repository import Repository
from zenml.runtime.stores import open_cached

stores = Repository().stores()
before = len(stores.metadata.runs())
pid = os.fork()
if pid == 0:
    mine = open_cached(stores.recipe)  # a connection of its own, never the parent's
    ok = mine is not stores and mine.metadata is not stores.metadata and len(mine.metadata.runs()) == before
    os._exit(0 if ok else 3)
_, status = os.waitpid(pid, 0)
still_reads = len(stores.metadata.runs()) == before
print(json.dumps({"child": os.waitstatus_to_exitcode(status), "parent_still_reads": still_reads}))
"""


@pytest.mark.timeout(120)
def test_a_forked_child_opens_stores_of_its_own(repo: Repository, tmp_path: Path) -> None:
    assert _run_script(tmp_path, FORKED_CHILD) == {"child": 0, "parent_still_reads": True}


def test_no_server_runs_until_a_run_starts_one() -> None:
    # pytest's own process: whatever ran before may have started multiprocessing's server, never a forked one
    assert fork_server.running() in {"none", "spawned"}


NESTED = """
import json
import multiprocessing

from zenml import pipeline, step
from zenml.backends.orchestrator import fork_server


@step
def nested() -> int:
    # a step using a fork server of its own, from a worker forked off the run's copy
    with multiprocessing.get_context("forkserver").Pool(1) as pool:
        return int(pool.apply(abs, (-3,)))


@pipeline
def uses_a_pool() -> None:
    nested()


if __name__ == "__main__":
    run = uses_a_pool.run(orchestrator="parallel", enable_cache=False)
    print(json.dumps({"kind": fork_server.running(), "output": run.steps["nested"].output()}))
"""


@pytest.mark.timeout(300)
def test_a_step_can_start_a_fork_server_of_its_own(repo: Repository, tmp_path: Path) -> None:
    # the run's copy was forked while this process held multiprocessing's fork-server lock
    assert _run_script(tmp_path, NESTED) == {"kind": "forked", "output": 3}
