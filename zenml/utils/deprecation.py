"""Old import paths kept for one release: a module ``__getattr__`` serves them with a warning naming the new one.

Two shapes of shim, one helper each, one wording: a module whose names moved one by one (or were
renamed) calls ``moved_attribute``; a module that moved as a whole calls ``moved_module``.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Collection, Mapping
from typing import Any

#: how far up the stack a warning points: the code that used the old name, above the module's ``__getattr__``
_CALLER = 3


def moved_attribute(module: str, name: str, moves: Mapping[str, str]) -> Any:
    """The object an old ``module.name`` now lives at, after a ``DeprecationWarning`` naming its new path.

    Call it from the old module's ``__getattr__`` (so importing that module stays cheap and only a use
    of an old name warns)::

        def __getattr__(name: str) -> Any:
            return moved_attribute(__name__, name, {"SimpleStep": "zenml.steps.function.FunctionStep"})

    Args:
        module: the old module's name (``__name__``).
        name: the attribute asked for.
        moves: old name → new dotted path.

    Raises:
        AttributeError: ``name`` is not one of the moved names (as for any missing attribute).
    """
    target = moves.get(name)
    if target is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    new_module, _, new_name = target.rpartition(".")
    warnings.warn(
        f"{module}.{name} is deprecated: use {target} instead (the old name goes in the next release)",
        DeprecationWarning,
        stacklevel=_CALLER,
    )
    return getattr(importlib.import_module(new_module), new_name)


def moved_module(
    old: str,
    new: str,
    name: str,
    *,
    names: Collection[str] | None = None,
    renamed: Mapping[str, str] | None = None,
    said: str | None = None,
) -> Any:
    """``name`` of module ``new``, for the deprecated module ``old``'s ``__getattr__``, warning that it moved.

    ::

        def __getattr__(name: str) -> Any:
            return moved_module(__name__, "zenml.history.runs", name)

    Args:
        old: the deprecated module (its ``__name__``).
        new: the module that holds the names now.
        name: the attribute asked for.
        names: the only names ``old`` serves (default: any name ``new`` has).
        renamed: old name → its name in ``new``, for names that changed as they moved.
        said: what the warning says of ``old`` (default ``moved to NEW``).

    Returns:
        The object ``new`` holds under ``name`` (or its new name).

    Raises:
        AttributeError: ``new`` has no such name, or ``names`` does not list it (dunder names are never
            forwarded, so ``__all__`` and friends answer as for a module without them).
    """
    if name.startswith("__") or (names is not None and name not in names):
        raise AttributeError(f"module '{old}' has no attribute '{name}'")
    new_name = (renamed or {}).get(name, name)
    try:
        value = getattr(importlib.import_module(new), new_name)
    except AttributeError:
        raise AttributeError(f"module '{old}' has no attribute '{name}' (it moved to '{new}')") from None
    warnings.warn(
        f"{old} {said or f'moved to {new}'}; import {new_name} from {new} ({old} will be removed in the next release)",
        DeprecationWarning,
        stacklevel=_CALLER,
    )
    return value


__all__ = ["moved_attribute", "moved_module"]
