"""Every orchestrator passes the conformance suite of ``zenml.testing.orchestrators``."""

from __future__ import annotations

import pytest

from zenml.backends.orchestrator.dask import DaskOrchestrator
from zenml.backends.orchestrator.parallel import ParallelOrchestrator
from zenml.repository import Repository
from zenml.testing.orchestrators import Orchestrator, OrchestratorCheck, parametrize_orchestrator_checks

ORCHESTRATORS = [
    "local",
    pytest.param(ParallelOrchestrator(workers=2), marks=pytest.mark.timeout(120)),
    pytest.param(DaskOrchestrator(n_workers=2), marks=[pytest.mark.dask, pytest.mark.timeout(180)]),
]


@parametrize_orchestrator_checks(ORCHESTRATORS)
def test_conformance(orchestrator: Orchestrator, check: OrchestratorCheck, repo: Repository) -> None:
    if isinstance(orchestrator, DaskOrchestrator):
        pytest.importorskip("dask.distributed")
    check(orchestrator, repo)


def test_registry_names_resolve() -> None:
    from zenml.registry import resolve_backend

    assert resolve_backend("orchestrator", "parallel") == "zenml.backends.orchestrator.parallel.ParallelOrchestrator"
    assert resolve_backend("orchestrator", "dask") == "zenml.backends.orchestrator.dask.DaskOrchestrator"
