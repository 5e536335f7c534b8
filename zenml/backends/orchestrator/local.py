"""``LocalOrchestrator``: runs steps one after another in this process."""

from __future__ import annotations

from typing import ClassVar

from zenml.backends.orchestrator.base import BaseOrchestrator
from zenml.backends.orchestrator.resources import check_capacity, machine_capacity
from zenml.exceptions import StepError
from zenml.pipelines.spec import RunSpec
from zenml.runtime.events import RunListener, StepOutcome
from zenml.runtime.executor import execute_step
from zenml.runtime.stores import Stores
from zenml.utils.status import StepStatus


class LocalOrchestrator(BaseOrchestrator):
    """In-process, in dependency order.

    With the run's failure policy ``stop`` (the default) the first failing step ends the run;
    with ``continue`` every step that does not depend on a failed one still runs. Resource
    requests are honoured by checking this machine has them (steps run one at a time).
    """

    supported_resources: ClassVar[frozenset[str]] = frozenset({"cpu", "memory", "gpu"})
    isolates_steps: ClassVar[bool] = False

    def check_spec(self, spec: RunSpec) -> None:
        """Refuse a step asking for more CPUs, memory or GPUs than this machine has."""
        super().check_spec(spec)
        check_capacity(spec, machine_capacity(), "this machine")

    def _run(
        self, spec: RunSpec, steps: list[str], stores: Stores, listener: RunListener, use_cache: bool
    ) -> list[StepOutcome]:
        outcomes: list[StepOutcome] = []
        failures: list[StepError] = []
        blocked: set[str] = set()
        for name in steps:
            if failures and spec.failure_policy == "stop":
                break
            if blocked.intersection(spec.steps[name].upstream()):
                blocked.add(name)
                listener.step_finished(StepOutcome(name, StepStatus.SKIPPED.value, 0.0))
                continue
            try:
                outcomes.append(execute_step(spec, name, stores, listener=listener, use_cache=use_cache))
            except StepError as error:
                failures.append(error)
                blocked.add(name)
        if failures:
            raise failures[0]
        return outcomes
