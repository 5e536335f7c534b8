"""Deprecated: moved to ``zenml.history.integrity``.

Each name still resolves here for one release, with a ``DeprecationWarning`` naming its new home.
"""

from __future__ import annotations

from typing import Any

from zenml.history._moved import moved as _moved


def __getattr__(name: str) -> Any:
    return _moved(__name__, "zenml.history.integrity", name)
