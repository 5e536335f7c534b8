"""Tests use zenml's public API: no private names of zenml are imported or reached into (tests/README.md).

The rule, checked on every ``tests/**/*.py`` with ``ast``:

- no ``from zenml… import _name`` and no import of a private zenml module (``zenml.x._y``);
- no attribute ``._name`` on a name the test bound to a zenml module or object by importing it
  (``loading._KNOWN``, ``zenml.utils.trust._types``), directly or through ``setattr``/``getattr``/``delattr``
  (``monkeypatch.setattr(trust, "_types", …)``, ``monkeypatch.setattr("zenml.x._y", …)``).

Dunders (``__file__``), the standard library's privates (``os._exit``) and the tests' own helpers are fine.
Where a test needs a seam, zenml gets a small, documented public one.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
PACKAGES = ("zenml", "zenml_sklearn")
ATTRIBUTE_CALLS = {"setattr", "getattr", "delattr", "hasattr"}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _ours(module: str) -> bool:
    return module.split(".")[0] in PACKAGES


def _violations(source: str) -> list[str]:
    """``line: what`` for each private access to zenml in one test module's ``source``."""
    tree = ast.parse(source)
    bound: set[str] = set()  # names the module bound to zenml modules and objects
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _ours(alias.name):
                    bound.add(alias.asname or alias.name.split(".")[0])
                    if any(_private(part) for part in alias.name.split(".")):
                        found.append(f"{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and _ours(node.module):
            for alias in node.names:
                bound.add(alias.asname or alias.name)
                if _private(alias.name) or any(_private(part) for part in node.module.split(".")):
                    found.append(f"{node.lineno}: from {node.module} import {alias.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in bound:
                found.append(f"{node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Call) and node.args:
            function = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if function not in ATTRIBUTE_CALLS:
                continue
            target, name = node.args[0], node.args[1] if len(node.args) > 1 else None
            if isinstance(target, ast.Constant) and isinstance(target.value, str) and _ours(target.value):
                if any(_private(part) for part in target.value.split(".")):
                    found.append(f"{node.lineno}: {function}({target.value!r}, …)")
            elif isinstance(target, ast.Name) and target.id in bound and isinstance(name, ast.Constant):
                if isinstance(name.value, str) and _private(name.value):
                    found.append(f"{node.lineno}: {function}({target.id}, {name.value!r}, …)")
    return sorted(set(found), key=lambda line: int(line.split(":")[0]))


def test_no_test_reaches_into_zenml_privates() -> None:
    offenders = {
        str(path.relative_to(TESTS)): found
        for path in sorted(TESTS.rglob("*.py"))
        if (found := _violations(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, f"tests use zenml's public API (add a documented public seam if one is needed): {offenders}"


def test_the_check_finds_each_kind_of_private_access() -> None:
    source = """
import os
import zenml
import zenml.runtime._hidden
from zenml.runtime import loading
from zenml.backends.training.tensorflow import _worker_error
from zenml.utils import trust as t
from helpers import Thing

os._exit(0)
zenml.__file__
Thing._private
loading._KNOWN_DEFINITIONS.clear()
zenml.runtime.loading._KNOWN_DEFINITIONS
monkeypatch.setattr(t, "_trusted_types", set())
monkeypatch.setattr("zenml.runtime.loading._KNOWN_DEFINITIONS", {})
monkeypatch.setattr(t, "TRUSTED_PACKAGES", ())
"""
    assert _violations(source) == [
        "4: import zenml.runtime._hidden",
        "6: from zenml.backends.training.tensorflow import _worker_error",
        "13: loading._KNOWN_DEFINITIONS",
        "14: zenml.runtime.loading._KNOWN_DEFINITIONS",
        "15: setattr(t, '_trusted_types', …)",
        "16: setattr('zenml.runtime.loading._KNOWN_DEFINITIONS', …)",
    ]
