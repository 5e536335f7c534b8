"""Every orchestrator passes the conformance suite of ``zenml.testing.orchestrators``."""

from __future__ import annotations

import importlib.util
import tempfile

import pytest

from zenml.backends.orchestrator.airflow import AirflowOrchestrator
from zenml.backends.orchestrator.dask import DaskOrchestrator
from zenml.backends.orchestrator.parallel import ParallelOrchestrator
from zenml.repository import Repository
from zenml.testing.orchestrators import Orchestrator, OrchestratorCheck, parametrize_orchestrator_checks

ORCHESTRATORS = [
    "local",
    pytest.param(ParallelOrchestrator(workers=2), marks=pytest.mark.timeout(120)),
    pytest.param(DaskOrchestrator(n_workers=2), marks=[pytest.mark.dask, pytest.mark.timeout(180)]),
    # One Airflow home for every check, so its database is migrated once (each check runs
    # `airflow dags test`, about 10 s).
    pytest.param(
        AirflowOrchestrator(airflow_home=tempfile.mkdtemp(prefix="zenml-conformance-airflow-")),
        marks=[pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(300)],
    ),
]


@parametrize_orchestrator_checks(ORCHESTRATORS)
def test_conformance(orchestrator: Orchestrator, check: OrchestratorCheck, repo: Repository) -> None:
    if isinstance(orchestrator, DaskOrchestrator):
        pytest.importorskip("dask.distributed")
    if isinstance(orchestrator, AirflowOrchestrator) and importlib.util.find_spec("airflow") is None:
        pytest.skip("Airflow is not installed (pip install 'zenml[airflow]')")
    check(orchestrator, repo)


def test_registry_names_resolve() -> None:
    from zenml.registry import resolve_backend

    assert resolve_backend("orchestrator", "parallel") == "zenml.backends.orchestrator.parallel.ParallelOrchestrator"
    assert resolve_backend("orchestrator", "dask") == "zenml.backends.orchestrator.dask.DaskOrchestrator"
    airflow = "zenml.backends.orchestrator.airflow.orchestrator.AirflowOrchestrator"
    assert resolve_backend("orchestrator", "airflow") == airflow
