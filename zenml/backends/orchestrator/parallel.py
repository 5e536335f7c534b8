"""``ParallelOrchestrator``: independent steps at the same time, in a pool of local worker processes."""

from __future__ import annotations

import logging
import math
import time
from typing import Any, ClassVar

from zenml.backends.orchestrator.base import BaseOrchestrator
from zenml.backends.orchestrator.ledger import Ledger
from zenml.backends.orchestrator.lost import (
    Overtime,
    record_lost,
    stopped_after_timeout,
    stopped_with_the_run,
    worker_died,
)
from zenml.backends.orchestrator.pool import Finished, StepPool, start_fork_server
from zenml.backends.orchestrator.resources import check_capacity, machine_capacity
from zenml.backends.orchestrator.worker import recipe_of
from zenml.exceptions import ConfigError, MetadataStoreError, StepError
from zenml.pipelines.spec import RunSpec
from zenml.runtime.events import RunListener, StepOutcome
from zenml.runtime.stores import Stores

logger = logging.getLogger("zenml")
#: Seconds the steps running when Ctrl-C arrives get to record their interruption before their workers are killed.
INTERRUPT_GRACE = 3.0
SPAWN_HINT = (
    ' before it could start the step; if a script starts this run, guard it with `if __name__ == "__main__":` '
    "(workers started from a fresh interpreter import the main module)"
)


class ParallelOrchestrator(BaseOrchestrator):
    """Runs each step in one of ``workers`` processes (stdlib, started once per run and reused; see ``pool``).

    A step is submitted as soon as every step it reads from has finished and enough worker slots
    are free: a step asking for ``resources={"cpu": 2}`` takes two of the ``workers`` slots, so
    fewer steps run beside it. On the first failure no new step is submitted (failure policy
    ``stop``) or only steps independent of the failed one are (``continue``); steps already
    running finish, then the first failing step's ``StepError`` is raised. Steps must be
    importable by module name (the spec's code paths are added on workers), and a script that
    starts a run needs an ``if __name__ == "__main__":`` guard (workers that start from a fresh
    interpreter import the main module; see ``fork_server`` for when they are forks of this process).

    A worker process that dies (``os._exit``, a crash in native code, the out-of-memory killer)
    fails only the step it ran, recorded ``WorkerDied`` with its exit code or signal; the other
    steps go on. A step still running ``STOP_GRACE_SECONDS`` past its timeout (its ``SIGALRM``
    masked, or stuck in C code that never returns to Python) is killed with its worker and
    recorded ``timed_out``.
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

    def preflight(self, stores: Stores) -> None:
        """Start the workers' fork server before the run is recorded: it imports zenml meanwhile."""
        super().preflight(stores)
        start_fork_server()

    def _run(
        self, spec: RunSpec, steps: list[str], stores: Stores, listener: RunListener, use_cache: bool
    ) -> list[StepOutcome]:
        recipe = recipe_of(stores, "parallel")
        ledger = Ledger(spec, steps, listener)
        # Every worker starts (and opens the stores) now, in parallel with the first step.
        with StepPool(min(self.workers, max(len(steps), 1)), recipe) as pool:
            slots = _Slots(self, spec, stores, ledger, pool, (spec.to_yaml(), recipe, use_cache))
            try:
                slots.run()
            except KeyboardInterrupt as exc:
                # the terminal sent Ctrl-C to the workers too: their steps record it and return, unless
                # they ignore it; only those still busy after the grace are killed
                slots.wind_down(INTERRUPT_GRACE)
                slots.abandon(exc)
                raise
            except BaseException as exc:  # no step is left recorded as running
                slots.abandon(exc)
                raise
        return ledger.close()


class _Slots:
    """One run on the pool: sends steps while worker slots are free, collects them, stops overdue ones."""

    def __init__(
        self,
        orchestrator: ParallelOrchestrator,
        spec: RunSpec,
        stores: Stores,
        ledger: Ledger,
        pool: StepPool,
        task: tuple[str, Any, bool],
    ) -> None:
        self.spec, self.stores, self.ledger, self.pool = spec, stores, ledger, pool
        self.spec_yaml, self.recipe, self.use_cache = task
        self.free = orchestrator.workers
        self.overtime = Overtime(spec, stores)

    def run(self) -> None:
        while True:
            self.submit_ready()
            if not self.pool.busy:
                return
            for finished in self.pool.wait(self.overtime.wait_seconds()):
                self.release(finished.name)
                self.collect(finished)
            for name in self.overtime.overdue():
                self.pool.stop(name)
                self.release(name)
                timeout = self.spec.steps[name].runtime.timeout or 0.0
                error = record_lost(self.stores, self.spec, name, stopped_after_timeout(name, timeout))
                self.ledger.finish(StepOutcome(name, error.status, self.ledger.elapsed(name), error))

    def wind_down(self, seconds: float) -> None:
        """Collect the running steps that end within ``seconds``; send no new one."""
        deadline = time.monotonic() + seconds
        while self.pool.busy and (left := deadline - time.monotonic()) > 0:
            for finished in self.pool.wait(left):
                self.release(finished.name)
                self.collect(finished)

    def abandon(self, reason: BaseException) -> None:
        """Stop the steps still running and record them failed with ``reason``."""
        for name in list(self.pool.busy):
            self.pool.stop(name)
            try:
                record_lost(self.stores, self.spec, name, stopped_with_the_run(name, reason, "its worker was stopped"))
            except MetadataStoreError as exc:  # the reason the run stops is what must surface
                logger.warning("could not record step '%s' as stopped: %s", name, exc)

    def submit_ready(self) -> None:
        for name in self.ledger.ready():
            if _slots(self.spec, name) > self.free:
                continue
            self.free -= _slots(self.spec, name)
            self.pool.submit(name, (self.spec_yaml, name, self.recipe, self.use_cache))
            self.overtime.started(name)
            self.ledger.start(name)

    def release(self, name: str) -> None:
        self.free += _slots(self.spec, name)
        self.overtime.finished(name)

    def collect(self, finished: Finished) -> None:
        name = finished.name
        if finished.died:
            hint = SPAWN_HINT if finished.before_ready else ""
            error = record_lost(self.stores, self.spec, name, worker_died(name, finished.exitcode, hint))
            self.ledger.finish(StepOutcome(name, error.status, self.ledger.elapsed(name), error))
        elif isinstance(finished.error, StepError):
            error = finished.error
            self.ledger.finish(StepOutcome(name, error.status, self.ledger.elapsed(name), error))
        elif finished.error is not None:  # a bad spec or store: raised after the running steps end
            self.ledger.fail(finished.error)
        elif finished.outcome is not None:
            self.ledger.finish(finished.outcome)


def _slots(spec: RunSpec, name: str) -> int:
    """Worker slots a step takes: its CPU request rounded up, at least one."""
    cpu = spec.steps[name].runtime.resources.cpu
    return max(1, math.ceil(cpu)) if cpu else 1
