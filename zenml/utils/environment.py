"""What code a run uses: Python and package versions, and where project modules are imported from."""

from __future__ import annotations

import importlib.metadata
import platform
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

_STDLIB = set(sys.stdlib_module_names)


def python_version() -> str:
    """The interpreter version, e.g. ``3.11.7``."""
    return platform.python_version()


def zenml_version() -> str:
    """The installed zenml version (``0+unknown`` when running from an uninstalled checkout)."""
    try:
        return importlib.metadata.version("zenml")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def _imported_packages(module: ModuleType) -> set[str]:
    names = {module.__name__.split(".")[0]}
    for value in vars(module).values():
        owner = value if isinstance(value, ModuleType) else None
        if owner is None:
            owner_name = getattr(value, "__module__", None)
            if isinstance(owner_name, str):
                names.add(owner_name.split(".")[0])
            continue
        names.add(owner.__name__.split(".")[0])
    return {name for name in names if name not in _STDLIB and not name.startswith("_")}


def package_versions(module_names: Iterable[str]) -> dict[str, str]:
    """Versions of the installed distributions that the given modules import (by top-level name)."""
    versions: dict[str, str] = {}
    for module_name in module_names:
        module = sys.modules.get(module_name)
        main = sys.modules.get("__main__")
        if module is None and Path(getattr(main, "__file__", "") or "").stem == module_name:
            module = main  # steps of a script run as __main__ are recorded under the script's name
        if module is None:
            continue
        for package in _imported_packages(module):
            if package in versions:
                continue
            try:
                versions[package] = importlib.metadata.version(package)
            except importlib.metadata.PackageNotFoundError:
                continue  # a project module, not an installed distribution
    return dict(sorted(versions.items()))


def import_root(module_name: str) -> Path | None:
    """The folder that must be on ``sys.path`` to import ``module_name``, or ``None`` if unknown."""
    module = sys.modules.get(module_name)
    if module is None:
        main = sys.modules.get("__main__")
        main_file = getattr(main, "__file__", None)
        if main_file and Path(main_file).stem == module_name:
            module = main  # a script run as __main__ is recorded under its file's stem
    file = getattr(module, "__file__", None)
    if not file:
        return None
    path = Path(file).resolve()
    depth = module_name.count(".") + (1 if path.name == "__init__.py" else 0)
    root = path.parent
    for _ in range(depth):
        root = root.parent
    return root


def project_code_paths(module_names: Iterable[str], project_root: Path) -> list[str]:
    """Import roots of modules that live inside ``project_root``, relative to it (``.`` for the root)."""
    project_root = project_root.resolve()
    paths: list[str] = []
    for module_name in module_names:
        root = import_root(module_name)
        if root is None or not root.is_relative_to(project_root) or "site-packages" in root.parts:
            continue
        relative = root.relative_to(project_root).as_posix() or "."
        if relative not in paths:
            paths.append(relative)
    return paths
