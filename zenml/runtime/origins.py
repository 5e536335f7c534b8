"""What a module's source says: where its global names come from, and the text of each class it defines."""

from __future__ import annotations

import ast
import importlib.util
from functools import lru_cache
from pathlib import Path

#: a module's imports: local name → (absolute module, name there); and the modules it star-imports
ImportTable = tuple[dict[str, tuple[str, str]], tuple[str, ...]]


def import_table(file: Path, package: str) -> ImportTable:
    """The ``from … import`` bindings at module level of ``file`` (``package`` resolves relative ones).

    Imports inside functions and classes are left out: they bind local names, not globals.
    A file that cannot be read or parsed has none.
    """
    try:
        stat = file.stat()
    except OSError:
        return {}, ()
    return _parsed(file, stat.st_mtime_ns, stat.st_size, package)


@lru_cache(maxsize=1024)
def _parsed(file: Path, _mtime_ns: int, _size: int, package: str) -> ImportTable:
    try:
        tree = ast.parse(file.read_bytes(), str(file))
    except (OSError, SyntaxError, ValueError):
        return {}, ()
    names: dict[str, tuple[str, str]] = {}
    stars: list[str] = []
    for node in _module_level(tree.body):
        source = _absolute(node, package)
        if source is None:
            continue
        for alias in node.names:
            if alias.name == "*":
                stars.append(source)
            else:
                names[alias.asname or alias.name] = (source, alias.name)
    return names, tuple(stars)


def _module_level(body: list[ast.stmt]) -> list[ast.ImportFrom]:
    """``from`` imports in ``body`` and in the ``if``/``try``/``with`` blocks under it, in order."""
    found: list[ast.ImportFrom] = []
    for node in body:
        if isinstance(node, ast.ImportFrom):
            found.append(node)
        elif isinstance(node, (ast.If, ast.Try, ast.TryStar, ast.With)):
            blocks: list[list[ast.stmt]] = [node.body, getattr(node, "orelse", []), getattr(node, "finalbody", [])]
            blocks += [handler.body for handler in getattr(node, "handlers", [])]
            for block in blocks:
                found += _module_level(block)
    return found


def _absolute(node: ast.ImportFrom, package: str) -> str | None:
    if not node.level:
        return node.module
    try:
        return importlib.util.resolve_name("." * node.level + (node.module or ""), package)
    except (ImportError, ValueError):
        return None


def class_source(file: Path, qualname: str) -> str | None:
    """The source of class ``qualname`` (decorators included) in ``file``, or None if it is not there.

    One parse per file version serves every class in it (``inspect.getsource`` re-parses the module
    for each class on Python 3.11). A name defined twice (in ``if``/``else``) gives both texts.
    """
    try:
        stat = file.stat()
    except OSError:
        return None
    lines, spans = _classes(file, stat.st_mtime_ns, stat.st_size)
    found = spans.get(qualname)
    return "".join("".join(lines[start:end]) for start, end in found) if found else None


@lru_cache(maxsize=256)
def _classes(file: Path, _mtime_ns: int, _size: int) -> tuple[list[str], dict[str, list[tuple[int, int]]]]:
    try:
        text = file.read_text(errors="replace")
        tree = ast.parse(text, str(file))
    except (OSError, SyntaxError, ValueError):
        return [], {}
    spans: dict[str, list[tuple[int, int]]] = {}
    _visit(tree, "", spans)
    return text.splitlines(keepends=True), spans


def _visit(node: ast.AST, prefix: str, spans: dict[str, list[tuple[int, int]]]) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.ClassDef):
            start = min([child.lineno, *(d.lineno for d in child.decorator_list)]) - 1
            spans.setdefault(prefix + child.name, []).append((start, child.end_lineno or child.lineno))
            _visit(child, f"{prefix}{child.name}.", spans)
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            _visit(child, f"{prefix}{child.name}.<locals>.", spans)
        elif isinstance(child, ast.stmt):
            _visit(child, prefix, spans)
