"""What out-of-process orchestrators share: the worker entry point and the checks before sending work.

``run_step`` is the function a worker process (a ``ProcessPoolExecutor`` worker, a Dask worker)
calls: it re-reads the spec from its YAML text, reopens the stores from their recipe (once per
process) and calls the shared ``execute_step``.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from zenml.exceptions import ConfigError
from zenml.pipelines.spec import RunSpec
from zenml.runtime.events import RunListener, StepOutcome
from zenml.runtime.executor import as_step_error, execute_step
from zenml.runtime.stores import Stores, StoresRecipe, open_cached
from zenml.utils import collector
from zenml.utils.status import StepStatus
from zenml.utils.trust import trust_types


@lru_cache(maxsize=16)
def _parse_spec(spec_yaml: str) -> RunSpec:
    return RunSpec.from_yaml(spec_yaml, "<run spec sent to a worker>")


def run_step(spec_yaml: str, step_name: str, recipe: StoresRecipe, use_cache: bool, *upstream: Any) -> StepOutcome:
    """Execute one step in this (worker) process; ``upstream`` only orders the call after its inputs.

    Raises:
        StepError: the step failed (recorded failed by ``execute_step``).
    """
    del upstream  # the scheduler passes upstream results so dependencies are explicit; unused here
    spec = _parse_spec(spec_yaml)
    # the parent checked these types before sending the spec (zenml.utils.trust); the call itself
    # arrives over the pool's or the scheduler's own channel, which already runs code it is sent
    trust_types(types_of(spec))
    try:
        return execute_step(spec, step_name, open_cached(recipe), use_cache=use_cache)
    except (KeyboardInterrupt, SystemExit) as exc:
        # Raised by the step (or by code it imports) in this worker: that step's failure, not an exception
        # that kills a pool or Dask worker, or exits the orchestrating process with the step's exit code.
        # (A Ctrl-C at the terminal interrupts the orchestrating process too, which stops the run.)
        raise as_step_error(step_name, exc) from exc


def types_of(spec: RunSpec) -> list[str]:
    """Every class path a spec names: its steps and its backends."""
    backends = [spec.backends.orchestrator, spec.backends.processing, spec.backends.training]
    for step in spec.steps.values():
        backends += [backend for backend in (step.processing, step.training) if backend is not None]
    return [step.type for step in spec.steps.values()] + [backend.type for backend in backends]


def warm_up(recipe: StoresRecipe) -> None:
    """Import the step machinery and open the stores in a fresh worker, before its first step arrives.

    Without it a worker pays this (~0.4 s, mostly SQLAlchemy) when its first step lands, so the
    second worker of a pool starts its first step late. An error is left for the first step to
    raise: opening the stores again there fails the same way, and that step's error names it
    (a failing pool initializer would only report a dead worker).
    """
    collector.freeze_at_exit()  # the pool (or nanny) waits for this process to end: make that quick
    try:
        open_cached(recipe)
    except Exception:  # noqa: BLE001 -- re-raised by the first step's own open_cached(recipe)
        return


def start_pool_worker(recipe: StoresRecipe) -> None:
    """Initialise a process-pool worker: warm it up, and end it when its orchestrator dies.

    A SIGKILLed orchestrator cannot shut its pool down: the worker would finish its step, record it
    and wait forever on a dead queue, racing a later ``zen runs resume`` of the same step. (Only for
    pools: a Dask worker's parent is its nanny, or a shell it should outlive.)

    Ctrl-C in a terminal reaches every process of its foreground group, this worker too. Between
    steps it is ignored (it would end the worker with a traceback; the orchestrator stops its pool
    itself); the pool's serving loop lets it interrupt a running step, which then records its interruption.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent()
    warm_up(recipe)


def _exit_with_parent() -> None:
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="zenml-parent-watch", daemon=True).start()


def recipe_of(stores: Stores, orchestrator: str) -> StoresRecipe:
    """The recipe to reopen ``stores`` in a worker, refusing stores no other process can see.

    Raises:
        ConfigError: the stores were not opened from a stack, or live in this process's memory.
    """
    if stores.recipe is None:
        raise ConfigError(
            f"the {orchestrator} orchestrator runs steps in other processes and needs stores opened "
            "from a stack (Repository.stores()), not built by hand"
        )
    if stores.recipe.artifact_uri.startswith("memory://") or ":memory:" in stores.recipe.metadata_url:
        raise ConfigError(
            f"the {orchestrator} orchestrator runs steps in other processes, which cannot see this process's "
            "in-memory stores; use a folder or object store and a database file or server"
        )
    return stores.recipe


def upstream_of(spec: RunSpec, step_name: str, pending: set[str] | list[str]) -> set[str]:
    """The steps ``step_name`` reads from that are still to run in this call (``pending``)."""
    return {source for source in spec.steps[step_name].upstream() if source in pending}


def report_skipped(never_started: Iterable[str], listener: RunListener) -> None:
    """Tell the listener about steps a failed run never started (they depend on a failure)."""
    for name in never_started:
        listener.step_finished(StepOutcome(name, StepStatus.SKIPPED.value, 0.0))
