"""Launching runs: compile, persist the spec, record the run, orchestrate it, finish it; plan; resume.

This is the top of the engine, used by ``pipeline.run()``/``plan()``, ``zen run``, ``zen plan``,
``zen runs resume`` and ``zen step exec``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zenml.backends.base import BaseBackend
from zenml.backends.orchestrator.base import BaseOrchestrator
from zenml.exceptions import BackendError, ConfigError, MetadataStoreError, StepError, ZenMLError
from zenml.history.runs import PipelineRun
from zenml.metadata.records import RunRecord
from zenml.pipelines.base import CompileContext
from zenml.pipelines.spec import (
    FAILURE_POLICIES,
    BackendSpec,
    BackendsSpec,
    DataPin,
    FailurePolicy,
    GitSpec,
    RunSpec,
    StackSpec,
    check_run_id,
    read_recorded_spec,
)
from zenml.registry import BACKEND_KINDS, name_of_backend, resolve_backend
from zenml.repository import Repository
from zenml.runtime.data import check_pins, check_sources, is_source_step, pins_from_run, replay_data
from zenml.runtime.events import RunListener, StepOutcome
from zenml.runtime.executor import INTERRUPTED, execute_step, exit_call
from zenml.runtime.loading import add_code_paths, load_backend, load_step, remember_backend, remember_definition
from zenml.runtime.plan import StepPlan, plan_spec
from zenml.runtime.stores import Stores
from zenml.stack import Stack
from zenml.utils import collector
from zenml.utils.hashing import sha256_text
from zenml.utils.importing import refuse_run_during_import
from zenml.utils.names import ZEN_DIR
from zenml.utils.redact import redact_url
from zenml.utils.text import with_article

if TYPE_CHECKING:
    from zenml.pipelines.base import BasePipeline

logger = logging.getLogger("zenml")
BackendChoice = str | BaseBackend | None
HEARTBEAT_SECONDS = 10.0


def new_run_id() -> str:
    """A sortable, unique run id: ``YYYYmmdd-HHMMSS-xxxxxxxx`` (UTC)."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class BackendChoices:
    """The backends a caller asked for (names or objects; ``None`` = the stack's) and their options."""

    orchestrator: BackendChoice = None
    processing: BackendChoice = None
    training: BackendChoice = None
    options: Mapping[str, Mapping[str, Any]] | None = None

    def resolve(self, stack: Stack, previous: BackendsSpec | None = None) -> BackendsSpec:
        """Backend specs for a run; with ``previous``, kinds not asked for keep the previous choice."""
        options = dict(self.options or {})
        for kind in options:
            if kind not in BACKEND_KINDS:
                raise ConfigError(f"--backend-opt kind '{kind}' is unknown; use one of {', '.join(BACKEND_KINDS)}")
        specs = {}
        for kind in BACKEND_KINDS:
            choice = getattr(self, kind)
            if previous is not None and choice is None and kind not in options:
                specs[kind] = getattr(previous, kind)
            else:
                specs[kind] = backend_spec(kind, choice, stack, options.get(kind))
        return BackendsSpec(**specs)


def backend_spec(kind: str, choice: BackendChoice, stack: Stack, options: Mapping[str, Any] | None) -> BackendSpec:
    """Resolve a backend (a registry name, an instance, or the stack default) to a validated spec.

    Raises:
        ConfigError: an unknown name, or options the backend does not accept.
    """
    if isinstance(choice, BaseBackend):
        if getattr(choice, "backend_kind", None) != kind:
            raise ConfigError(f"{type(choice).__name__} is not {with_article(kind)} backend")
        config = choice.to_config()
        config["params"].update(options or {})
        spec = BackendSpec(name=name_of_backend(kind, config["type"]), type=config["type"], params=config["params"])
        remember_backend(choice, config["type"])
    else:
        default_name, default_options = stack.backend(kind)
        name = choice or default_name
        params = {**(default_options if name == default_name else {}), **(options or {})}
        spec = BackendSpec(name=name, type=resolve_backend(kind, name), params=params)
    load_backend(kind, spec)  # validate the parameters now, before anything is recorded
    return spec


def _stack_spec(stack: Stack) -> StackSpec:
    return StackSpec(
        name=stack.name,
        artifact_store=redact_url(stack.artifact_store),
        metadata_store=redact_url(stack.metadata_store),
    )


def _git_spec(repository: Repository) -> GitSpec | None:
    info = repository.git_info()
    if info is None:
        marker = repository.root / ZEN_DIR / "no-git-warned"
        if not marker.exists():
            logger.warning("%s is not inside a git repository: runs record no commit", repository.root)
            marker.touch()
        return None
    return GitSpec(commit=info.commit, dirty=info.dirty, diff_sha256=info.diff_sha256)


def check_failure_policy(policy: str) -> FailurePolicy:
    """``stop`` or ``continue``, else a ``ConfigError`` naming both."""
    if policy not in FAILURE_POLICIES:
        raise ConfigError(f"failure policy '{policy}' is unknown; use one of {', '.join(FAILURE_POLICIES)}")
    return policy  # type: ignore[return-value]


def compile_pipeline(
    pipeline: BasePipeline,
    *,
    backends: BackendChoices | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    stack: str | None = None,
    repository: Repository | None = None,
    failure_policy: str | None = None,
    data_from: str | None = None,
) -> tuple[RunSpec, Repository, Stack]:
    """Validate and compile ``pipeline`` into a run spec for the chosen stack and backends.

    ``data_from``: a recorded run whose data the pipeline's source steps are served from.

    Raises:
        GraphError, ConfigError: the pipeline, a parameter, the stack or a backend is invalid, or
            ``data_from`` has no data for the pipeline's source steps (or its snapshot is gone).
        MetadataStoreError: ``data_from`` names no recorded run.
    """
    repository = repository or Repository()
    chosen_stack = repository.stack(stack)
    pins: dict[str, DataPin] = {}
    if data_from is not None:
        stores = repository.stores(chosen_stack)
        sources = [name for name, step in pipeline.steps.items() if is_source_step(step)]
        pins = pins_from_run(stores, data_from, sources)
    context = CompileContext(
        run_id=new_run_id(),
        backends=(backends or BackendChoices()).resolve(chosen_stack),
        stack=_stack_spec(chosen_stack),
        project_root=repository.root,
        git=_git_spec(repository),
        params=params or {},
        failure_policy=check_failure_policy(failure_policy or "stop"),
        data_from=pins,
    )
    spec = pipeline.compile(context)
    if pins:
        check_pins(spec, repository.stores(chosen_stack))
    for step in pipeline.steps.values():
        remember_definition(step)
    return spec, repository, chosen_stack


def run_pipeline(
    pipeline: BasePipeline,
    *,
    orchestrator: BackendChoice = None,
    processing: BackendChoice = None,
    training: BackendChoice = None,
    backend_options: Mapping[str, Mapping[str, Any]] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    stack: str | None = None,
    enable_cache: bool = True,
    listener: RunListener | None = None,
    repository: Repository | None = None,
    failure_policy: str | None = None,
    data_from: str | None = None,
) -> PipelineRun:
    """Compile ``pipeline``, persist its spec and run it.

    Args:
        pipeline: the pipeline to run.
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

    Returns:
        The recorded run (status ``completed``, or ``deployed`` when the orchestrator installed
        the pipeline on a schedule instead of running it).

    Raises:
        GraphError, ConfigError: bad input; nothing is recorded.
        MetadataStoreError: ``data_from`` names no recorded run; nothing is recorded.
        StepError: a step failed; the run is recorded ``failed`` (``error.run_id`` says which).
    """
    refuse_run_during_import()  # `zen run file.py:obj` imports a module that would start its own run
    choices = BackendChoices(orchestrator, processing, training, backend_options)
    spec, repository, chosen_stack = compile_pipeline(
        pipeline,
        backends=choices,
        params=params,
        stack=stack,
        repository=repository,
        failure_policy=failure_policy,
        data_from=data_from,
    )
    return execute_run(spec, repository, chosen_stack, listener=listener, enable_cache=enable_cache)


def plan_pipeline(
    pipeline: BasePipeline,
    *,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    stack: str | None = None,
    enable_cache: bool = True,
    repository: Repository | None = None,
    data_from: str | None = None,
) -> list[StepPlan]:
    """Per step, whether a run would execute it or use the cache, and why; runs and records nothing."""
    spec, repository, chosen_stack = compile_pipeline(
        pipeline, params=params, stack=stack, repository=repository, data_from=data_from
    )
    return plan_spec(spec, repository.stores(chosen_stack), use_cache=enable_cache)


def load_spec(path: Path) -> RunSpec:
    """Read a spec file without checking it against a recorded run (see ``read_recorded_spec``).

    Raises:
        ConfigError: missing or invalid.
    """
    if not path.is_file():
        raise ConfigError(f"spec file '{path}' does not exist")
    return RunSpec.from_yaml(path.read_text(), str(path))


def _spec_to_replay(path: Path, repository: Repository, stores: Stores) -> tuple[RunSpec, str | None]:
    """A spec file to run again, and the recorded run it is the stored spec of (``None``: a new definition).

    A file is a run's stored spec when the metadata store records that run as launched from this
    very file (``<pipelines>/<pipeline>/<run_id>.yaml``); it must be unchanged. A copy elsewhere,
    or a file no recorded run was launched from, is a pipeline definition of its own and runs as it is.
    """
    record = _recorded_run_of(path, repository, stores)
    if record is None:
        return load_spec(path), None
    return read_recorded_spec(path, record.spec_sha256, record.id), record.id


def _recorded_run_of(path: Path, repository: Repository, stores: Stores) -> RunRecord | None:
    record = stores.metadata.find_run(path.stem)
    if record is None or record.spec_file(repository.root).resolve() != path.resolve():
        return None
    return record


def replayed_run(path: Path, *, stack: str | None = None, repository: Repository | None = None) -> str | None:
    """The recorded run whose stored spec ``path`` is, or ``None`` (a spec no recorded run was launched from)."""
    repository = repository or Repository(path.parent)
    record = _recorded_run_of(path, repository, repository.stores(repository.stack(stack)))
    return record.id if record is not None else None


def respec(
    path: Path,
    *,
    backends: BackendChoices | None = None,
    stack: str | None = None,
    repository: Repository | None = None,
    failure_policy: str | None = None,
    refresh_data: bool = False,
    data_from: str | None = None,
) -> tuple[RunSpec, Repository, Stack]:
    """A stored spec as a new run: same steps and parameters; new id, time, git state; backends may change.

    A recorded run's spec replays on the data that run read: each source step it recorded is
    pinned to its snapshot (``refresh_data``: read the sources anew; ``data_from``: another run's data).

    Raises:
        ConfigError: the file is missing or invalid, is a recorded run's spec edited since launch,
            or a pinned snapshot is gone from the artifact store (then ``refresh_data`` reads anew).
    """
    if not path.is_file():
        raise ConfigError(f"spec file '{path}' does not exist")
    repository = repository or Repository(path.parent)
    chosen_stack = repository.stack(stack)
    stores = repository.stores(chosen_stack)
    old, recorded = _spec_to_replay(path, repository, stores)
    pins = replay_data(old, recorded, stores, refresh_data=refresh_data, data_from=data_from)
    new_backends = (backends or BackendChoices()).resolve(chosen_stack, previous=old.backends)
    spec = old.model_copy(
        update={
            "run_id": new_run_id(),
            "created_at": dt.datetime.now(dt.UTC),
            "git": _git_spec(repository),
            "stack": _stack_spec(chosen_stack),
            "backends": new_backends,
            "failure_policy": check_failure_policy(failure_policy or old.failure_policy),
            "data_from": pins,
        }
    )
    _check_steps(old, repository.root, str(path))
    _check_backends(spec, str(path))
    spec = RunSpec.model_validate(spec.model_dump())
    check_sources(spec, str(path))
    check_pins(spec, stores)
    return spec, repository, chosen_stack


def _check_steps(spec: RunSpec, project_root: Path, source: str) -> None:
    """Rebuild every step of a stored spec now, so an unknown type or parameter fails before recording."""
    add_code_paths(spec, project_root)
    for name, step_spec in spec.steps.items():
        try:
            load_step(name, step_spec)
        except ConfigError as exc:
            message = str(exc) if str(exc).startswith(f"step '{name}'") else f"step '{name}': {exc}"
            raise ConfigError(f"{source}: {message}") from exc


def _check_backends(spec: RunSpec, source: str) -> None:
    """Rebuild every backend a stored spec keeps (run-wide and per step), so a bad type fails before recording."""
    for kind, backend in [("orchestrator", spec.backends.orchestrator), *_step_backends(spec)]:
        try:
            load_backend(kind, backend)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from exc


def rerun_spec(
    path: Path,
    *,
    orchestrator: BackendChoice = None,
    processing: BackendChoice = None,
    training: BackendChoice = None,
    backend_options: Mapping[str, Mapping[str, Any]] | None = None,
    stack: str | None = None,
    enable_cache: bool = True,
    listener: RunListener | None = None,
    repository: Repository | None = None,
    failure_policy: str | None = None,
    refresh_data: bool = False,
    data_from: str | None = None,
) -> PipelineRun:
    """Execute a stored spec again as a new run: backend flags change where it runs, never what it computes.

    A recorded run's spec (``pipelines/<pipeline>/<run_id>.yaml``) replays on the data that run
    read: each datasource is served from its stored snapshot, even when the source has changed
    or is gone (``zen run SPEC``).

    Args:
        path: the spec file.
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
        refresh_data: read every source anew instead (``--refresh-data``).
        data_from: serve the datasources from this other run's data instead (``--data-from``).

    Raises:
        ConfigError: bad input, or a snapshot to serve is gone from the artifact store (the
            message offers ``refresh_data``); nothing is recorded.
        StepError: a step failed; the run is recorded ``failed``.
    """
    choices = BackendChoices(orchestrator, processing, training, backend_options)
    spec, repository, chosen_stack = respec(
        path,
        backends=choices,
        stack=stack,
        repository=repository,
        failure_policy=failure_policy,
        refresh_data=refresh_data,
        data_from=data_from,
    )
    return execute_run(spec, repository, chosen_stack, listener=listener, enable_cache=enable_cache)


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


def write_spec(spec: RunSpec, repository: Repository) -> Path:
    """Write the spec once, read-only, to ``<pipelines_dir>/<pipeline>/<run_id>.yaml``."""
    folder = repository.pipelines_dir / spec.pipeline.name
    path = folder / f"{check_run_id(spec.run_id)}.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{spec.run_id}.yaml.tmp"
    temporary.write_text(spec.to_yaml())
    temporary.chmod(0o444)
    os.replace(temporary, path)
    return path


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
    for kind, backend_spec in _step_backends(spec):
        backend = load_backend(kind, backend_spec)
        if isinstance(backend, BaseBackend):
            backend.preflight(stores)


def _step_backends(spec: RunSpec) -> list[tuple[str, BackendSpec]]:
    """The processing and training backends a spec uses, run-wide and per step, each once."""
    chosen = [("processing", spec.backends.processing), ("training", spec.backends.training)]
    for step_spec in spec.steps.values():
        chosen += [(kind, backend) for kind in ("processing", "training") if (backend := getattr(step_spec, kind))]
    unique: dict[str, tuple[str, BackendSpec]] = {}
    for kind, backend in chosen:
        unique.setdefault(f"{kind}:{backend.model_dump_json()}", (kind, backend))
    return list(unique.values())


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
    path = write_spec(spec, repository)
    stores.metadata.create_run(
        run_id=spec.run_id,
        pipeline=spec.pipeline.name,
        spec_path=_relative(path, repository.root),
        spec_sha256=spec.sha256(),
        orchestrator=spec.backends.orchestrator.name,
        created_at=spec.created_at.timestamp(),
        git=spec.git.model_dump() if spec.git else None,
    )
    deployed = orchestrator.deploy(spec, path, stores)
    if deployed is not None:
        # The recorded run is the template each scheduled execution copies into a run of its own.
        stores.metadata.set_run_status(spec.run_id, "deployed")
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
    if record.status == "completed":
        raise ConfigError(f"run {record.id} already completed; nothing to resume (start a new run with 'zen run')")
    if record.status == "running":
        raise ConfigError(f"run {record.id} is still running (pid {record.pid} on {record.host}); wait or stop it")
    if record.status == "deployed":
        raise ConfigError(f"run {record.id} is a scheduled deployment, not an execution; resume one of its runs")
    spec = read_recorded_spec(record.spec_file(repository.root), record.spec_sha256, record.id)
    done = frozenset(s.name for s in stores.metadata.step_runs(record.id) if s.status in ("completed", "cached"))
    orchestrator = _orchestrator_of(spec)
    _preflight(spec, orchestrator, stores)
    check_pins(spec, stores, done)  # a replay resumes on its pinned data, or not at all
    stores.metadata.set_run_status(record.id, "running")
    use_cache = spec.enable_cache if enable_cache is None else enable_cache
    _orchestrate(orchestrator, spec, stores, listener, use_cache, done=done)
    return repository.run(record.id)


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
    collector.resume()  # start-up is over; a run may go on for hours (steps elsewhere, this process waiting)
    try:
        with _heartbeat(stores, spec.run_id):
            outcomes = orchestrator.run(spec, stores, listener=listener, use_cache=enable_cache, done=done)
        stores.metadata.set_run_status(spec.run_id, "completed")
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
    status: str | None = "failed"
    try:
        stores.metadata.set_run_status(run_id, "failed", error_step=step, error_type=error_type, error_message=message)
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
        if step.status == "running":
            stores.metadata.fail_step(step.id, status="failed", **record)
    stores.metadata.set_run_status(run_id, "failed", **record)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path.resolve())


def exec_step(
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
        template, repository, _ = _open_recorded(spec_path, stack)
        spec_path = _spec_path(repository, template.pipeline.name, scheduled_run_id(template.run_id, scheduled_run))
    spec, _, stores = _open_recorded(spec_path, stack)
    for record in stores.metadata.step_runs(spec.run_id):
        if record.name == step_name and record.status in ("completed", "cached"):
            # a retried worker: the step is already done, and redoing it would overwrite its record
            return StepOutcome(step_name, record.status, 0.0)
    return execute_step(spec, step_name, stores, use_cache=enable_cache, single_attempt=single_attempt)


def _worker_stores(spec: RunSpec, repository: Repository, stack: str | None) -> Stores:
    chosen = repository.stack(stack or spec.stack.name)
    if _stack_spec(chosen) != spec.stack:
        raise ConfigError(
            f"stack '{chosen.name}' here points at {redact_url(chosen.metadata_store)} / "
            f"{redact_url(chosen.artifact_store)}, but run {spec.run_id} uses {spec.stack.metadata_store} / "
            f"{spec.stack.artifact_store}; configure the same stores on this worker (ZEN_* variables)"
        )
    return repository.stores(chosen)


def scheduled_run_id(template_run_id: str, key: str) -> str:
    """The run id of one scheduled execution of a deployed template (``key``: the scheduler's run id)."""
    return f"{template_run_id}-s{sha256_text(key)[:10]}"


def _spec_path(repository: Repository, pipeline: str, run_id: str) -> Path:
    return repository.pipelines_dir / pipeline / f"{check_run_id(run_id)}.yaml"


def _open_recorded(path: Path, stack: str | None) -> tuple[RunSpec, Repository, Stores]:
    """A recorded run's stored spec (checked against the sha256 recorded at launch) and its stores.

    Raises:
        ConfigError: the file is invalid, its run is not recorded in the stack's metadata store,
            the file was edited since launch, or the stack's stores differ from the spec's.
    """
    unchecked = load_spec(path)  # its run id and stack say where the record is
    repository = Repository(path.parent)
    stores = _worker_stores(unchecked, repository, stack)
    record = stores.metadata.find_run(check_run_id(unchecked.run_id))
    if record is None:
        raise ConfigError(
            f"run {unchecked.run_id} of '{path}' is not recorded in this metadata store; "
            f"start the spec as a new run with 'zen run {path}'"
        )
    return read_recorded_spec(path, record.spec_sha256, record.id), repository, stores


def begin_scheduled_run(template_path: Path, key: str, *, stack: str | None = None) -> RunSpec:
    """Record a new run copied from a deployed template, for one execution of its schedule.

    Idempotent: a scheduler retrying this task gets the run it already began. The run has no
    owning process (the scheduler drives it), so it is never reaped as crashed;
    ``end_scheduled_run`` gives it its final status.
    """
    template, repository, stores = _open_recorded(template_path, stack)
    run_id = scheduled_run_id(template.run_id, key)
    path = _spec_path(repository, template.pipeline.name, run_id)
    if path.is_file():
        record = stores.metadata.find_run(run_id)
        # no record: a scheduler retrying a task whose first try died between the two writes
        return read_recorded_spec(path, record.spec_sha256, run_id) if record else load_spec(path)
    spec = RunSpec.model_validate(
        template.model_copy(update={"run_id": run_id, "created_at": dt.datetime.now(dt.UTC)}).model_dump()
    )
    path = write_spec(spec, repository)
    stores.metadata.create_run(
        run_id=spec.run_id,
        pipeline=spec.pipeline.name,
        spec_path=_relative(path, repository.root),
        spec_sha256=spec.sha256(),
        orchestrator=spec.backends.orchestrator.name,
        created_at=spec.created_at.timestamp(),
        git=spec.git.model_dump() if spec.git else None,
        owned=False,
    )
    return spec


def end_scheduled_run(template_path: Path, key: str, *, stack: str | None = None) -> PipelineRun:
    """Finish a scheduled execution: ``completed`` when every step completed or was cached, else ``failed``."""
    template, _, stores = _open_recorded(template_path, stack)
    run_id = scheduled_run_id(template.run_id, key)
    records = {record.name: record for record in stores.metadata.step_runs(run_id)}
    unfinished = [
        name for name in template.steps if getattr(records.get(name), "status", None) not in ("completed", "cached")
    ]
    if not unfinished:
        stores.metadata.set_run_status(run_id, "completed")
    else:
        failed = next((records[name] for name in unfinished if name in records), None)
        if failed is not None:
            stores.metadata.set_run_status(
                run_id,
                "failed",
                error_step=failed.name,
                error_type=failed.error_type or "NotFinished",
                error_message=failed.error_message or f"step '{failed.name}' ended {failed.status}",
            )
        else:
            message = f"steps never ran: {', '.join(unfinished)}"
            stores.metadata.set_run_status(run_id, "failed", error_type="NotRun", error_message=message)
    return PipelineRun(stores.metadata.get_run(run_id), stores)
