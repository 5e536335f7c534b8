"""Scheduled runs (Airflow): each execution of a deployed template is recorded as a run of its own."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from zenml.engine.run import record_run
from zenml.engine.specs import load_spec, open_recorded, spec_path
from zenml.history.runs import PipelineRun
from zenml.pipelines.spec import RunSpec, read_recorded_spec
from zenml.repository import Repository
from zenml.utils.hashing import sha256_text
from zenml.utils.status import SUCCEEDED_STEP, RunStatus


def scheduled_run_id(template_run_id: str, key: str) -> str:
    """The run id of one scheduled execution of a deployed template (``key``: the scheduler's run id)."""
    return f"{template_run_id}-s{sha256_text(key)[:10]}"


def scheduled_spec_path(repository: Repository, template: RunSpec, key: str) -> Path:
    """Where the spec of the execution ``key`` of a deployed ``template`` is written."""
    return spec_path(repository, template.pipeline.name, scheduled_run_id(template.run_id, key))


def begin_scheduled_run(template_path: Path, key: str, *, stack: str | None = None) -> RunSpec:
    """Record a new run copied from a deployed template, for one execution of its schedule.

    Idempotent: a scheduler retrying this task gets the run it already began. The run has no
    owning process (the scheduler drives it), so it is never reaped as crashed;
    ``end_scheduled_run`` gives it its final status.
    """
    template, repository, stores = open_recorded(template_path, stack)
    run_id = scheduled_run_id(template.run_id, key)
    path = scheduled_spec_path(repository, template, key)
    if path.is_file():
        record = stores.metadata.find_run(run_id)
        # no record: a scheduler retrying a task whose first try died between the two writes
        return read_recorded_spec(path, record.spec_sha256, run_id) if record else load_spec(path)
    spec = RunSpec.model_validate(
        template.model_copy(update={"run_id": run_id, "created_at": dt.datetime.now(dt.UTC)}).model_dump()
    )
    record_run(spec, repository, stores, owned=False)
    return spec


def end_scheduled_run(template_path: Path, key: str, *, stack: str | None = None) -> PipelineRun:
    """Finish a scheduled execution: ``completed`` when every step completed or was cached, else ``failed``."""
    template, _, stores = open_recorded(template_path, stack)
    run_id = scheduled_run_id(template.run_id, key)
    records = {record.name: record for record in stores.metadata.step_runs(run_id)}
    unfinished = [
        name for name in template.steps if getattr(records.get(name), "status", None) not in SUCCEEDED_STEP
    ]
    if not unfinished:
        stores.metadata.set_run_status(run_id, RunStatus.COMPLETED)
    else:
        failed = next((records[name] for name in unfinished if name in records), None)
        if failed is not None:
            stores.metadata.set_run_status(
                run_id,
                RunStatus.FAILED,
                error_step=failed.name,
                error_type=failed.error_type or "NotFinished",
                error_message=failed.error_message or f"step '{failed.name}' ended {failed.status}",
            )
        else:
            message = f"steps never ran: {', '.join(unfinished)}"
            stores.metadata.set_run_status(run_id, RunStatus.FAILED, error_type="NotRun", error_message=message)
    return PipelineRun(stores.metadata.get_run(run_id), stores)
