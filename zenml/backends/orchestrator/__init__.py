"""Orchestrator backends: the abstract base and the in-process implementation."""

from zenml.backends.orchestrator.base import BaseOrchestrator
from zenml.backends.orchestrator.local import LocalOrchestrator

__all__ = ["BaseOrchestrator", "LocalOrchestrator"]
