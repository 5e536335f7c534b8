"""Deprecated: the engine moved to ``zenml.engine``; this module forwards its old names for one release."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zenml.utils.deprecation import moved_module as _moved_module

if TYPE_CHECKING:  # what the names resolve to, for type checkers (at run time ``__getattr__`` serves them)
    from zenml.engine import (
        HEARTBEAT_SECONDS,
        BackendChoice,
        BackendChoices,
        backend_spec,
        begin_scheduled_run,
        check_failure_policy,
        compile_pipeline,
        end_scheduled_run,
        execute_run,
        load_spec,
        new_run_id,
        plan_pipeline,
        plan_spec_file,
        replayed_run,
        rerun_spec,
        respec,
        resume_run,
        run_pipeline,
        scheduled_run_id,
        write_spec,
    )
    from zenml.engine import run_worker_step as exec_step

__all__ = [
    "HEARTBEAT_SECONDS",
    "BackendChoice",
    "BackendChoices",
    "backend_spec",
    "begin_scheduled_run",
    "check_failure_policy",
    "compile_pipeline",
    "end_scheduled_run",
    "exec_step",
    "execute_run",
    "load_spec",
    "new_run_id",
    "plan_pipeline",
    "plan_spec_file",
    "replayed_run",
    "rerun_spec",
    "respec",
    "resume_run",
    "run_pipeline",
    "scheduled_run_id",
    "write_spec",
]

#: the old names whose name in ``zenml.engine`` differs (``exec_step`` read like ``runtime.execute_step``)
_RENAMED = {"exec_step": "run_worker_step"}


def __getattr__(name: str) -> Any:
    """The old name from ``zenml.engine``, with a ``DeprecationWarning`` naming the new import."""
    return _moved_module(__name__, "zenml.engine", name, names=__all__, renamed=_RENAMED, said="is deprecated")
