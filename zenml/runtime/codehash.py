"""Fingerprint the code a step runs: its own source plus the project code it uses, transitively.

A step's fingerprint maps each piece of project code it depends on (``module:qualname`` of a
function or class, or ``module`` for a whole module it uses) to the sha256 of its source. Code
outside the project (zenml, the standard library, installed packages) is left out: its version is
recorded in the run spec instead. Editing a helper function, or a helper module the step
references, changes the fingerprint and so causes a cache miss.
"""

from __future__ import annotations

import inspect
import sys
import types
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from zenml.steps.base import BaseStep
from zenml.steps.function import SimpleStep
from zenml.utils.hashing import sha256_text
from zenml.utils.importing import module_name_of

_SKIPPED_ROOTS = {"zenml", "builtins"}


@lru_cache(maxsize=4096)
def _module_file(module_name: str) -> Path | None:
    module = sys.modules.get(module_name)
    if module is None and module_name != "__main__":
        main = sys.modules.get("__main__")
        main_file = getattr(main, "__file__", None)
        if main_file and Path(main_file).stem == module_name:
            module = main
    file = getattr(module, "__file__", None)
    return Path(file).resolve() if file else None


def _in_project(module_name: str, root: Path) -> bool:
    if (
        module_name.split(".", maxsplit=1)[0] in _SKIPPED_ROOTS
        or module_name.split(".", maxsplit=1)[0] in sys.stdlib_module_names
    ):
        return False
    file = _module_file(module_name)
    if file is None or not file.is_relative_to(root):
        return False
    return not any(part in ("site-packages", "dist-packages", ".venv", "venv") for part in file.parts)


def _source(obj: Any) -> str:
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        code = getattr(obj, "__code__", None)  # defined interactively: fall back to the bytecode
        return repr((code.co_code, code.co_consts, code.co_names)) if code else repr(obj)


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _functions_of_class(cls: type) -> Iterator[types.FunctionType]:
    for value in vars(cls).values():
        func = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
        if isinstance(func, property):
            func = func.fget
        if isinstance(func, types.FunctionType):
            yield func


class _Fingerprinter:
    """Walks from a step's code to every project function, class and module it references."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.hashes: dict[str, str] = {}
        self._seen: set[int] = set()

    def add(self, obj: Any) -> None:
        if id(obj) in self._seen:
            return
        self._seen.add(id(obj))
        if isinstance(obj, types.ModuleType):
            self._add_module(obj)
        elif isinstance(obj, type):
            self._add_class(obj)
        elif isinstance(obj, types.FunctionType):
            self._add_function(obj)

    def _owned(self, obj: Any) -> bool:
        module = getattr(obj, "__module__", None)
        return isinstance(module, str) and _in_project(
            module_name_of(obj) if module == "__main__" else module, self.root
        )

    def _add_function(self, func: types.FunctionType) -> None:
        if not self._owned(func):
            return
        self.hashes[f"{module_name_of(func)}:{func.__qualname__}"] = sha256_text(_source(func))
        self._follow_names(func)

    def _add_class(self, cls: type) -> None:
        if not self._owned(cls):
            return
        functions = sorted(_functions_of_class(cls), key=lambda f: f.__qualname__)
        attributes = sorted(
            f"{k}={v!r}"
            for k, v in vars(cls).items()
            if not k.startswith("__") and isinstance(v, (int, float, str, bool, tuple, type(None)))
        )
        text = "\n".join([*(_source(func) for func in functions), *attributes])
        self.hashes[f"{module_name_of(cls)}:{cls.__qualname__}"] = sha256_text(text)
        for func in functions:
            self._follow_names(func)
        for base in cls.__mro__[1:]:
            self.add(base)

    def _add_module(self, module: types.ModuleType) -> None:
        name = module.__name__
        if not _in_project(name, self.root):
            return
        file = _module_file(name)
        self.hashes[name] = sha256_text(file.read_text(errors="replace")) if file and file.exists() else ""
        for value in vars(module).values():
            if isinstance(value, types.ModuleType) or getattr(value, "__module__", None) not in (None, name):
                self.add(value if isinstance(value, types.ModuleType) else sys.modules.get(value.__module__))

    def _follow_names(self, func: types.FunctionType) -> None:
        namespace = func.__globals__
        for code in _code_objects(func.__code__):
            for name in code.co_names:
                value = namespace.get(name)
                if value is not None and not isinstance(value, (int, float, str, bool, bytes)):
                    self.add(value)
        for cell in func.__closure__ or ():
            try:
                self.add(cell.cell_contents)
            except ValueError:
                continue  # an empty cell


def code_fingerprint(step: BaseStep, project_root: Path) -> dict[str, str]:
    """``{"module:qualname" or "module": sha256}`` of the step's code and the project code it uses."""
    walker = _Fingerprinter(project_root.resolve())
    root: Any = step.func if isinstance(step, SimpleStep) else type(step)
    walker.add(root)
    if not walker.hashes:
        # The step's own code lives outside the project (a shipped or installed step): its
        # package version in the spec identifies it; still key on its source for safety.
        walker.hashes[f"{module_name_of(root)}:{root.__qualname__}"] = sha256_text(
            _source(root) if not isinstance(root, type) else "\n".join(_source(f) for f in _functions_of_class(root))
        )
    return dict(sorted(walker.hashes.items()))
