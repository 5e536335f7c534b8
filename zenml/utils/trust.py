"""Which dotted paths zenml imports when a file names them (a spec's ``type``, an artifact's loader).

Importing a module runs its code, so a path read from a spec, an artifact or a config is imported
only when its module is one of:

- already imported in this process (importing it again runs nothing new);
- part of zenml, of a contrib integration (``zenml_*`` packages shipped with zenml) or of a package
  that registered ``zenml.steps`` / ``zenml.backends`` entry points;
- a file inside the project: the repository root and the spec's ``code_paths`` below it
  (installed packages there, ``site-packages``, excepted);
- a file inside a folder of ``PYTHONPATH``: the user chose that code explicitly, and
  orchestrator tasks started in fresh processes (Airflow's) inherit it;
- handed to this process by a zenml parent that checked it (``trust_types``, used by workers).

Everything else is refused with a ``ConfigError`` before anything is imported. The module is
located with the import system's path finder, which reads no module code. Callers then check the
object found (a ``BaseStep``, a backend, a ``BaseMaterializer``) before calling it.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from zenml.exceptions import ConfigError
from zenml.utils.entry_points import entry_points
from zenml.utils.importing import import_object

#: top-level packages trusted by name: zenml itself and the integrations under ``contrib/``
TRUSTED_PACKAGES = ("zenml", "zenml_sklearn")
_PLUGIN_GROUPS = ("zenml.steps", "zenml.backends")
_INSTALLED_PARTS = frozenset({"site-packages", "dist-packages"})

_project_folders: set[Path] = set()
_trusted_types: set[str] = set()


def trust_project_folder(folder: Path) -> None:
    """Allow modules whose files live under ``folder`` (the repository root or a code path below it)."""
    _project_folders.add(folder.resolve())


def trust_types(paths: Iterable[str]) -> None:
    """Allow these exact dotted paths: a zenml parent process checked them before sending the work."""
    _trusted_types.update(paths)


def untrust_types(paths: Iterable[str]) -> None:
    """Withdraw the trust :func:`trust_types` gave these dotted paths (a test that trusted a type undoes it)."""
    _trusted_types.difference_update(paths)


@cache
def _plugin_packages() -> frozenset[str]:
    names = set(TRUSTED_PACKAGES)
    for group in _PLUGIN_GROUPS:
        names.update(entry.value.split(":")[0].split(".")[0] for entry in entry_points(group))
    return frozenset(names)


def _module_files(module: str) -> list[Path] | None:
    """The files importing ``module`` would run (it and its not yet imported parents), or ``None`` if not found."""
    parts = module.split(".")
    search: list[str] | None = None  # None: sys.path
    files: list[Path] = []
    for index in range(len(parts)):
        name = ".".join(parts[: index + 1])
        loaded = sys.modules.get(name)
        if loaded is not None:
            search = list(getattr(loaded, "__path__", None) or [])
            continue
        found = importlib.machinery.PathFinder.find_spec(name, search)
        if found is None:
            return None
        if found.has_location and found.origin:
            files.append(Path(found.origin).resolve())
        search = list(found.submodule_search_locations or [])
    return files


def _pythonpath_folders() -> list[Path]:
    return [Path(entry).resolve() for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry]


def _in_project(file: Path) -> bool:
    if _INSTALLED_PARTS.intersection(file.parts):
        return False
    return any(file.is_relative_to(folder) for folder in [*_project_folders, *_pythonpath_folders()])


def check_importable(path: str, what: str) -> None:
    """Refuse a dotted path whose import could run code that is neither zenml's nor the project's.

    Args:
        path: ``pkg.module.Name`` as a file gave it.
        what: how the error names the thing at fault (e.g. ``step 'train'``).

    Raises:
        ConfigError: the module is outside zenml, its plugins and the project.
    """
    module = path.replace(":", ".").rpartition(".")[0]
    if path in _trusted_types or not module or module in sys.modules:
        return  # a path without a module is refused by import_object with its own message
    package = module.split(".")[0]
    if package in TRUSTED_PACKAGES or package in _plugin_packages():  # by name first: no entry-point scan
        return
    files = _module_files(module)
    if files is not None and all(_in_project(file) for file in files):
        return
    if files is None:
        raise ConfigError(f"{what}: cannot import module '{module}' for '{path}': it is not on the import path")
    raise ConfigError(
        f"{what}: refusing to import '{path}': module '{module}' is outside zenml, its plugins and the "
        "project; a type must be a zenml class, a class of a package registered under the "
        "'zenml.steps'/'zenml.backends' entry points, or a class in the project's own modules"
    )


def is_trusted_code(path: str) -> bool:
    """Whether ``path`` names code zenml trusts to *call*, not only to import (e.g. a type in a stored model).

    The rules of ``check_importable`` less its shortcut for modules already imported: a module
    being loaded says nothing about whether its functions are safe to call on stored data.
    """
    module = path.replace(":", ".").rpartition(".")[0]
    if path in _trusted_types:
        return True
    if not module:
        return False
    package = module.split(".")[0]
    if package in TRUSTED_PACKAGES or package in _plugin_packages():
        return True
    loaded = sys.modules.get(module)
    if loaded is not None:
        file = getattr(loaded, "__file__", None)
        return file is not None and _in_project(Path(file).resolve())
    files = _module_files(module)
    return bool(files) and all(_in_project(file) for file in files or [])


def import_trusted(path: str, what: str) -> Any:
    """``check_importable`` then ``import_object``: the object named by ``path``.

    Raises:
        ConfigError: the path is not importable, or is refused by ``check_importable``.
    """
    check_importable(path, what)
    return import_object(path)
