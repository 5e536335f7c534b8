"""``LocalOrchestrator``: runs steps one after another in this process."""

from __future__ import annotations

from zenml.backends.orchestrator.base import BaseOrchestrator
from zenml.pipelines.spec import RunSpec
from zenml.runtime.events import RunListener, StepOutcome
from zenml.runtime.executor import execute_step
from zenml.runtime.stores import Stores


class LocalOrchestrator(BaseOrchestrator):
    """In-process, in dependency order; the first failing step stops the run."""

    def _run(
        self, spec: RunSpec, steps: list[str], stores: Stores, listener: RunListener, use_cache: bool
    ) -> list[StepOutcome]:
        return [execute_step(spec, name, stores, listener=listener, use_cache=use_cache) for name in steps]
