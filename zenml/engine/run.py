"""The run lifecycle: record a compiled spec, orchestrate it under a heartbeat, finish or resume it; plan."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Unpack

from zenml.backends.base import BaseBackend
from zenml.backends.orchestrator.base import BaseOrchestrator
from zenml.engine.compile import BackendChoices, compile_pipeline, respec, step_backends
from zenml.engine.options import PlanOptions, RerunOptions, RunOptions, refuse_unknown
from zenml.engine.specs import recorded_run_of, relative_path, write_spec
from zenml.exceptions import BackendError, ConfigError, MetadataStoreError, StepError, ZenMLError
from zenml.history.runs import PipelineRun
from zenml.pipelines.spec import RunSpec, read_recorded_spec
from zenml.repository import Repository
from zenml.runtime.data import check_pins
from zenml.runtime.events import RunListener, StepOutcome
from zenml.runtime.executor import INTERRUPTED, exit_call
from zenml.runtime.loading import load_backend
from zenml.runtime.plan import StepPlan, plan_spec
from zenml.runtime.stores import Stores
from zenml.stack import Stack
from zenml.utils import collector
from zenml.utils.importing import refuse_run_during_import
from zenml.utils.status import HEARTBEAT_SECONDS, SUCCEEDED_STEP, RunStatus, StepStatus

if TYPE_CHECKING:
    from zenml.pipelines.base import BasePipeline

logger = logging.getLogger("zenml")


# -- the entry points ---------------------------------------------------------------------------------


def run_pipeline(pipeline: BasePipeline, **options: Unpack[RunOptions]) -> PipelineRun:
    """Compile ``pipeline``, persist its spec and run it.

    Args:
        pipeline: the pipeline to run.
        **options: see ``RunOptions`` (backends, parameters, stack, cache, listener, failure policy, data).

    Returns:
        The recorded run (status ``completed``, or ``deployed`` when the orchestrator installed
        the pipeline on a schedule instead of running it).

    Raises:
        GraphError, ConfigError: bad input; nothing is recorded.
        MetadataStoreError: ``data_from`` names no recorded run; nothing is recorded.
        StepError: a step failed; the run is recorded ``failed`` (``error.run_id`` says which).
    """
    refuse_unknown("run_pipeline", options, RunOptions)
    refuse_run_during_import()  # `zen run file.py:obj` imports a module that would start its own run
    spec, repository, chosen_stack = compile_pipeline(
        pipeline,
        backends=BackendChoices.from_options(options),
        params=options.get("params"),
        stack=options.get("stack"),
        repository=options.get("repository"),
        failure_policy=options.get("failure_policy"),
        data_from=options.get("data_from"),
    )
    return _execute(spec, repository, chosen_stack, options)


def plan_pipeline(pipeline: BasePipeline, **options: Unpack[PlanOptions]) -> list[StepPlan]:
    """Per step, whether a run would execute it or use the cache, and why; runs and records nothing.

    Args:
        pipeline: the pipeline to plan.
        **options: see ``PlanOptions``.
    """
    refuse_unknown("plan_pipeline", options, PlanOptions)
    spec, repository, chosen_stack = compile_pipeline(
        pipeline,
        params=options.get("params"),
        stack=options.get("stack"),
        repository=options.get("repository"),
        data_from=options.get("data_from"),
    )
    return plan_spec(spec, repository.stores(chosen_stack), use_cache=options.get("enable_cache", True))


def rerun_spec(path: Path, **options: Unpack[RerunOptions]) -> PipelineRun:
    """Execute a stored spec again as a new run: backend flags change where it runs, never what it computes.

    A recorded run's spec (``pipelines/<pipeline>/<run_id>.yaml``) replays on the data that run
    read: each datasource is served from its stored snapshot, even when the source has changed
    or is gone (``zen run SPEC``).

    Args:
        path: the spec file.
        **options: see ``RerunOptions`` (backends default to the spec's, ``refresh_data``, ``data_from`` …).

    Raises:
        ConfigError: bad input, or a snapshot to serve is gone from the artifact store (the
            message offers ``refresh_data``); nothing is recorded.
        StepError: a step failed; the run is recorded ``failed``.
    """
    refuse_unknown("rerun_spec", options, RerunOptions)
    spec, repository, chosen_stack = respec(
        path,
        backends=BackendChoices.from_options(options),
        stack=options.get("stack"),
        repository=options.get("repository"),
        failure_policy=options.get("failure_policy"),
        refresh_data=options.get("refresh_data", False),
        data_from=options.get("data_from"),
    )
    return _execute(spec, repository, chosen_stack, options)


def plan_spec_file(
    path: Path,
    *,
    stack: str | None = None,
    enable_cache: bool = True,
    refresh_data: bool = False,
    data_from: str | None = None,
) -> list[StepPlan]:
    """Plan a stored spec as ``rerun_spec`` would run it."""
    spec, repository, chosen_stack = respec(path, stack=stack, refresh_data=refresh_data, data_from=data_from)
    return plan_spec(spec, repository.stores(chosen_stack), use_cache=enable_cache)


def replayed_run(path: Path, *, stack: str | None = None, repository: Repository | None = None) -> str | None:
    """The recorded run whose stored spec ``path`` is, or ``None`` (a spec no recorded run was launched from)."""
    repository = repository or Repository(path.parent)
    record = recorded_run_of(path, repository, repository.stores(repository.stack(stack)))
    return record.id if record is not None else None


def _execute(spec: RunSpec, repository: Repository, stack: Stack, options: RunOptions | RerunOptions) -> PipelineRun:
    return execute_run(
        spec, repository, stack, listener=options.get("listener"), enable_cache=options.get("enable_cache", True)
    )


# -- recording and executing a run ----------------------------------------------------------------


def record_run(spec: RunSpec, repository: Repository, stores: Stores, *, owned: bool = True) -> Path:
    """Write the spec file and record the run in the metadata store; return the file.

    ``owned``: this process drives the run and refreshes its heartbeat (a scheduled run is driven
    by its scheduler, so it is never reaped as crashed).
    """
    path = write_spec(spec, repository)
    stores.metadata.create_run(
        run_id=spec.run_id,
        pipeline=spec.pipeline.name,
        spec_path=relative_path(path, repository.root),
        spec_sha256=spec.sha256(),
        orchestrator=spec.backends.orchestrator.name,
        created_at=spec.created_at.timestamp(),
        git=spec.git.model_dump() if spec.git else None,
        owned=owned,
    )
    return path


def execute_run(
    spec: RunSpec,
    repository: Repository,
    stack: Stack,
    *,
    listener: RunListener | None = None,
    enable_cache: bool = True,
) -> PipelineRun:
    """Record and orchestrate a compiled spec; finish the run ``completed`` or ``failed``."""
    orchestrator = _orchestrator_of(spec)
    stores = repository.stores(stack)  # an unreachable store fails here, before anything is written
    _preflight(spec, orchestrator, stores)
    if spec.enable_cache != enable_cache:  # the spec records the run's cache choice, for 'zen runs resume'
        spec = RunSpec.model_validate({**spec.model_dump(), "enable_cache": enable_cache})
    path = record_run(spec, repository, stores)
    deployed = orchestrator.deploy(spec, path, stores)
    if deployed is not None:
        # The recorded run is the template each scheduled execution copies into a run of its own.
        stores.metadata.set_run_status(spec.run_id, RunStatus.DEPLOYED)
        logger.info("run %s deployed: %s", spec.run_id, deployed)
        return PipelineRun(stores.metadata.get_run(spec.run_id), stores)
    _orchestrate(orchestrator, spec, stores, listener, enable_cache, done=frozenset())
    # read it back from the stores it ran on (``--stack other`` need not be the active stack)
    return PipelineRun.launched(stores.metadata.get_run(spec.run_id), stores, spec)


def resume_run(
    run_id: str,
    *,
    listener: RunListener | None = None,
    enable_cache: bool | None = None,
    repository: Repository | None = None,
) -> PipelineRun:
    """Finish a failed, crashed or interrupted run: steps that completed are kept, the rest run.

    ``enable_cache``: ``None`` keeps the run's own choice (a run started with ``--no-cache``
    resumes without the cache); ``False`` turns the cache off for the remaining steps.

    Raises:
        MetadataStoreError: no such run.
        ConfigError: the run already completed, is still running in a live process, or its spec
            file was edited since launch.
    """
    repository = repository or Repository()
    stores = repository.stores()
    stores.metadata.reap_dead_runs()
    record = stores.metadata.get_run(run_id)
    if record.status == RunStatus.COMPLETED:
        raise ConfigError(f"run {record.id} already completed; nothing to resume (start a new run with 'zen run')")
    if record.status == RunStatus.RUNNING:
        raise ConfigError(f"run {record.id} is still running (pid {record.pid} on {record.host}); wait or stop it")
    if record.status == RunStatus.DEPLOYED:
        raise ConfigError(f"run {record.id} is a scheduled deployment, not an execution; resume one of its runs")
    spec = read_recorded_spec(record.spec_file(repository.root), record.spec_sha256, record.id)
    done = frozenset(s.name for s in stores.metadata.step_runs(record.id) if s.status in SUCCEEDED_STEP)
    orchestrator = _orchestrator_of(spec)
    _preflight(spec, orchestrator, stores)
    check_pins(spec, stores, done)  # a replay resumes on its pinned data, or not at all
    stores.metadata.set_run_status(record.id, RunStatus.RUNNING)
    use_cache = spec.enable_cache if enable_cache is None else enable_cache
    _orchestrate(orchestrator, spec, stores, listener, use_cache, done=done)
    return repository.run(record.id)


def _orchestrator_of(spec: RunSpec) -> BaseOrchestrator:
    orchestrator = load_backend("orchestrator", spec.backends.orchestrator)
    if not isinstance(orchestrator, BaseOrchestrator):
        raise ConfigError(f"'{spec.backends.orchestrator.type}' is not an orchestrator")
    BaseOrchestrator.execution_order(spec)
    orchestrator.check_spec(spec)
    return orchestrator


def _preflight(spec: RunSpec, orchestrator: BaseOrchestrator, stores: Stores) -> None:
    """Let every backend of the spec refuse these stores before the run is recorded (or resumed)."""
    orchestrator.preflight(stores)
    for kind, backend_spec in step_backends(spec):
        backend = load_backend(kind, backend_spec)
        if isinstance(backend, BaseBackend):
            backend.preflight(stores)


@contextmanager
def _heartbeat(stores: Stores, run_id: str) -> Iterator[None]:
    """Refresh the run's heartbeat while it executes, so a killed run can be told from a live one."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                stores.metadata.heartbeat(run_id)
            except MetadataStoreError as exc:
                # an outage of the store: the steps report it with their own error; the beat goes on
                # so a run that outlives the outage is not later taken for a dead one
                logger.warning("run %s: could not refresh its heartbeat: %s", run_id, exc)

    thread = threading.Thread(target=beat, name=f"zenml-heartbeat-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _orchestrate(
    orchestrator: BaseOrchestrator,
    spec: RunSpec,
    stores: Stores,
    listener: RunListener | None,
    enable_cache: bool,
    done: frozenset[str],
) -> list[StepOutcome]:
    """Run the recorded run's steps and finish it ``completed``, or ``failed`` with what stopped it.

    Raises:
        ZenMLError: whatever stopped the run (a foreign exception wrapped in a ``BackendError``), with
            ``run_id`` set: a run was recorded, so the CLI exits 1 and says how to resume it.
        KeyboardInterrupt: Ctrl-C; the run is recorded failed first.
    """
    # start-up is over (a run may go on for hours, steps elsewhere, this process waiting): a ``zen`` process
    # turns its collector back on; a script's first run freezes what its start-up built
    collector.settle_startup()
    try:
        with _heartbeat(stores, spec.run_id):
            outcomes = orchestrator.run(spec, stores, listener=listener, use_cache=enable_cache, done=done)
        stores.metadata.set_run_status(spec.run_id, RunStatus.COMPLETED)
    except KeyboardInterrupt as interrupt:
        _record_interrupted(stores, spec.run_id)
        interrupt.run_id = spec.run_id  # type: ignore[attr-defined]  # the CLI names the run to resume
        raise
    except BaseException as exc:  # SystemExit too: a recorded run must end in an error that names it
        error = _run_error(exc, spec)
        _record_failed(stores, spec.run_id, error)
        if error is exc:
            raise
        raise error from exc
    return outcomes


# -- how a run that stopped is recorded -----------------------------------------------------------


def _run_error(exc: BaseException, spec: RunSpec) -> ZenMLError:
    """``exc`` as the zenml error that ends a recorded run (foreign exceptions become a ``BackendError``)."""
    if isinstance(exc, ZenMLError):
        return exc
    if isinstance(exc, SystemExit):
        return BackendError(f"the run stopped: {exit_call(exc)} was called outside a step (e.g. by a module imported)")
    orchestrator = spec.backends.orchestrator.name
    return BackendError(f"the {orchestrator} orchestrator failed: {type(exc).__name__}: {str(exc) or repr(exc)}")


def _record_failed(stores: Stores, run_id: str, exc: BaseException) -> None:
    """Record the run ``failed`` because of ``exc``; set ``exc.run_id`` and ``exc.run_status`` for the CLI.

    A metadata store that cannot take the record (full, gone) leaves the run ``running`` until it is
    reaped as ``crashed``; ``exc.run_status`` is then ``None``. Either way ``zen runs resume`` finishes it.
    """
    step = exc.step if isinstance(exc, StepError) else None
    error_type = exc.error_type if isinstance(exc, StepError) else type(exc).__name__
    message = exc.error_message if isinstance(exc, StepError) else str(exc) or "the run was interrupted"
    status: str | None = RunStatus.FAILED.value
    try:
        stores.metadata.set_run_status(
            run_id, RunStatus.FAILED, error_step=step, error_type=error_type, error_message=message
        )
    except MetadataStoreError as store_error:
        status = None
        if not isinstance(exc, MetadataStoreError):  # else the error itself already says what failed
            logger.warning("run %s could not be recorded as failed: %s", run_id, store_error)
    if isinstance(exc, ZenMLError):
        exc.run_id, exc.run_status = run_id, status


def _record_interrupted(stores: Stores, run_id: str) -> None:
    """Record a run stopped by Ctrl-C (SIGINT) as failed, with every step it left ``running``.

    The orchestrator has stopped its workers by now (a step running in this process has recorded
    its own interruption); a step still ``running`` was cut short with its worker, which could not
    record it.
    """
    record = {"error_type": "KeyboardInterrupt", "error_message": INTERRUPTED}
    for step in stores.metadata.step_runs(run_id):
        if step.status == StepStatus.RUNNING:
            stores.metadata.fail_step(step.id, status=StepStatus.FAILED, **record)
    stores.metadata.set_run_status(run_id, RunStatus.FAILED, **record)
