"""``ParallelOrchestrator``: independent steps at the same time, in a pool of local worker processes."""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import ClassVar

from zenml.backends.orchestrator.base import BaseOrchestrator
from zenml.backends.orchestrator.resources import check_capacity, machine_capacity
from zenml.backends.orchestrator.worker import (
    recipe_of,
    report_skipped,
    run_pool_step,
    start_pool_worker,
    upstream_of,
)
from zenml.exceptions import BackendError, ConfigError, StepError
from zenml.pipelines.spec import RunSpec
from zenml.runtime.events import RunListener, StepOutcome
from zenml.runtime.stores import Stores

#: Seconds the steps running when Ctrl-C arrives get to record their interruption before their workers are killed.
INTERRUPT_GRACE = 3.0


class ParallelOrchestrator(BaseOrchestrator):
    """Runs each step in one of ``workers`` processes (stdlib, spawned once per run and reused).

    A step is submitted as soon as every step it reads from has finished and enough worker slots
    are free: a step asking for ``resources={"cpu": 2}`` takes two of the ``workers`` slots, so
    fewer steps run beside it. On the first failure no new step is submitted (failure policy
    ``stop``) or only steps independent of the failed one are (``continue``); steps already
    running finish, then the first failing step's ``StepError`` is raised. Steps must be
    importable by module name (the spec's code paths are added on workers), and a script that
    starts a run needs an ``if __name__ == "__main__":`` guard (workers are spawned).
    """

    supported_resources: ClassVar[frozenset[str]] = frozenset({"cpu", "memory", "gpu"})

    def __init__(self, workers: int = 2) -> None:
        if workers < 1:
            raise ConfigError(f"ParallelOrchestrator needs workers >= 1, got {workers}")
        self.workers = workers

    def check_spec(self, spec: RunSpec) -> None:
        """Refuse a step needing more CPUs than there are worker slots, or more than this machine has."""
        super().check_spec(spec)
        capacity = machine_capacity()
        capacity["cpu"] = min(capacity["cpu"], float(self.workers))
        check_capacity(spec, capacity, f"this machine with the parallel orchestrator's {self.workers} worker slots")

    def _run(
        self, spec: RunSpec, steps: list[str], stores: Stores, listener: RunListener, use_cache: bool
    ) -> list[StepOutcome]:
        recipe = recipe_of(stores, "parallel")
        spec_yaml = spec.to_yaml()
        waiting = {name: upstream_of(spec, name, steps) for name in steps}
        outcomes: list[StepOutcome] = []
        failure: BaseException | None = None
        running: dict[Future[StepOutcome], tuple[str, float]] = {}
        free_slots = self.workers
        context = multiprocessing.get_context("spawn")
        size = min(self.workers, max(len(steps), 1))
        # Every worker warms up as it starts (not when its first step lands), in parallel with the first step.
        with (
            ProcessPoolExecutor(size, mp_context=context, initializer=start_pool_worker, initargs=(recipe,)) as pool,
            _stopped_on_interrupt(pool, running),
        ):
            # A spawn pool starts a worker per submit while none is idle: these no-op calls start them
            # all now, so the second worker is warm when the first fan-out arrives (not 0.4 s later).
            for _ in range(size - 1):
                pool.submit(os.getpid)
            while True:
                if failure is None or spec.failure_policy == "continue":
                    for name in [n for n, deps in waiting.items() if not deps]:
                        if _slots(spec, name) > free_slots:
                            continue
                        del waiting[name]
                        free_slots -= _slots(spec, name)
                        future = pool.submit(run_pool_step, spec_yaml, name, recipe, use_cache)
                        running[future] = (name, time.perf_counter())
                        listener.step_started(name)
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    name, started = running.pop(future)
                    free_slots += _slots(spec, name)
                    outcome, error = _outcome(future, name, started)
                    failure = failure or error
                    if outcome is not None:
                        listener.step_finished(outcome)
                        outcomes.append(outcome)
                    if error is None:
                        for deps in waiting.values():
                            deps.discard(name)
        if failure is not None:
            report_skipped(waiting, listener)
            raise failure
        return outcomes


@contextmanager
def _stopped_on_interrupt(pool: ProcessPoolExecutor, running: Iterable[Future[StepOutcome]]) -> Iterator[None]:
    """On Ctrl-C, stop the pool within ``INTERRUPT_GRACE`` seconds, then let the interrupt through.

    No queued step starts. The running ones were interrupted by the same Ctrl-C (the terminal sends
    it to the worker processes too) and return once they have recorded it; a worker still busy after
    the grace (its step ignores the interrupt, or only this process was signalled) is killed, and the
    engine records its step interrupted. Without this the pool's shutdown would wait for every step.
    """
    try:
        yield
    except KeyboardInterrupt:
        # the stdlib keeps no public handle on its workers before Python 3.14 (``kill_workers``)
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        wait(running, timeout=INTERRUPT_GRACE)
        for process in processes:
            if process.is_alive():
                process.kill()
        for process in processes:
            process.join(5)
        raise


def _slots(spec: RunSpec, name: str) -> int:
    """Worker slots a step takes: its CPU request rounded up, at least one."""
    cpu = spec.steps[name].runtime.resources.cpu
    return max(1, math.ceil(cpu)) if cpu else 1


def _outcome(future: Future[StepOutcome], name: str, started: float) -> tuple[StepOutcome | None, BaseException | None]:
    """The outcome of a finished future and the error to raise for it (``None`` when it succeeded)."""
    try:
        return future.result(), None
    except StepError as error:
        return StepOutcome(name, error.status, time.perf_counter() - started, error), error
    except BrokenProcessPool as exc:
        return None, BackendError(
            f"the worker process running step '{name}' died ({exc}); if a script starts this run, guard it "
            'with `if __name__ == "__main__":` (workers are spawned and import the main module)'
        )
    except Exception as exc:  # noqa: BLE001 -- a bad spec or a dead worker: re-raised after the rest finish
        return None, exc
