"""Deprecated: step runtime settings moved to ``zenml.steps.options`` (beside, not inside, ``zenml.runtime``)."""

from __future__ import annotations

from typing import Any

from zenml.utils.deprecation import moved_attribute as _moved_attribute

_MOVED = {
    name: f"zenml.steps.options.{name}"
    for name in ("MAX_TIMEOUT", "RESOURCE_NAMES", "ResourcesSpec", "RuntimeSpec", "parse_memory", "runtime_from")
}


def __getattr__(name: str) -> Any:
    return _moved_attribute(__name__, name, _MOVED)
