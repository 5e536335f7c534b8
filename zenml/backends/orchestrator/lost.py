"""Steps lost with their worker process (it died, or was stopped past the step's timeout): recorded, never left running.

Out-of-process orchestrators (``parallel``, ``dask``) use this on both sides: a worker runs each step
through ``run_contained``, so a step's ``sys.exit`` is the step's failure and not the worker's end;
the orchestrator records a step whose worker died as ``failed`` (``WorkerDied``), and one it had to
stop because it ran past its timeout while blocked outside Python as ``timed_out``.
"""

from __future__ import annotations

import logging
import signal
import time

from zenml.backends.orchestrator.worker import run_step
from zenml.exceptions import MetadataStoreError, StepError
from zenml.pipelines.spec import RunSpec
from zenml.runtime.events import StepOutcome
from zenml.runtime.executor import INTERRUPTED
from zenml.runtime.stores import Stores, StoresRecipe, open_cached
from zenml.utils.status import StepStatus

logger = logging.getLogger("zenml")

#: Seconds past a step's timeout before the orchestrator stops the process running it. The timeout
#: raised inside the step gets this long to land and be recorded; it cannot while the step is blocked
#: in one C call (a worker thread is only reached between Python instructions) or masks SIGALRM.
STOP_GRACE_SECONDS = 3.0
#: How often a step with a timeout that is not yet running (or is between attempts) is looked at again.
RECHECK_SECONDS = 1.0
WORKER_DIED = "WorkerDied"
_SIGNAL_HINTS = {
    signal.SIGKILL: "killed, e.g. by the out-of-memory killer",
    signal.SIGSEGV: "a crash in native code",
    signal.SIGABRT: "aborted by native code",
    signal.SIGBUS: "a crash in native code",
    signal.SIGTERM: "terminated",
}


def run_contained(spec_yaml: str, step_name: str, recipe: StoresRecipe, use_cache: bool) -> StepOutcome:
    """``run_step`` in a worker, with a ``sys.exit`` (or ``KeyboardInterrupt``) in the step as its recorded failure.

    Left alone, ``SystemExit`` ends a Dask worker process (Dask reports only ``KilledWorker``) or
    a pool worker's serving loop; here it becomes the step's ``StepError``, recorded as its outcome.

    Raises:
        StepError: the step failed, timed out or exited (recorded).
    """
    try:
        return run_step(spec_yaml, step_name, recipe, use_cache)
    except (SystemExit, KeyboardInterrupt) as exc:
        if isinstance(exc, SystemExit):
            message = f"the step raised sys.exit({exc.code!r}), which ends only the step"
        else:  # Ctrl-C in the terminal reached this worker too (its run is being interrupted)
            message = INTERRUPTED
        error = StepError(step_name, type(exc).__name__, message)
        spec = RunSpec.from_yaml(spec_yaml, "<run spec sent to a worker>")
        raise record_lost(open_cached(recipe), spec, step_name, error) from None


def exit_status(exitcode: int | None) -> str:
    """A process's ``exitcode`` in words: ``exit code 3``, ``signal 9, SIGKILL: killed, ...``."""
    if exitcode is None:
        return "exit status unknown"
    if exitcode >= 0:
        return f"exit code {exitcode}"
    try:
        name = signal.Signals(-exitcode).name
    except ValueError:
        return f"signal {-exitcode}"
    hint = _SIGNAL_HINTS.get(signal.Signals(-exitcode))
    return f"signal {-exitcode}, {name}: {hint}" if hint else f"signal {-exitcode}, {name}"


def worker_died(step: str, exitcode: int | None, hint: str = "") -> StepError:
    """The error of a step whose worker process ended while running it (``hint``: why, if known)."""
    return StepError(step, WORKER_DIED, f"the worker running step '{step}' died ({exit_status(exitcode)}){hint}")


def stopped_after_timeout(step: str, timeout: float) -> StepError:
    """The error of a step the orchestrator stopped, with its worker, after it ignored its timeout."""
    return StepError(
        step,
        "StepTimeout",
        f"ran longer than its timeout of {timeout:g} s without returning to Python (e.g. blocked in a C call), so the "
        "worker running it was stopped; raise the step's timeout or make it faster",
        status=StepStatus.TIMED_OUT.value,
    )


def stopped_with_the_run(step: str, reason: BaseException, what: str) -> StepError:
    """The error of a step stopped because its run stopped: Ctrl-C (``interrupted``) or ``reason``."""
    if isinstance(reason, KeyboardInterrupt):
        return StepError(step, "KeyboardInterrupt", INTERRUPTED)
    return StepError(step, type(reason).__name__, f"{what} because the run was stopped ({type(reason).__name__})")


def record_lost(stores: Stores, spec: RunSpec, step: str, error: StepError) -> StepError:
    """Record ``error`` as the outcome of ``step`` in this run (a row is created if it never got one); return it.

    The step's row is overwritten whatever it says: it is ``running`` (the worker died mid-step),
    missing (it died before the step began) or still shows an earlier attempt of a resumed run.
    """
    metadata = stores.metadata
    row = next((r.id for r in metadata.step_runs(spec.run_id) if r.name == step), None)
    if row is None:
        step_spec = spec.steps[step]
        row = metadata.start_step(
            run_id=spec.run_id, name=step, type_=step_spec.type, params=step_spec.params, cache_key=None, code_hash=None
        )
    metadata.fail_step(row, status=error.status, error_type=error.error_type, error_message=error.error_message)
    return error


class Overtime:
    """Finds running steps still running ``STOP_GRACE_SECONDS`` past their timeout, by their attempt's start.

    Each attempt of a step (a retry too) records its start in the step's row; a step with a timeout
    is looked at when its current attempt should have been stopped, and only then.
    """

    def __init__(self, spec: RunSpec, stores: Stores) -> None:
        self.spec, self.stores = spec, stores
        self.due: dict[str, float] = {}  # step → when (monotonic) to look at it next
        self.submitted: dict[str, float] = {}

    def started(self, step: str) -> None:
        """``step`` was sent to a worker."""
        timeout = self.spec.steps[step].runtime.timeout
        if timeout is not None:
            now = time.monotonic()
            self.submitted[step] = now
            self.due[step] = now + timeout + STOP_GRACE_SECONDS

    def finished(self, step: str) -> None:
        """``step`` ended (or was stopped): stop watching it."""
        self.due.pop(step, None)
        self.submitted.pop(step, None)

    def wait_seconds(self) -> float | None:
        """How long the orchestrator may wait for results before calling ``overdue`` (``None``: forever)."""
        if not self.due:
            return None
        return max(0.0, min(self.due.values()) - time.monotonic())

    def overdue(self) -> list[str]:
        """Steps whose current attempt has run past its timeout plus the grace: stop them."""
        now = time.monotonic()
        looked_at = [step for step, due in self.due.items() if due <= now]
        if not looked_at:
            return []
        try:
            rows = {row.name: row for row in self.stores.metadata.step_runs(self.spec.run_id)}
        except MetadataStoreError as exc:
            logger.warning("run %s: could not read its steps to enforce their timeouts: %s", self.spec.run_id, exc)
            for step in looked_at:
                self.due[step] = now + RECHECK_SECONDS
            return []
        late = []
        for step in looked_at:
            limit = (self.spec.steps[step].runtime.timeout or 0.0) + STOP_GRACE_SECONDS
            row = rows.get(step)
            if row is None or row.status != StepStatus.RUNNING or row.started_at is None:
                self.due[step] = now + RECHECK_SECONDS  # not begun yet, or between two attempts
                continue
            # the row's clock is the worker's: never count from before this orchestrator sent the step
            ran = min(max(time.time() - row.started_at, 0.0), now - self.submitted[step])
            if ran >= limit:
                late.append(step)
                self.due[step] = now + RECHECK_SECONDS  # if it cannot be stopped yet, it is tried again
            else:
                self.due[step] = now + limit - ran
        return late
