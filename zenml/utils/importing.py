"""Import objects by dotted path and load pipelines from files or modules."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from zenml.exceptions import ConfigError

_PACKAGE = str(Path(__file__).resolve().parents[1])
#: per thread, what zenml is importing user code for right now (innermost last)
_importing = threading.local()


@contextmanager
def importing_user_code(what: str) -> Iterator[None]:
    """Mark the import of ``what`` (a run target, a step type): a run started meanwhile is refused.

    Nested marks name the outermost: what the user asked zenml to import.

    A module that calls ``pipeline.run()`` at import, outside ``if __name__ == "__main__":``, would
    otherwise start a second run each time zenml imports it (``zen run file.py:obj`` imports it, and
    then runs the pipeline itself).
    """
    stack: list[str] = _importing.__dict__.setdefault("stack", [])
    stack.append(what)
    try:
        yield
    finally:
        stack.pop()


def refuse_run_during_import() -> None:
    """Raise if this thread is importing user code for zenml, i.e. the run was started by that import.

    Raises:
        ConfigError: names the call's file and line and the fix.
    """
    stack: list[str] = _importing.__dict__.get("stack", [])
    if not stack:
        return
    caller = next(
        (
            frame
            for frame in reversed(traceback.extract_stack())
            if not frame.filename.startswith((_PACKAGE, "<")) and "importlib" not in frame.filename
        ),
        None,
    )
    where = f"{caller.filename}, line {caller.lineno}" if caller is not None else "the imported module"
    raise ConfigError(
        f"{where} starts a run while zen imports it for '{stack[0]}', so the pipeline would run twice; "
        'put that call under `if __name__ == "__main__":`'
    )


def import_object(path: str) -> Any:
    """Import ``pkg.module.Name`` or ``pkg.module:Name`` and return the object.

    Raises:
        ConfigError: the module or the attribute does not exist.
    """
    module_name, _, attr = path.replace(":", ".").rpartition(".")
    if not module_name or not attr:
        raise ConfigError(f"'{path}' is not a dotted path; write it as 'package.module.Name'")
    try:
        with importing_user_code(path):
            module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import module '{module_name}' for '{path}': {exc}") from exc
    try:
        obj: Any = module
        for part in attr.split("/"):
            obj = getattr(obj, part)
    except AttributeError as exc:
        raise ConfigError(f"module '{module_name}' has no attribute '{attr}' (from '{path}')") from exc
    return obj


def qualified_name(obj: Any) -> str:
    """Return ``module.QualName`` of a class or function, mapping ``__main__`` to its file's stem."""
    module = module_name_of(obj)
    return f"{module}.{obj.__qualname__}"


def module_name_of(obj: Any) -> str:
    """Return the importable module name of ``obj`` (``__main__`` becomes the script's stem)."""
    module: str = obj.__module__
    if module == "__main__":
        main_file = getattr(sys.modules["__main__"], "__file__", None)
        if main_file:
            return Path(main_file).stem
    return module


def load_module_from_file(path: Path) -> Any:
    """Import a Python file as a top-level module named after its stem.

    The file's folder is put first on ``sys.path`` so its own imports work and so the step types
    it defines are importable later by workers under the same module name.
    """
    if not path.is_file():
        raise ConfigError(f"file '{path}' does not exist; check the path in the run target")
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = path.stem
    existing = sys.modules.get(name)
    if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() == path.resolve():
        return existing
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot load '{path}' as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        with importing_user_code(str(path)):
            spec.loader.exec_module(module)
    except Exception:
        sys.modules.pop(name, None)
        raise
    return module


def load_target(target: str) -> Any:
    """Resolve ``path/file.py:obj`` or ``package.module:obj`` to the named object.

    Raises:
        ConfigError: the file, module or object does not exist.
    """
    location, sep, attr = target.rpartition(":")
    if not sep or not location or not attr:
        raise ConfigError(f"run target '{target}' must be a spec YAML, 'path/file.py:name' or 'package.module:name'")
    if location.endswith(".py"):
        with importing_user_code(target):
            module = load_module_from_file(Path(location))
    else:
        try:
            with importing_user_code(target):
                module = importlib.import_module(location)
        except ImportError as exc:
            raise ConfigError(f"cannot import module '{location}' for target '{target}': {exc}") from exc
    if not hasattr(module, attr):
        raise ConfigError(f"'{location}' has no object named '{attr}' (target '{target}')")
    return getattr(module, attr)
