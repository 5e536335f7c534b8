"""Serving: model bundles (``load_bundle``, ``export_bundle``, ``ModelBundle``), imported on first use."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "ModelBundle": "zenml.steps.bundle",
    "load_bundle": "zenml.serving.export",
    "export_bundle": "zenml.serving.export",
}

__all__ = ["ModelBundle", "export_bundle", "load_bundle"]

if TYPE_CHECKING:
    from zenml.serving.export import export_bundle, load_bundle
    from zenml.steps.bundle import ModelBundle


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'zenml.serving' has no attribute '{name}'")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
