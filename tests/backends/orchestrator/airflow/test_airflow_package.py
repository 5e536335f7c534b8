"""The ``zenml.backends.orchestrator.airflow`` package: its parts, its one-module names, and no Airflow import."""

from __future__ import annotations

import json
import subprocess
import sys

import zenml.backends.orchestrator.airflow as package
from zenml.backends.orchestrator.airflow import dag, environment, orchestrator, supervision
from zenml.registry import resolve_backend
from zenml.utils.importing import import_object


def test_every_name_of_the_package_is_the_object_its_part_defines() -> None:
    parts = (dag, environment, orchestrator, supervision)
    for name in package.__all__:
        owners = [part for part in parts if name in vars(part) and vars(part)[name] is getattr(package, name)]
        assert owners, f"{name} is not defined by any part of the package"


def test_the_registry_name_resolves_to_the_class_it_records() -> None:
    path = resolve_backend("orchestrator", "airflow")
    cls = import_object(path)
    assert cls is package.AirflowOrchestrator
    assert f"{cls.__module__}.{cls.__qualname__}" == path  # so a run records 'airflow', not a dotted path


def test_importing_the_package_does_not_import_airflow() -> None:
    code = "import json, sys; import zenml.backends.orchestrator.airflow; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "airflow" not in {name.split(".")[0] for name in json.loads(result.stdout)}
