"""Rebuild steps and backends from a run spec (``type`` + ``params``), importing only what it names."""

from __future__ import annotations

import sys
from typing import Any

from zenml.exceptions import ConfigError
from zenml.pipelines.spec import BackendSpec, RunSpec, StepSpec
from zenml.steps.base import BaseStep
from zenml.steps.function import SimpleStep
from zenml.utils.importing import import_object
from zenml.utils.params import Configurable

#: step definitions seen in this process, so in-process runs never re-import user scripts
_KNOWN_DEFINITIONS: dict[str, Any] = {}


def remember_definition(step: BaseStep) -> None:
    """Note the object a step's ``type`` path refers to (its class or its ``@step`` function)."""
    _KNOWN_DEFINITIONS[step.config_type()] = step if isinstance(step, SimpleStep) else type(step)


def add_code_paths(spec: RunSpec, project_root: Any) -> None:
    """Put the project folders the spec's step modules come from on ``sys.path``."""
    for relative in spec.code_paths:
        folder = str((project_root / relative).resolve())
        if folder not in sys.path:
            sys.path.insert(0, folder)


def load_step(name: str, spec: StepSpec) -> BaseStep:
    """Rebuild step ``name`` from its spec.

    Raises:
        ConfigError: the type cannot be imported, is not a step, or its parameters are invalid.
    """
    target = _KNOWN_DEFINITIONS.get(spec.type)
    if target is None:
        target = import_object(spec.type)
    try:
        if isinstance(target, SimpleStep):
            return target.clone().set_params(**spec.params)
        if isinstance(target, type) and issubclass(target, BaseStep):
            return BaseStep._build_from(target, spec.type, dict(spec.params))
    except ConfigError as exc:
        raise ConfigError(f"step '{name}': {exc}") from exc
    raise ConfigError(f"step '{name}' has type '{spec.type}', which is not a zenml step class or @step function")


def load_backend(kind: str, spec: BackendSpec) -> Configurable:
    """Instantiate a backend from its spec, checking it is a backend of ``kind``."""
    target = import_object(spec.type)
    if not (
        isinstance(target, type) and issubclass(target, Configurable) and getattr(target, "backend_kind", None) == kind
    ):
        raise ConfigError(f"'{spec.type}' is not a {kind} backend class")
    try:
        return target._build_from(target, spec.type, dict(spec.params))
    except ConfigError as exc:
        raise ConfigError(f"{kind} backend '{spec.name}': {exc}") from exc
