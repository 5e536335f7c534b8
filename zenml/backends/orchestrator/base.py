"""``BaseOrchestrator``: executes a run spec's steps in dependency order through ``execute_step``."""

from __future__ import annotations

import abc
from pathlib import Path
from typing import ClassVar, final

from zenml.backends.base import BaseBackend
from zenml.exceptions import ConfigError
from zenml.pipelines.graph import topological_order
from zenml.pipelines.spec import RunSpec
from zenml.runtime.events import NullListener, RunListener, StepOutcome
from zenml.runtime.stores import Stores


class BaseOrchestrator(BaseBackend, abc.ABC):
    """Decides where and when each step of a spec runs.

    ``run`` is final: it checks the spec's graph and skips steps already finished (resume), then
    calls the subclass's ``_run`` with the steps still to do.

    Examples:
        >>> from zenml.runtime import execute_step
        >>> class SequentialOrchestrator(BaseOrchestrator):
        ...     def _run(self, spec, steps, stores, listener, use_cache):
        ...         return [execute_step(spec, name, stores, listener=listener, use_cache=use_cache)
        ...                 for name in steps]
    """

    backend_kind: ClassVar[str] = "orchestrator"
    #: The resources (``cpu``, ``memory``, ``gpu``) this orchestrator can honour; others are refused.
    supported_resources: ClassVar[frozenset[str]] = frozenset()
    #: Steps run in processes other than the orchestrator's, so a step whose process dies is recorded
    #: as that step's failure and the run goes on by its failure policy. (An in-process orchestrator
    #: dies with such a step; the run is then recorded ``crashed``.)
    isolates_steps: ClassVar[bool] = True

    @final
    def run(
        self,
        spec: RunSpec,
        stores: Stores,
        *,
        listener: RunListener | None = None,
        use_cache: bool = True,
        done: frozenset[str] = frozenset(),
    ) -> list[StepOutcome]:
        """Execute every step of ``spec`` not in ``done``; stop at the first failure (it raises).

        Raises:
            ConfigError: the spec's graph is inconsistent.
            StepError: a step failed.
        """
        order = self.execution_order(spec)
        todo = [name for name in order if name not in done]
        return self._run(spec, todo, stores, listener or NullListener(), use_cache)

    def check_spec(self, spec: RunSpec) -> None:
        """Refuse, before the run is recorded, runtime settings this orchestrator cannot honour.

        The default refuses any resource not in ``supported_resources``; subclasses also check
        amounts (e.g. more CPUs than a worker has).

        Raises:
            ConfigError: a step asks for something this orchestrator cannot provide.
        """
        for name, step in spec.steps.items():
            for resource in step.runtime.resources.requested():
                if resource not in self.supported_resources:
                    supported = ", ".join(sorted(self.supported_resources)) or "none"
                    raise ConfigError(
                        f"step '{name}' asks for resource '{resource}', which the {type(self).__name__} cannot "
                        f"provide (it honours: {supported}); drop the request or choose another orchestrator"
                    )

    def deploy(self, spec: RunSpec, spec_path: Path, stores: Stores) -> str | None:
        """Install ``spec`` on a scheduler instead of running it now; return what was deployed.

        ``None`` (the default) means the orchestrator runs the spec now through ``run``.
        """
        del spec, spec_path, stores
        return None

    @staticmethod
    def execution_order(spec: RunSpec) -> list[str]:
        """The spec's steps in dependency order (checking every input names a step of the spec)."""
        for name, step in spec.steps.items():
            for source in step.upstream():
                if source not in spec.steps:
                    raise ConfigError(f"spec {spec.run_id}: step '{name}' reads from unknown step '{source}'")
        return topological_order({name: step.upstream() for name, step in spec.steps.items()})

    @abc.abstractmethod
    def _run(
        self, spec: RunSpec, steps: list[str], stores: Stores, listener: RunListener, use_cache: bool
    ) -> list[StepOutcome]:
        """Execute ``steps`` (already in a valid order) and return their outcomes."""
