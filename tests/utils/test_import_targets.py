"""Importing objects by dotted path and loading run targets (``file.py:name``, ``package.module:name``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from zenml.exceptions import ConfigError
from zenml.utils.hashing import canonical_json
from zenml.utils.importing import import_object, load_module_from_file, load_target, module_name_of, qualified_name


class Outer:
    class Inner:
        pass


@pytest.fixture
def module_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder for throw-away modules; whatever they add to ``sys.path``/``sys.modules`` is removed after."""
    path_before = list(sys.path)
    modules_before = set(sys.modules)
    yield tmp_path
    sys.path[:] = path_before
    for name in set(sys.modules) - modules_before:
        del sys.modules[name]


@pytest.mark.parametrize("path", ["zenml.utils.hashing.canonical_json", "zenml.utils.hashing:canonical_json"])
def test_import_object_accepts_dots_and_colon(path: str) -> None:
    assert import_object(path) is canonical_json


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("canonical_json", "is not a dotted path"),
        ("zenml.", "is not a dotted path"),
        ("zen_no_such_package.thing", "cannot import module 'zen_no_such_package'"),
        ("zenml.utils.hashing.nope", "module 'zenml.utils.hashing' has no attribute 'nope'"),
    ],
)
def test_import_object_errors(path: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        import_object(path)


def test_qualified_name_of_nested_class_and_function() -> None:
    assert qualified_name(Outer.Inner) == f"{__name__}.Outer.Inner"
    assert qualified_name(canonical_json) == "zenml.utils.hashing.canonical_json"
    assert module_name_of(Outer) == __name__


def test_load_target_from_file(module_folder: Path) -> None:
    (module_folder / "zen_target_ok.py").write_text("VALUE = 41 + 1\n")
    assert load_target(f"{module_folder / 'zen_target_ok.py'}:VALUE") == 42
    assert str(module_folder) in sys.path  # its own imports (and its step types) resolve later


def test_load_target_from_module() -> None:
    assert load_target("zenml.utils.hashing:canonical_json") is canonical_json


def test_loading_the_same_file_twice_reuses_the_module(module_folder: Path) -> None:
    file = module_folder / "zen_target_once.py"
    file.write_text("import itertools\nCOUNTER = object()\n")
    first = load_module_from_file(file)
    assert load_module_from_file(file) is first


@pytest.mark.parametrize("target", ["no_colon_here", ":name", "module:", "a.py"])
def test_load_target_needs_location_and_name(target: str) -> None:
    with pytest.raises(ConfigError, match="must be a spec YAML, 'path/file.py:name' or 'package.module:name'"):
        load_target(target)


def test_load_target_missing_file(module_folder: Path) -> None:
    missing = module_folder / "zen_missing.py"
    with pytest.raises(ConfigError, match=r"file '.*zen_missing\.py' does not exist"):
        load_target(f"{missing}:pipe")


def test_load_target_missing_attribute(module_folder: Path) -> None:
    (module_folder / "zen_target_attr.py").write_text("pipe = 1\n")
    with pytest.raises(ConfigError, match=r"has no object named 'pip' \(target"):
        load_target(f"{module_folder / 'zen_target_attr.py'}:pip")


def test_load_target_missing_module() -> None:
    with pytest.raises(ConfigError, match="cannot import module 'zen_no_such_module_xyz' for target"):
        load_target("zen_no_such_module_xyz:pipe")


def test_load_target_propagates_errors_of_the_file_and_forgets_it(module_folder: Path) -> None:
    (module_folder / "zen_target_broken.py").write_text("raise RuntimeError('boom in user code')\n")
    with pytest.raises(RuntimeError, match="boom in user code"):
        load_target(f"{module_folder / 'zen_target_broken.py'}:pipe")
    assert "zen_target_broken" not in sys.modules
