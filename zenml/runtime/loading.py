"""Rebuild steps and backends from a run spec (``type`` + ``params``), importing only what it names."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from zenml.exceptions import ConfigError
from zenml.pipelines.spec import BackendSpec, RunSpec, StepSpec
from zenml.steps.base import BaseStep
from zenml.steps.function import FunctionStep
from zenml.utils.params import Configurable
from zenml.utils.text import with_article
from zenml.utils.trust import import_trusted, trust_project_folder

#: step definitions seen in this process, so in-process runs never re-import user scripts
_KNOWN_DEFINITIONS: dict[str, Any] = {}


def remember_definition(step: BaseStep) -> None:
    """Note the object a step's ``type`` path refers to (its class or its ``@step`` function)."""
    _KNOWN_DEFINITIONS[step.config_type()] = step if isinstance(step, FunctionStep) else type(step)


def remember_backend(backend: Configurable, type_path: str) -> None:
    """Note the class of a backend object handed to this process (``type_path`` names it in the spec).

    A backend defined in the user's script (``__main__``) is then rebuilt from that class instead of
    re-importing the script by its file name.
    """
    _KNOWN_DEFINITIONS[type_path] = type(backend)


def add_code_paths(spec: RunSpec, project_root: Path) -> None:
    """Put the project folders the spec's step modules come from on ``sys.path``.

    Modules under the project root are the ones a spec's ``type`` may name (see
    ``zenml.utils.trust``); a code path that leads outside the project is refused.

    Raises:
        ConfigError: a code path is absolute or climbs out of the project root.
    """
    for folder in _code_folders(Path(project_root), tuple(spec.code_paths), spec.run_id):
        if folder not in sys.path:
            sys.path.insert(0, folder)


@lru_cache(maxsize=64)
def _code_folders(project_root: Path, code_paths: tuple[str, ...], run_id: str) -> tuple[str, ...]:
    """The folders of ``code_paths``, resolved and checked after trusting the project root.

    Once per run: every step of it asks, and a resolve costs a few ``lstat`` calls per path component.
    """
    root = project_root.resolve()
    trust_project_folder(root)
    folders: list[str] = []
    for relative in code_paths:
        folder = (root / relative).resolve()
        if Path(relative).is_absolute() or not folder.is_relative_to(root):
            raise ConfigError(
                f"run {run_id}: code path '{relative}' is outside the project {root}; "
                "code paths must be folders inside the project, relative to its root"
            )
        folders.append(str(folder))
    return tuple(folders)


def load_step(name: str, spec: StepSpec) -> BaseStep:
    """Rebuild step ``name`` from its spec.

    Raises:
        ConfigError: the type cannot be imported, is not a step, or its parameters are invalid.
    """
    target = _KNOWN_DEFINITIONS.get(spec.type)
    if target is None:
        target = import_trusted(spec.type, f"step '{name}'")
    try:
        if isinstance(target, FunctionStep):
            return target.clone().set_params(**spec.params)
        if isinstance(target, type) and issubclass(target, BaseStep):
            return BaseStep._build_from(target, spec.type, dict(spec.params))
    except ConfigError as exc:
        raise ConfigError(f"step '{name}': {exc}") from exc
    raise ConfigError(f"step '{name}' has type '{spec.type}', which is not a zenml step class or @step function")


def load_backend(kind: str, spec: BackendSpec, *, check_available: bool = True) -> Configurable:
    """Instantiate a backend from its spec, checking it is a backend of ``kind``.

    ``check_available=False`` checks the parameters only, not that the backend's extra is installed
    (``zen stack register``: the machine registering a stack need not be the one running it).
    """
    target = _KNOWN_DEFINITIONS.get(spec.type) or import_trusted(spec.type, f"{kind} backend '{spec.name}'")
    if not (
        isinstance(target, type) and issubclass(target, Configurable) and getattr(target, "backend_kind", None) == kind
    ):
        raise ConfigError(f"'{spec.type}' is not {with_article(kind)} backend class")
    try:
        backend = target._build_from(target, spec.type, dict(spec.params))
        available = getattr(backend, "check_available", None) if check_available else None
        if available is not None:
            available()
    except ConfigError as exc:
        raise ConfigError(f"{kind} backend '{spec.name}': {exc}") from exc
    return backend


@contextmanager
def forget_definitions() -> Iterator[None]:
    """Within the block, know none of the step and backend classes this process defined.

    A fresh process knows none either, so a spec's types must then be found by import (tests use it to check
    just that); what was known is restored after the block.
    """
    known = dict(_KNOWN_DEFINITIONS)
    _KNOWN_DEFINITIONS.clear()
    try:
        yield
    finally:
        _KNOWN_DEFINITIONS.clear()
        _KNOWN_DEFINITIONS.update(known)
