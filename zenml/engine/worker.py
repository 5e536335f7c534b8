"""The worker entry: run one step of a recorded run's stored spec in this process (``zen step exec``)."""

from __future__ import annotations

from pathlib import Path

from zenml.engine.scheduled import scheduled_spec_path
from zenml.engine.specs import open_recorded
from zenml.runtime.events import StepOutcome
from zenml.runtime.executor import execute_step
from zenml.utils.status import SUCCEEDED_STEP


def run_worker_step(
    spec_path: Path,
    step_name: str,
    *,
    stack: str | None = None,
    enable_cache: bool = True,
    single_attempt: bool = False,
    scheduled_run: str | None = None,
) -> StepOutcome:
    """Run one step of a stored spec in this process (the worker entry point, ``zen step exec``).

    ``single_attempt``: make one attempt whatever the step's ``retries`` (the caller retries).
    ``scheduled_run``: ``spec_path`` is a deployed template and this key (Airflow's run id) names
    the execution begun by ``begin_scheduled_run``.

    Raises:
        ConfigError: the spec is unreadable, not a recorded run's, edited since launch, or the
            stack's stores differ from the spec's.
        StepError: the step failed (recorded failed).
    """
    if scheduled_run is not None:
        template, repository, _ = open_recorded(spec_path, stack)
        spec_path = scheduled_spec_path(repository, template, scheduled_run)
    spec, _, stores = open_recorded(spec_path, stack)
    for record in stores.metadata.step_runs(spec.run_id):
        if record.name == step_name and record.status in SUCCEEDED_STEP:
            # a retried worker: the step is already done, and redoing it would overwrite its record
            return StepOutcome(step_name, record.status, 0.0)
    return execute_step(spec, step_name, stores, use_cache=enable_cache, single_attempt=single_attempt)
