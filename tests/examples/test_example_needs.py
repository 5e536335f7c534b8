"""Each example's ``needs`` (in ``example.yaml``) is what its code imports, checked against pyproject's extras.

What an example uses: the modules its files import; the frameworks behind the zenml names it
imports (a TensorFlow trainer loads TensorFlow) and behind the backends its commands and code
name (``--processing beam``); uvicorn where it runs ``zen serve``; and two calls that load pandas
although nothing imports it (scikit-learn's ``as_frame=True``, Arrow's ``to_pandas()``). What an
extra provides: the import names of every distribution its requirements in ``pyproject.toml`` pull
in, followed through the installed packages' own requirements. Every module an example uses must come with zenml's core
dependencies or one of its declared extras, and every declared extra must be used.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata as metadata
import re
import sys
import tomllib
from functools import cache
from pathlib import Path

import pytest
from example_helpers import EXAMPLES
from packaging.requirements import Requirement

from zenml.cli.example_catalog import EXTRAS, load_example
from zenml.registry import BACKEND_KINDS, resolve_backend

ROOT = EXAMPLES.parent
#: zenml modules that load a framework when used → the framework's import name
FRAMEWORK_OF = {
    "zenml.steps.trainer.tensorflow_trainer": "tensorflow",
    "zenml.steps.trainer.torch_trainer": "torch",
    "zenml.backends.training.tensorflow": "tensorflow",
    "zenml.backends.training.torch_distributed": "torch",
    "zenml.backends.processing.beam": "apache_beam",
    "zenml.backends.processing.spark": "pyspark",
    "zenml.backends.orchestrator.dask": "dask",
    "zenml.backends.orchestrator.airflow": "airflow",
    "zenml_sklearn": "sklearn",
}


def _name(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


@cache
def _pyproject_extras() -> dict[str, list[str]]:
    return dict(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])


def _closure(requirements: list[str]) -> set[str]:
    """The distributions ``requirements`` install, following the installed packages' requirements."""
    found: set[str] = set()
    todo = [Requirement(line) for line in requirements]
    while todo:
        requirement = todo.pop()
        if _name(requirement.name) == "zenml":  # zenml[a,b] inside an extra: those extras' requirements
            todo += [Requirement(line) for extra in requirement.extras for line in _pyproject_extras()[extra]]
            continue
        if _name(requirement.name) in found:
            continue
        try:
            required = metadata.requires(requirement.name) or []
        except metadata.PackageNotFoundError:
            pytest.skip(f"{requirement.name} is not installed here; the check needs every extra (.[all])")
        found.add(_name(requirement.name))
        for line in required:
            dependency = Requirement(line)
            wanted = [{"extra": extra} for extra in [*requirement.extras, ""]]
            if dependency.marker is None or any(dependency.marker.evaluate(env) for env in wanted):
                todo.append(dependency)
    return found


@cache
def _importable(requirements: tuple[str, ...]) -> frozenset[str]:
    """Top-level import names of the distributions ``requirements`` install."""
    distributions = _closure(list(requirements))
    return frozenset(
        module
        for module, owners in metadata.packages_distributions().items()
        if any(_name(owner) in distributions for owner in owners)
    )


def _core() -> frozenset[str]:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return _importable(tuple(dependencies))


def _extra(extra: str) -> frozenset[str]:
    return _importable(tuple(_pyproject_extras()[extra]))


def _framework(module: str) -> str | None:
    return next((name for prefix, name in FRAMEWORK_OF.items() if module.startswith(prefix)), None)


def _uses_in_code(tree: ast.AST, local: set[str]) -> set[str]:
    """Third-party modules a Python file loads: its imports, the zenml names and backends it uses, pandas calls."""
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            used |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            used.add(node.module.split(".")[0])
            if node.module.split(".")[0] in ("zenml", "zenml_sklearn"):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    owner = getattr(getattr(module, alias.name, None), "__module__", None) or node.module
                    used.add(_framework(owner) or "zenml")
        elif isinstance(node, ast.keyword) and node.arg in BACKEND_KINDS and isinstance(node.value, ast.Constant):
            used.add(_framework(resolve_backend(node.arg, str(node.value.value))) or "zenml")
        elif isinstance(node, ast.keyword) and node.arg == "as_frame":  # scikit-learn builds the frame with pandas
            used.add("pandas")
        elif isinstance(node, ast.Attribute) and node.attr == "to_pandas":  # Arrow converts with pandas
            used.add("pandas")
        elif isinstance(node, ast.List) and any(isinstance(e, ast.Constant) and e.value == "serve" for e in node.elts):
            used.add("uvicorn")  # a command list running `zen serve`, which runs uvicorn
    return {name for name in used if name not in sys.stdlib_module_names and name not in local}


def _uses(folder: Path) -> set[str]:
    files = sorted(folder.glob("*.py"))
    local = {path.stem for path in files}
    used = {"zenml"}
    for path in files:
        used |= _uses_in_code(ast.parse(path.read_text(), str(path)), local)
    for words in load_example(folder).spec.run:
        if list(words[:2]) == ["zen", "serve"]:
            used.add("uvicorn")
        for option, value in zip(words, words[1:], strict=False):
            kind = option.removeprefix("--")
            if kind in BACKEND_KINDS:
                used.add(_framework(resolve_backend(kind, value)) or "zenml")
    return used - {"zenml", "zenml_sklearn"}


def _folders() -> list[str]:
    return sorted(path.name for path in EXAMPLES.iterdir() if (path / "example.yaml").is_file())


@pytest.mark.parametrize("name", _folders())
def test_needs_cover_what_the_example_uses(name: str) -> None:
    folder = EXAMPLES / name
    needs = load_example(folder).spec.needs
    used = _uses(folder)
    provided = _core().union(*(_extra(extra) for extra in needs))
    missing = sorted(used - provided)
    providers = {module: [extra for extra in EXTRAS if module in _extra(extra)] for module in missing}
    assert not missing, f"{name} uses {missing}, not installed by its needs {list(needs)}; extras with it: {providers}"
    unused = [extra for extra in needs if EXTRAS[extra] not in used]
    assert not unused, f"{name} needs {unused} but uses nothing of them"


def test_the_check_sees_indirect_needs() -> None:
    """The quickstart's pandas comes from ``as_frame=True``, its TensorFlow from the trainer it imports."""
    used = _uses(EXAMPLES / "quickstart")
    assert {"tensorflow", "sklearn", "pandas"} <= used
    assert "pandas" not in _core() and "pandas" not in _extra("sklearn"), "scikit-learn alone does not bring pandas"
    assert "pandas" in _extra("beam"), "Beam's dataframe extra brings pandas"
