"""Old import paths kept for one release: a module ``__getattr__`` serves them with a warning naming the new one."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Mapping
from typing import Any


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
        f"{module}.{name} is deprecated and will be removed in the next release; use {target} instead",
        DeprecationWarning,
        stacklevel=3,  # the code that used the old name, above the module's __getattr__
    )
    return getattr(importlib.import_module(new_module), new_name)


__all__ = ["moved_attribute"]
