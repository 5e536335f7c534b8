"""Compiling a run: a pipeline, or a stored spec run again, into a checked ``RunSpec`` for a stack and backends."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zenml.backends.base import BaseBackend
from zenml.engine.options import BackendChoice, RerunOptions, RunOptions
from zenml.engine.specs import load_spec, recorded_run_of, stack_spec
from zenml.exceptions import ConfigError
from zenml.pipelines.base import CompileContext
from zenml.pipelines.spec import (
    FAILURE_POLICIES,
    BackendSpec,
    BackendsSpec,
    DataPin,
    FailurePolicy,
    GitSpec,
    RunSpec,
    read_recorded_spec,
)
from zenml.registry import BACKEND_KINDS, name_of_backend, resolve_backend
from zenml.repository import Repository
from zenml.runtime.data import check_pins, check_sources, is_source_step, pins_from_run, replay_data
from zenml.runtime.loading import add_code_paths, load_backend, load_step, remember_backend, remember_definition
from zenml.runtime.stores import Stores
from zenml.stack import Stack
from zenml.utils.names import ZEN_DIR
from zenml.utils.text import with_article

if TYPE_CHECKING:
    from zenml.pipelines.base import BasePipeline

logger = logging.getLogger("zenml")


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

    @classmethod
    def from_options(cls, options: RunOptions | RerunOptions) -> BackendChoices:
        """The backends named by a run's (or rerun's) keyword options."""
        return cls(
            options.get("orchestrator"), options.get("processing"), options.get("training"),
            options.get("backend_options"),
        )  # fmt: skip

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


def git_spec(repository: Repository) -> GitSpec | None:
    """The git state a run records (``None`` outside git, warned about once per repository)."""
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
        stack=stack_spec(chosen_stack),
        project_root=repository.root,
        git=git_spec(repository),
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
            "git": git_spec(repository),
            "stack": stack_spec(chosen_stack),
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


def _spec_to_replay(path: Path, repository: Repository, stores: Stores) -> tuple[RunSpec, str | None]:
    """A spec file to run again, and the recorded run it is the stored spec of (``None``: a new definition).

    A file is a run's stored spec when the metadata store records that run as launched from this
    very file (``<pipelines>/<pipeline>/<run_id>.yaml``); it must be unchanged. A copy elsewhere,
    or a file no recorded run was launched from, is a pipeline definition of its own and runs as it is.
    """
    record = recorded_run_of(path, repository, stores)
    if record is None:
        return load_spec(path), None
    return read_recorded_spec(path, record.spec_sha256, record.id), record.id


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
    for kind, backend in [("orchestrator", spec.backends.orchestrator), *step_backends(spec)]:
        try:
            load_backend(kind, backend)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from exc


def step_backends(spec: RunSpec) -> list[tuple[str, BackendSpec]]:
    """The processing and training backends a spec uses, run-wide and per step, each once."""
    chosen = [("processing", spec.backends.processing), ("training", spec.backends.training)]
    for step_spec in spec.steps.values():
        chosen += [(kind, backend) for kind in ("processing", "training") if (backend := getattr(step_spec, kind))]
    unique: dict[str, tuple[str, BackendSpec]] = {}
    for kind, backend in chosen:
        unique.setdefault(f"{kind}:{backend.model_dump_json()}", (kind, backend))
    return list(unique.values())
