"""The keyword options of ``pipeline.run()``/``plan()``, ``run_pipeline``, ``rerun_spec``: typed once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from zenml.backends.base import BaseBackend

if TYPE_CHECKING:
    from zenml.repository import Repository
    from zenml.runtime.events import RunListener

#: a backend as a caller names it: a registry name, a backend object, or ``None`` (the stack's or spec's)
BackendChoice = str | BaseBackend | None


class _StoreOptions(TypedDict, total=False):
    """What every entry point takes: where the history is and how it is used."""

    stack: str | None
    enable_cache: bool
    repository: Repository | None
    data_from: str | None


class PlanOptions(_StoreOptions, total=False):
    """The options of ``pipeline.plan()`` and ``plan_pipeline``.

    Attributes:
        params: ``{step: {param: value}}`` overrides.
        stack: a stack name (default: ``$ZEN_STACK`` or the active stack).
        enable_cache: ``False`` plans every step to run, even when a cached result exists.
        repository: the repository (default: found from the working directory).
        data_from: a recorded run id (or unique prefix) whose data the datasource steps are served from.
    """

    params: Mapping[str, Mapping[str, Any]] | None


class _LaunchOptions(_StoreOptions, total=False):
    """What a run and a rerun both take: where it executes, who listens, what a failure stops."""

    orchestrator: BackendChoice
    processing: BackendChoice
    training: BackendChoice
    backend_options: Mapping[str, Mapping[str, Any]] | None
    listener: RunListener | None
    failure_policy: str | None


class RunOptions(_LaunchOptions, total=False):
    """The options of ``pipeline.run()`` and ``run_pipeline``.

    Attributes:
        orchestrator: a registry name or a backend object (default: the stack's).
        processing: the default processing backend, likewise.
        training: the default training backend, likewise.
        backend_options: ``{kind: {param: value}}`` for the chosen backends.
        params: ``{step: {param: value}}`` overrides.
        stack: a stack name (default: ``$ZEN_STACK`` or the active stack).
        enable_cache: ``False`` runs every step even when a cached result exists.
        listener: receives step events (the CLI's progress display).
        repository: the repository (default: found from the working directory).
        failure_policy: ``stop`` (default: no new step after a failure) or ``continue`` (steps
            that do not depend on a failed one still run).
        data_from: a recorded run id (or unique prefix): the pipeline's datasource steps are
            served from the data that run read (its stored snapshots), not from their sources,
            so new code runs on old data. Steps are matched by name (a single datasource also
            under another name); the run's spec records the pins (``RunSpec.data_from``).
    """

    params: Mapping[str, Mapping[str, Any]] | None


class RerunOptions(_LaunchOptions, total=False):
    """The options of ``rerun_spec`` (``zen run SPEC``) and ``PipelineRun.replay()``.

    Attributes:
        orchestrator: a registry name or a backend object (default: the spec's).
        processing: the default processing backend, likewise.
        training: the default training backend, likewise.
        backend_options: ``{kind: {param: value}}`` for the chosen backends.
        stack: a stack name (default: ``$ZEN_STACK`` or the active stack).
        enable_cache: ``False`` runs every step even when a cached result exists (pinned data
            is still served: it is the run's input, not a cached result).
        listener: receives step events.
        repository: the repository (default: found from the spec's folder).
        failure_policy: ``stop`` or ``continue`` (default: the spec's).
        refresh_data: read every source anew instead of the recorded run's snapshots (``--refresh-data``).
        data_from: serve the datasources from this other run's data instead (``--data-from``).
    """

    refresh_data: bool


#: the order error messages list the options in (the documented one, the old signatures')
_DOCUMENTED_ORDER = (
    "orchestrator", "processing", "training", "backend_options", "params", "stack", "enable_cache", "listener",
    "repository", "failure_policy", "refresh_data", "data_from",
)  # fmt: skip


def option_names(options: type) -> list[str]:
    """The keys of an options ``TypedDict`` (``RunOptions`` …), in the documented order."""
    return sorted(options.__annotations__, key=_DOCUMENTED_ORDER.index)


def refuse_unknown(function: str, options: Mapping[str, Any], accepted: type) -> None:
    """Raise Python's own ``TypeError`` for a keyword ``function`` does not take (its ``**options`` are typed).

    Raises:
        TypeError: ``function() got an unexpected keyword argument 'name'``.
    """
    for name in options:
        if name not in accepted.__annotations__:
            raise TypeError(f"{function}() got an unexpected keyword argument '{name}'")
