"""Fingerprint what a step runs and reads: the project code it uses and the project values it observes.

``code`` maps each piece of project code the step depends on (``module:qualname`` of a function or
class, or ``module`` for a whole module it uses) to the sha256 of its source. ``values`` maps each
project value it can observe to a digest of its content: module constants of any type
(``settings.WEIGHTS``), values imported from other project modules (named where they are defined),
class attributes (``flow.Model.LAYERS``), default arguments (``default of helpers.scale(factor)``)
and closure variables. The walk starts at the step's function or class and follows, transitively,
every global name, module attribute and function-level import its code mentions.

Decision: values are hashed *by value*, not by the source of the module that defines them. A
value's content is exactly what the step observes, so it also covers constants computed at import
time (``WEIGHTS = json.load(...)``, ``np.linspace(...)``) and a key names the value that changed;
hashing a whole config module would miss the first and re-run every step that reads any setting
after any edit. Modules a step uses as modules (``import settings``) are still hashed by source
too, which also covers ``getattr(settings, name)``. A value that cannot be hashed (an open file, a
lock, a generator) is listed in ``unhashable`` with the reason: the step is then never served from
the cache. Over-invalidating is acceptable, serving a stale result is not.

Code and values outside the project (zenml, the standard library, installed packages, and names
imported from them) are left out: their versions are recorded in the run spec instead.
"""

from __future__ import annotations

import dis
import enum
import importlib
import importlib.util
import inspect
import os
import sys
import types
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from zenml.runtime.origins import class_source, import_table
from zenml.runtime.valuehash import CODE_TYPES, Unhashable, value_digest
from zenml.steps.base import BaseStep
from zenml.steps.function import FunctionStep
from zenml.utils.hashing import sha256_text
from zenml.utils.importing import module_name_of

_SKIPPED_ROOTS = {"zenml", "builtins"}
_INSTALLED_PARTS = ("site-packages", "dist-packages", ".venv", "venv")
#: set on every class by Python's machinery, not by the user: never observable data
_CLASS_MACHINERY = {"_abc_impl"}
_CODE_MEMBERS = (
    types.FunctionType, staticmethod, classmethod, property, cached_property,
    types.MemberDescriptorType, types.GetSetDescriptorType,
)  # fmt: skip
_IMPORT_NAME = bytes([dis.opmap["IMPORT_NAME"]])
_MISSING = object()


@dataclass(frozen=True)
class Fingerprint:
    """What a step's result depends on beyond its parameters and inputs.

    Attributes:
        code: ``module:qualname`` (or ``module``) → sha256 of the source.
        values: what the step can observe (``settings.WEIGHTS``) → digest of its content.
        unhashable: values that cannot be hashed → why (``holds a … that cannot be hashed (…)``); the
            step is not cacheable when there are any.
    """

    code: dict[str, str]
    values: dict[str, str]
    unhashable: dict[str, str]


def _module(module_name: str) -> types.ModuleType | None:
    module = sys.modules.get(module_name)
    if module is None and module_name != "__main__":
        main = sys.modules.get("__main__")
        main_file = getattr(main, "__file__", None)
        if main_file and Path(main_file).stem == module_name:
            module = main
    return module


@lru_cache(maxsize=4096)
def _resolved(file: str) -> Path:
    return Path(file).resolve()


def _module_file(module_name: str) -> Path | None:
    # looked up each time, not cached by name: one process may load several projects' "flow" modules
    file = getattr(_module(module_name), "__file__", None)
    return _resolved(file) if isinstance(file, str) else None


def _path_in_project(file: Path, root: Path) -> bool:
    return file.is_relative_to(root) and not any(part in _INSTALLED_PARTS for part in file.parts)


def _in_project(module_name: str, root: Path) -> bool:
    top = module_name.split(".", maxsplit=1)[0]
    if top in _SKIPPED_ROOTS or top in sys.stdlib_module_names:
        return False
    file = _module_file(module_name)
    return file is not None and _path_in_project(file, root)


#: a function's source, with the ``(mtime_ns, size)`` of its file when it was read: ``inspect.getsource``
#: tokenizes the file's lines (~0.3 ms a function) and every step's fingerprint asks again. A file
#: edited while the process runs is read again, as ``getsource`` itself would (its ``linecache`` checks
#: the same stamp); an edited and re-imported module brings new function objects anyway.
_SOURCES: weakref.WeakKeyDictionary[types.FunctionType, tuple[tuple[int, int], str]] = weakref.WeakKeyDictionary()


def _source(obj: Any) -> str:
    if not isinstance(obj, types.FunctionType):
        return _read_source(obj)
    try:
        status = os.stat(obj.__code__.co_filename)
    except (OSError, ValueError):  # no file (defined interactively, or in a zip): read as before
        return _read_source(obj)
    stamp = (status.st_mtime_ns, status.st_size)
    known = _SOURCES.get(obj)
    if known is not None and known[0] == stamp:
        return known[1]
    text = _read_source(obj)
    _SOURCES[obj] = (stamp, text)
    return text


def _read_source(obj: Any) -> str:
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
        elif isinstance(func, cached_property):
            func = func.func
        if isinstance(func, types.FunctionType):
            yield func


def _class_data(cls: type) -> Iterator[tuple[str, Any]]:
    """The class attributes that are data: what ``self.NAME`` or ``cls.NAME`` can read."""
    enum_class = isinstance(cls, enum.EnumMeta)
    for name, value in sorted(vars(cls).items()):
        dunder = name.startswith("__") and name.endswith("__")
        # an Enum's _sunder_ tables are derived from its members, which are hashed themselves
        machinery = name in _CLASS_MACHINERY or (enum_class and name.startswith("_") and name.endswith("_"))
        if not dunder and not machinery and not isinstance(value, _CODE_MEMBERS):
            yield name, value


def _dotted(obj: Any) -> str:
    return f"{module_name_of(obj)}.{obj.__qualname__}"


class _Fingerprinter:
    """Walks from a step's code to every project function, class, module and value it references."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.code: dict[str, str] = {}
        self.values: dict[str, str] = {}
        self.unhashable: dict[str, str] = {}
        self._seen: set[int] = set()  # code objects walked (modules, classes, functions stay alive)
        self._observed: set[tuple[str, int]] = set()

    # -- code -----------------------------------------------------------------------------------

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
        _put(self.code, f"{module_name_of(func)}:{func.__qualname__}", sha256_text(_source(func)))
        self._follow(func)

    def _add_class(self, cls: type) -> None:
        if not self._owned(cls):
            return
        functions = sorted(_functions_of_class(cls), key=lambda f: f.__qualname__)
        # the whole body: decorators, annotations and field() calls change a class too
        file = _module_file(module_name_of(cls))
        text = class_source(file, cls.__qualname__) if file else None
        if text is None:  # made at run time: its methods' source is what there is
            text = "\n".join(_source(func) for func in functions)
        _put(self.code, f"{module_name_of(cls)}:{cls.__qualname__}", sha256_text(text))
        for name, value in _class_data(cls):
            self._observe(f"{_dotted(cls)}.{name}", value)
        for func in functions:
            if self._owned(func):  # Enum's and dataclasses' helpers read their own module, not the project
                self._follow(func)
        for base in cls.__mro__[1:]:
            self.add(base)

    def _add_module(self, module: types.ModuleType) -> None:
        name = module.__name__
        if not _in_project(name, self.root):
            return
        file = _module_file(name)
        _put(self.code, name, sha256_text(file.read_text(errors="replace")) if file and file.exists() else "")
        for value in vars(module).values():
            home = _home_module(value)
            if isinstance(value, types.ModuleType) or home not in (None, name):
                self.add(value if isinstance(value, types.ModuleType) else sys.modules.get(home or ""))

    def code_token(self, obj: Any) -> str:
        """Name code met inside a value, fingerprinting it when it is the project's."""
        self.add(obj)
        if isinstance(obj, types.ModuleType):
            return f"module {obj.__name__}"
        # __main__ is named after its file: ``python flow.py`` and ``zen run flow.py:p`` share keys
        module = getattr(obj, "__module__", None)
        token = f"{module_name_of(obj) if isinstance(module, str) else module}.{getattr(obj, '__qualname__', None)}"
        if isinstance(obj, types.FunctionType) and not self._owned(obj) and "<" in obj.__qualname__:
            # a closure or lambda an installed package made at run time may carry the project's data
            cells = [cell.cell_contents for cell in obj.__closure__ or () if _filled(cell)]
            token += value_digest((obj.__defaults__, obj.__kwdefaults__, cells), self.code_token)
        return token

    # -- what a function reads ------------------------------------------------------------------

    def _follow(self, func: types.FunctionType) -> None:
        """Everything ``func`` can read: defaults, closure variables, globals, module attributes."""
        where = _dotted(func)
        code = func.__code__
        positional = code.co_varnames[: code.co_argcount]
        defaults = func.__defaults__ or ()
        for name, value in zip(positional[len(positional) - len(defaults) :], defaults, strict=True):
            self._observe(f"default of {where}({name})", value)
        for name, value in (func.__kwdefaults__ or {}).items():
            self._observe(f"default of {where}({name})", value)
        for name, cell in zip(code.co_freevars, func.__closure__ or (), strict=True):
            if _filled(cell):
                self._observe(f"closure variable {name} of {where}", cell.cell_contents)
        names: dict[str, None] = {}
        modules: list[types.ModuleType] = []
        for nested in _code_objects(code):
            names.update(dict.fromkeys(nested.co_names))
            modules += self._local_imports(nested, func)
        self._follow_globals(func, names, modules)
        self._follow_module_attributes(modules, names)

    def _follow_globals(self, func: types.FunctionType, names: Iterable[str], modules: list[types.ModuleType]) -> None:
        namespace, module_name = func.__globals__, module_name_of(func)
        for name in names:
            value = namespace.get(name, _MISSING)  # absent: a builtin, an attribute or a local name
            if isinstance(value, types.ModuleType):
                modules.append(value)
            if value is not _MISSING:
                self._observe_global(module_name, name, value)

    def _follow_module_attributes(self, modules: list[types.ModuleType], names: dict[str, None]) -> None:
        """``settings.WEIGHTS``: each name the code mentions that a project module it uses defines."""
        done: set[str] = set()
        while modules:
            module = modules.pop()
            if module.__name__ in done or not _in_project(module.__name__, self.root):
                continue
            done.add(module.__name__)
            self.add(module)
            members = vars(module)
            for name in names:
                value = members.get(name, _MISSING)
                if isinstance(value, types.ModuleType):
                    modules.append(value)
                if value is not _MISSING:
                    self._observe_global(module.__name__, name, value)

    def _local_imports(self, code: types.CodeType, func: types.FunctionType) -> list[types.ModuleType]:
        """Project modules imported inside the function (``from settings import WEIGHTS`` in its body)."""
        if _IMPORT_NAME not in code.co_code:  # cheap pre-check: most functions import nothing
            return []
        found: list[types.ModuleType] = []
        instructions = list(dis.get_instructions(code))
        for index, instruction in enumerate(instructions):
            if instruction.opname != "IMPORT_NAME" or index < 2:
                continue
            level, fromlist = instructions[index - 2].argval, instructions[index - 1].argval
            name = str(instruction.argval)
            if isinstance(level, int) and level > 0:
                package = func.__globals__.get("__package__") or ""
                try:
                    name = importlib.util.resolve_name("." * level + name, package)
                except (ImportError, ValueError):
                    continue
            parts = name.split(".")
            wanted = [".".join(parts[: i + 1]) for i in range(len(parts))]
            wanted += [f"{name}.{entry}" for entry in fromlist or () if isinstance(entry, str) and entry != "*"]
            found += [module for module in map(self._project_module, wanted) if module is not None]
        return found

    def _project_module(self, name: str) -> types.ModuleType | None:
        """The project module ``name``, imported if the step has not imported it yet; else None."""
        module = sys.modules.get(name)
        if module is None:
            if not self._top_level_in_project(name.split(".", maxsplit=1)[0]):
                return None
            try:  # the step imports it when it runs: importing it now runs nothing the step would not
                module = importlib.import_module(name)
            except ImportError:
                return None  # e.g. ``from pkg import value``: ``pkg.value`` is not a module
            except Exception as exc:  # noqa: BLE001 -- reported: the step is not cached, and its run shows the error
                self.unhashable[name] = f"could not be imported ({type(exc).__name__}: {exc})"
                return None
        return module if _in_project(module.__name__, self.root) else None

    def _top_level_in_project(self, name: str) -> bool:
        try:  # find_spec of a top-level name imports nothing: installed packages stay unimported
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            return False
        if spec is None:
            return False
        locations = [spec.origin] if spec.origin else list(spec.submodule_search_locations or [])
        return any(_path_in_project(Path(location).resolve(), self.root) for location in locations)

    # -- values ---------------------------------------------------------------------------------

    def _observe_global(self, module_name: str, name: str, value: Any) -> None:
        if isinstance(value, CODE_TYPES):
            self.add(value)
            return
        origin = self._origin(module_name, name, value)
        if origin is not None:
            self._observe(origin, value)

    def _origin(self, module_name: str, name: str, value: Any, depth: int = 0) -> str | None:
        """Where a global was defined (``settings.WEIGHTS``, not ``flow.WEIGHTS``); None: outside the project."""
        module, file = _module(module_name), _module_file(module_name)
        if module is None or file is None or depth > 32:
            return f"{module_name}.{name}"
        names, stars = import_table(file, getattr(module, "__package__", None) or "")
        for source, source_name in [names[name]] if name in names else [(star, name) for star in stars]:
            source_module = _module(source)
            if source_module is None or getattr(source_module, source_name, _MISSING) is not value:
                continue  # rebound after the import: the value is this module's own
            if not _in_project(source, self.root):
                return None  # data of an installed package or the standard library: its version is recorded
            return self._origin(source, source_name, value, depth + 1)
        return f"{module_name}.{name}"

    def _observe(self, what: str, value: Any) -> None:
        if isinstance(value, CODE_TYPES):
            self.add(value)
            return
        if (what, id(value)) in self._observed:
            return
        self._observed.add((what, id(value)))
        try:
            digest = value_digest(value, self.code_token)
        except Unhashable as exc:
            self.unhashable[what] = str(exc)
            return
        _put(self.values, what, digest)


def _home_module(value: Any) -> str | None:
    """The module a member of a module comes from (``__module__``), if it says so plainly."""
    try:
        home = getattr(value, "__module__", None)
    except Exception:  # noqa: BLE001 -- a proxy object raising on attribute access names no module
        return None
    return home if isinstance(home, str) else None


def _filled(cell: types.CellType) -> bool:
    try:
        cell.cell_contents  # noqa: B018 -- an empty cell (a variable not assigned yet) raises
    except ValueError:
        return False
    return True


def _put(table: dict[str, str], key: str, digest: str) -> None:
    """Record ``digest`` under ``key``; two things under one name (two lambdas) are hashed together."""
    if key in table and table[key] != digest:
        digest = sha256_text(table[key] + digest)
    table[key] = digest


def step_fingerprint(step: BaseStep, project_root: Path) -> Fingerprint:
    """The project code ``step`` runs and the project values it can observe."""
    walker = _Fingerprinter(project_root.resolve())
    root: Any = step.func if isinstance(step, FunctionStep) else type(step)
    walker.add(root)
    if not walker.code:
        # The step's own code lives outside the project (a shipped or installed step): its
        # package version in the spec identifies it; still key on its source for safety.
        walker.code[f"{module_name_of(root)}:{root.__qualname__}"] = sha256_text(
            _source(root) if not isinstance(root, type) else "\n".join(_source(f) for f in _functions_of_class(root))
        )
    return Fingerprint(
        code=dict(sorted(walker.code.items())),
        values=dict(sorted(walker.values.items())),
        unhashable=dict(sorted(walker.unhashable.items())),
    )
