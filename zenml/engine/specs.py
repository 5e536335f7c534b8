"""Spec files on disk: writing and reading them, and finding the recorded run a spec file belongs to."""

from __future__ import annotations

import os
from pathlib import Path

from zenml.exceptions import ConfigError
from zenml.metadata.records import RunRecord
from zenml.pipelines.spec import RunSpec, StackSpec, check_run_id, read_recorded_spec
from zenml.repository import Repository
from zenml.runtime.stores import Stores
from zenml.stack import Stack
from zenml.utils.redact import redact_url


def stack_spec(stack: Stack) -> StackSpec:
    """The stack as a spec records it (store URLs without credentials)."""
    return StackSpec(
        name=stack.name,
        artifact_store=redact_url(stack.artifact_store),
        metadata_store=redact_url(stack.metadata_store),
    )


def spec_path(repository: Repository, pipeline: str, run_id: str) -> Path:
    """Where the spec of run ``run_id`` of ``pipeline`` is written: ``<pipelines_dir>/<pipeline>/<run_id>.yaml``."""
    return repository.pipelines_dir / pipeline / f"{check_run_id(run_id)}.yaml"


def write_spec(spec: RunSpec, repository: Repository) -> Path:
    """Write the spec once, read-only, to ``<pipelines_dir>/<pipeline>/<run_id>.yaml``."""
    path = spec_path(repository, spec.pipeline.name, spec.run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".{spec.run_id}.yaml.tmp"
    temporary.write_text(spec.to_yaml())
    temporary.chmod(0o444)
    os.replace(temporary, path)
    return path


def load_spec(path: Path) -> RunSpec:
    """Read a spec file without checking it against a recorded run (see ``read_recorded_spec``).

    Raises:
        ConfigError: missing or invalid.
    """
    if not path.is_file():
        raise ConfigError(f"spec file '{path}' does not exist")
    return RunSpec.from_yaml(path.read_text(), str(path))


def relative_path(path: Path, root: Path) -> str:
    """``path`` relative to the project ``root`` as a run records it (absolute when it is outside)."""
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path.resolve())


def recorded_run_of(path: Path, repository: Repository, stores: Stores) -> RunRecord | None:
    """The recorded run launched from this very spec file, or ``None`` (a copy, or a spec never launched)."""
    record = stores.metadata.find_run(path.stem)
    if record is None or record.spec_file(repository.root).resolve() != path.resolve():
        return None
    return record


def open_recorded(path: Path, stack: str | None) -> tuple[RunSpec, Repository, Stores]:
    """A recorded run's stored spec (checked against the sha256 recorded at launch) and its stores.

    Raises:
        ConfigError: the file is invalid, its run is not recorded in the stack's metadata store,
            the file was edited since launch, or the stack's stores differ from the spec's.
    """
    unchecked = load_spec(path)  # its run id and stack say where the record is
    repository = Repository(path.parent)
    stores = _stores_of_spec(unchecked, repository, stack)
    record = stores.metadata.find_run(check_run_id(unchecked.run_id))
    if record is None:
        raise ConfigError(
            f"run {unchecked.run_id} of '{path}' is not recorded in this metadata store; "
            f"start the spec as a new run with 'zen run {path}'"
        )
    return read_recorded_spec(path, record.spec_sha256, record.id), repository, stores


def _stores_of_spec(spec: RunSpec, repository: Repository, stack: str | None) -> Stores:
    """The stores of ``stack`` (default: the spec's), refused when they are not the ones the spec records."""
    chosen = repository.stack(stack or spec.stack.name)
    if stack_spec(chosen) != spec.stack:
        raise ConfigError(
            f"stack '{chosen.name}' here points at {redact_url(chosen.metadata_store)} / "
            f"{redact_url(chosen.artifact_store)}, but run {spec.run_id} uses {spec.stack.metadata_store} / "
            f"{spec.stack.artifact_store}; configure the same stores on this worker (ZEN_* variables)"
        )
    return repository.stores(chosen)
