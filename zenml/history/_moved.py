"""What the old module paths of the read side (``zenml.views``, ``zenml.compare``, ...) forward, with a warning."""

from __future__ import annotations

import importlib
import warnings
from typing import Any


def moved(old: str, new: str, name: str) -> Any:
    """``name`` of module ``new``, for the deprecated module ``old``'s ``__getattr__``, warning that it moved.

    Args:
        old: the deprecated module (its ``__name__``).
        new: the module that holds the names now.
        name: the attribute asked for.

    Returns:
        The object ``new`` holds under ``name``.

    Raises:
        AttributeError: ``new`` has no such name (dunder names are never forwarded, so ``__all__``
            and friends answer as for a module without them).
    """
    if name.startswith("__"):
        raise AttributeError(f"module '{old}' has no attribute '{name}'")
    try:
        value = getattr(importlib.import_module(new), name)
    except AttributeError:
        raise AttributeError(f"module '{old}' has no attribute '{name}' (it moved to '{new}')") from None
    warnings.warn(
        f"{old} moved to {new}; import {name} from {new} ({old} will be removed in the next release)",
        DeprecationWarning,
        stacklevel=3,  # the line that used the old path, behind our caller's module __getattr__
    )
    return value
