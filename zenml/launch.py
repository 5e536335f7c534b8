"""Launching runs: compile, persist the spec, record the run, hand it to the orchestrator, finish it.

This is the top of the engine, used by ``pipeline.run()``, ``zen run`` and ``zen step exec``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zenml.backends.base import BaseBackend
from zenml.backends.orchestrator.base import BaseOrchestrator
from zenml.exceptions import ConfigError, StepError
from zenml.pipelines.base import CompileContext
from zenml.pipelines.spec import BackendSpec, BackendsSpec, GitSpec, RunSpec, StackSpec
from zenml.registry import BACKEND_KINDS, name_of_backend, resolve_backend
from zenml.repository import ZEN_DIR, Repository
from zenml.runtime.events import RunListener, StepOutcome
from zenml.runtime.executor import execute_step
from zenml.runtime.loading import load_backend, remember_definition
from zenml.stack import Stack
from zenml.utils.redact import redact_url
from zenml.views import PipelineRun

if TYPE_CHECKING:
    from zenml.pipelines.base import BasePipeline

logger = logging.getLogger("zenml")
BackendChoice = str | BaseBackend | None


def new_run_id() -> str:
    """A sortable, unique run id: ``YYYYmmdd-HHMMSS-xxxxxx`` (UTC)."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def backend_spec(kind: str, choice: BackendChoice, stack: Stack, options: Mapping[str, Any] | None) -> BackendSpec:
    """Resolve a backend (a registry name, an instance, or the stack default) to a validated spec.

    Raises:
        ConfigError: an unknown name, or options the backend does not accept.
    """
    if isinstance(choice, BaseBackend):
        if getattr(choice, "backend_kind", None) != kind:
            raise ConfigError(f"{type(choice).__name__} is not a {kind} backend")
        config = choice.to_config()
        config["params"].update(options or {})
        spec = BackendSpec(name=name_of_backend(kind, config["type"]), type=config["type"], params=config["params"])
    else:
        default_name, default_options = stack.backend(kind)
        name = choice or default_name
        params = {**(default_options if choice is None or choice == default_name else {}), **(options or {})}
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

    Returns:
        The recorded run (status ``completed``).

    Raises:
        GraphError, ConfigError: bad input; nothing is recorded.
        StepError: a step failed; the run is recorded ``failed`` (``error.run_id`` says which).
    """
    repository = repository or Repository()
    chosen_stack = repository.stack(stack)
    options = dict(backend_options or {})
    _check_kinds(options)
    choices = {"orchestrator": orchestrator, "processing": processing, "training": training}
    backends = BackendsSpec(
        **{kind: backend_spec(kind, choices[kind], chosen_stack, options.get(kind)) for kind in BACKEND_KINDS}
    )
    context = CompileContext(
        run_id=new_run_id(),
        backends=backends,
        stack=_stack_spec(chosen_stack),
        project_root=repository.root,
        git=_git_spec(repository),
        params=params or {},
    )
    spec = pipeline.compile(context)
    for step in pipeline.steps.values():
        remember_definition(step)
    return execute_run(spec, repository, chosen_stack, listener=listener, enable_cache=enable_cache)


def _check_kinds(options: Mapping[str, Any]) -> None:
    for kind in options:
        if kind not in BACKEND_KINDS:
            raise ConfigError(f"--backend-opt kind '{kind}' is unknown; use one of {', '.join(BACKEND_KINDS)}")


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
) -> PipelineRun:
    """Execute a stored spec again as a new run: same steps and parameters; backends may change."""
    if not path.is_file():
        raise ConfigError(f"spec file '{path}' does not exist")
    old = RunSpec.from_yaml(path.read_text(), str(path))
    repository = repository or Repository(path.parent)
    chosen_stack = repository.stack(stack)
    options = dict(backend_options or {})
    _check_kinds(options)
    choices = {"orchestrator": orchestrator, "processing": processing, "training": training}
    backends = {
        kind: (
            backend_spec(kind, choices[kind], chosen_stack, options.get(kind))
            if choices[kind] is not None or kind in options
            else getattr(old.backends, kind)
        )
        for kind in BACKEND_KINDS
    }
    spec = old.model_copy(
        update={
            "run_id": new_run_id(),
            "created_at": dt.datetime.now(dt.UTC),
            "git": _git_spec(repository),
            "stack": _stack_spec(chosen_stack),
            "backends": BackendsSpec(**backends),
        }
    )
    spec = RunSpec.model_validate(spec.model_dump())
    return execute_run(spec, repository, chosen_stack, listener=listener, enable_cache=enable_cache)


def write_spec(spec: RunSpec, repository: Repository) -> Path:
    """Write the spec once, read-only, to ``<pipelines_dir>/<pipeline>/<run_id>.yaml``."""
    folder = repository.pipelines_dir / spec.pipeline.name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{spec.run_id}.yaml"
    temporary = folder / f".{spec.run_id}.yaml.tmp"
    temporary.write_text(spec.to_yaml())
    temporary.chmod(0o444)
    os.replace(temporary, path)
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
    orchestrator = load_backend("orchestrator", spec.backends.orchestrator)
    assert isinstance(orchestrator, BaseOrchestrator)
    BaseOrchestrator.execution_order(spec)
    stores = repository.stores(stack)  # an unreachable store fails here, before anything is written
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
    _orchestrate(orchestrator, spec, stores, listener, enable_cache, done=frozenset())
    return repository.run(spec.run_id)


def _orchestrate(
    orchestrator: BaseOrchestrator,
    spec: RunSpec,
    stores: Any,
    listener: RunListener | None,
    enable_cache: bool,
    done: frozenset[str],
) -> list[StepOutcome]:
    try:
        outcomes = orchestrator.run(spec, stores, listener=listener, use_cache=enable_cache, done=done)
    except StepError as error:
        stores.metadata.set_run_status(
            spec.run_id, "failed", error_step=error.step, error_type=error.error_type, error_message=error.error_message
        )
        error.run_id = spec.run_id  # type: ignore[attr-defined]
        raise
    except BaseException as exc:
        stores.metadata.set_run_status(
            spec.run_id, "failed", error_type=type(exc).__name__, error_message=str(exc) or repr(exc)
        )
        raise
    stores.metadata.set_run_status(spec.run_id, "completed")
    return outcomes


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path.resolve())


def exec_step(spec_path: Path, step_name: str, *, stack: str | None = None, enable_cache: bool = True) -> StepOutcome:
    """Run one step of a stored spec in this process (the worker entry point, ``zen step exec``).

    Raises:
        ConfigError: the spec is unreadable or the stack's stores differ from the spec's.
        StepError: the step failed (recorded failed).
    """
    if not spec_path.is_file():
        raise ConfigError(f"spec file '{spec_path}' does not exist")
    spec = RunSpec.from_yaml(spec_path.read_text(), str(spec_path))
    repository = Repository(spec_path.parent)
    chosen = repository.stack(stack or spec.stack.name)
    if _stack_spec(chosen) != spec.stack:
        raise ConfigError(
            f"stack '{chosen.name}' here points at {redact_url(chosen.metadata_store)} / "
            f"{redact_url(chosen.artifact_store)}, but run {spec.run_id} uses {spec.stack.metadata_store} / "
            f"{spec.stack.artifact_store}; configure the same stores on this worker (ZEN_* variables)"
        )
    return execute_step(spec, step_name, repository.stores(chosen), use_cache=enable_cache)
