"""``Ledger``: an out-of-process orchestrator's account of its steps: waiting, running, finished, the first failure."""

from __future__ import annotations

import time

from zenml.backends.orchestrator.worker import report_skipped, upstream_of
from zenml.pipelines.spec import RunSpec
from zenml.runtime.events import RunListener, StepOutcome


class Ledger:
    """Which steps may start, what finished, and the failure to raise, by the run's failure policy.

    After the first failure no step is ready any more (policy ``stop``), or only steps that do not
    depend on a failed one (``continue``); ``close`` reports the steps never started as skipped and
    raises that first failure.
    """

    def __init__(self, spec: RunSpec, steps: list[str], listener: RunListener) -> None:
        self.spec, self.listener = spec, listener
        self.waiting = {name: upstream_of(spec, name, steps) for name in steps}
        self.began: dict[str, float] = {}
        self.outcomes: list[StepOutcome] = []
        self.failure: BaseException | None = None

    def ready(self) -> list[str]:
        """Steps whose inputs are all done, in dependency order, if the policy lets new steps start."""
        if self.failure is not None and self.spec.failure_policy != "continue":
            return []
        return [name for name, upstream in self.waiting.items() if not upstream]

    def start(self, name: str) -> None:
        """``name`` was sent to a worker."""
        del self.waiting[name]
        self.began[name] = time.perf_counter()
        self.listener.step_started(name)

    def requeue(self, name: str) -> None:
        """``name`` was lost through no fault of its own (its worker was ended for another step): send it again."""
        self.waiting[name] = set()

    def elapsed(self, name: str) -> float:
        """Seconds since ``name`` was sent."""
        return time.perf_counter() - self.began[name]

    def finish(self, outcome: StepOutcome) -> None:
        """``outcome`` is in: report it; its dependents may start if it succeeded (it carries no error)."""
        self.listener.step_finished(outcome)
        self.outcomes.append(outcome)
        if outcome.error is not None:
            self.fail(outcome.error)
            return
        for upstream in self.waiting.values():
            upstream.discard(outcome.name)

    def fail(self, error: BaseException) -> None:
        """Remember the run's first failure (a step's, or an error no step reported)."""
        self.failure = self.failure or error

    def close(self) -> list[StepOutcome]:
        """The outcomes of a run that succeeded.

        Raises:
            BaseException: the first failure, after the steps that never started are reported skipped.
        """
        if self.failure is not None:
            report_skipped(self.waiting, self.listener)
            raise self.failure
        return self.outcomes
