"""Each package's ``__all__`` is exactly its public API, every name imports, and ``import zenml`` stays light."""

from __future__ import annotations
import __future__

import importlib
import json
import pkgutil
import subprocess
import sys
import typing
from types import ModuleType

import pytest

import zenml

HEAVY = ["tensorflow", "torch", "apache_beam", "pyspark", "py4j", "pandas", "airflow", "dask", "sqlalchemy", "plotly",
         "fastapi", "uvicorn", "starlette"]


def _packages() -> list[str]:
    names = ["zenml"]
    for info in pkgutil.walk_packages(zenml.__path__, "zenml."):
        if info.ispkg and ".migrations" not in info.name:
            names.append(info.name)
    return names


def _public_names(module: ModuleType) -> set[str]:
    """Names a package defines or re-exports on purpose: not submodules, typing helpers or ``annotations``."""
    names = set()
    for name, value in vars(module).items():
        if name.startswith("_") or isinstance(value, ModuleType):
            continue
        if value is __future__.annotations or getattr(typing, name, object()) is value:
            continue
        names.add(name)
    return names


PACKAGES = [name for name in _packages() if name != "zenml"]


def test_top_level_exports_are_lazy_and_complete() -> None:
    assert zenml.__all__ == sorted(zenml.__all__)
    assert dir(zenml) == sorted(zenml.__all__)
    for name in zenml.__all__:
        assert getattr(zenml, name) is not None
    with pytest.raises(AttributeError, match="module 'zenml' has no attribute 'nope'"):
        _ = zenml.nope  # type: ignore[attr-defined]


def test_top_level_names_are_the_real_objects() -> None:
    from zenml.pipelines import SimplePipeline, pipeline
    from zenml.steps import BaseStep, Metrics, StepContext, step

    assert (zenml.step, zenml.pipeline, zenml.BaseStep) == (step, pipeline, BaseStep)
    assert (zenml.SimplePipeline, zenml.StepContext, zenml.Metrics) == (SimplePipeline, StepContext, Metrics)


@pytest.mark.parametrize("package", PACKAGES)
def test_all_matches_public_names(package: str) -> None:
    module = importlib.import_module(package)
    public = _public_names(module)
    exported = getattr(module, "__all__", None)
    if exported is None:
        assert public == set(), f"{package} has public names {sorted(public)} but no __all__"
        return
    assert len(exported) == len(set(exported)), f"{package}.__all__ has duplicates"
    assert public <= set(exported), f"{package} does not export {sorted(public - set(exported))}"
    lazy = set(exported) - public  # served by a module __getattr__ so optional frameworks load only when used
    assert not lazy or hasattr(module, "__getattr__"), f"{package}.__all__ names missing objects {sorted(lazy)}"


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_imports(package: str) -> None:
    module = importlib.import_module(package)
    for name in getattr(module, "__all__", []):
        namespace: dict[str, object] = {}
        exec(f"from {package} import {name}", namespace)  # the import statement itself is under test
        assert namespace[name] is getattr(module, name)


def test_import_zenml_stays_light() -> None:
    code = (
        "import json, sys; import zenml; light = sorted(sys.modules);"
        "import zenml.steps, zenml.pipelines, zenml.testing; print(json.dumps([light, sorted(sys.modules)]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    after_zenml, after_core = json.loads(result.stdout)
    loaded = {name.split(".")[0] for name in after_zenml}
    assert not loaded & set(HEAVY), f"import zenml loaded {sorted(loaded & set(HEAVY))}"
    frameworks = {"tensorflow", "torch", "apache_beam", "pyspark", "pandas", "airflow", "dask"}
    core_loaded = {name.split(".")[0] for name in after_core}
    assert not core_loaded & frameworks, f"steps/pipelines/testing loaded {sorted(core_loaded & frameworks)}"
