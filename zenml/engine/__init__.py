"""The engine: compile a pipeline or stored spec, record and run it, resume it; the worker and scheduled-run entries."""

from zenml.engine.compile import (
    BackendChoices,
    backend_spec,
    check_failure_policy,
    compile_pipeline,
    new_run_id,
    respec,
)
from zenml.engine.options import BackendChoice, PlanOptions, RerunOptions, RunOptions, option_names
from zenml.engine.run import (
    execute_run,
    plan_pipeline,
    plan_spec_file,
    record_run,
    replayed_run,
    rerun_spec,
    resume_run,
    run_pipeline,
)
from zenml.engine.scheduled import begin_scheduled_run, end_scheduled_run, scheduled_run_id
from zenml.engine.specs import load_spec, write_spec
from zenml.engine.worker import run_worker_step
from zenml.utils.status import HEARTBEAT_SECONDS

__all__ = [
    "HEARTBEAT_SECONDS",
    "BackendChoice",
    "BackendChoices",
    "PlanOptions",
    "RerunOptions",
    "RunOptions",
    "backend_spec",
    "begin_scheduled_run",
    "check_failure_policy",
    "compile_pipeline",
    "end_scheduled_run",
    "execute_run",
    "load_spec",
    "new_run_id",
    "option_names",
    "plan_pipeline",
    "plan_spec_file",
    "record_run",
    "replayed_run",
    "rerun_spec",
    "respec",
    "resume_run",
    "run_pipeline",
    "run_worker_step",
    "scheduled_run_id",
    "write_spec",
]
