"""Scaling out: the same pipeline on the parallel and Dask orchestrators, with runtime settings."""

import logging
import os
import signal
import time
from pathlib import Path

from zenml import pipeline, step
from zenml.backends.orchestrator.dask import DaskOrchestrator
from zenml.backends.orchestrator.parallel import ParallelOrchestrator
from zenml.exceptions import StepError
from zenml.repository import Repository

log = logging.getLogger("shards")


# --8<-- [start:steps]
@step
def shards(count: int = 4) -> list[int]:
    """The work to split."""
    return list(range(count))


@step(retries=2, retry_delay=0.5, retry_backoff=2.0, timeout=60, resources={"cpu": 1})
def crunch(values: list[int], shard: int = 0, work: int = 300_000) -> int:
    """CPU-bound work on one shard: retried twice on failure, stopped after 60 s."""
    print(f"shard {shard}: crunching {work} numbers")
    log.warning("shard %d started", shard)
    return sum(i * i % (shard + 7) for i in range(work)) + values[shard]


@step
def combine(a: int, b: int, c: int, d: int) -> int:
    """Fan in the four shards."""
    return a + b + c + d


@pipeline
def fan_out() -> None:
    """One source, four independent shards, one join."""
    values = shards()
    parts = [crunch.configure(name=f"crunch_{i}")(values, shard=i) for i in range(4)]
    combine(*parts)
# --8<-- [end:steps]


# --8<-- [start:policy]
@step
def flaky_source(marker: str = "source-ready") -> int:
    """Fails until a file exists: a stand-in for a service that is down."""
    if not Path(marker).exists():
        raise ConnectionError(f"{marker} is not there yet")
    return 1


@step
def report(x: int) -> str:
    """Depends on the flaky source."""
    return f"report of {x}"


@step
def housekeeping() -> str:
    """Independent of the flaky branch."""
    return "cleaned"


@pipeline
def nightly() -> None:
    """Two independent branches."""
    report(flaky_source())
    housekeeping()
# --8<-- [end:policy]


# --8<-- [start:dying]
@step
def memory_hog(marker: str = "more-memory") -> int:
    """Killed like the out-of-memory killer kills (SIGKILL) until a file exists."""
    if not Path(marker).exists():
        os.kill(os.getpid(), signal.SIGKILL)
    return 2


@pipeline
def overnight() -> None:
    """The report now reads from a step whose process dies."""
    report(memory_hog())
    housekeeping()
# --8<-- [end:dying]


def statuses(run) -> dict[str, str]:
    """Each step's status in a run."""
    return {name: s.status for name, s in sorted(run.steps.items())}


if __name__ == "__main__":  # workers are spawned processes: they import this module
    # --8<-- [start:run]
    started = time.perf_counter()
    local = fan_out.run(orchestrator="local", enable_cache=False)
    parallel = fan_out.run(orchestrator=ParallelOrchestrator(workers=2), enable_cache=False)
    dask = fan_out.run(orchestrator=DaskOrchestrator(n_workers=2), enable_cache=False)
    same = local.steps["combine"].output() == parallel.steps["combine"].output() == dask.steps["combine"].output()
    print("same result on local, parallel and dask:", same)
    cached = fan_out.run(orchestrator="parallel")  # reuses any earlier run's cache, whatever ran it
    print("re-run:", set(statuses(cached).values()))
    print("crunch_2 log:", dask.steps["crunch_2"].logs()[0][1].splitlines()[0])
    # --8<-- [end:run]
    # --8<-- [start:continue]
    try:
        nightly.run(failure_policy="continue")
    except StepError as error:
        print("failed step:", error.step)
        print("statuses:", statuses(Repository().run(error.run_id)))
    # --8<-- [end:continue]
