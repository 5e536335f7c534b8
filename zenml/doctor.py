"""Deprecated: moved to ``zenml.history.integrity``.

Each name still resolves here for one release, with a ``DeprecationWarning`` naming its new home.
"""

from __future__ import annotations

from typing import Any

from zenml.utils.deprecation import moved_module as _moved_module


def __getattr__(name: str) -> Any:
    return _moved_module(__name__, "zenml.history.integrity", name)
