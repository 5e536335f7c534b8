"""``BaseBackend``: what orchestrator, processing and training backends share (the parameter contract)."""

from __future__ import annotations

from typing import ClassVar

from zenml.utils.params import Configurable


class BaseBackend(Configurable):
    """A backend: configured by explicit keyword parameters, recorded in the run spec.

    Subclasses set ``backend_kind`` through their kind's base class
    (``BaseOrchestrator``, ``ProcessingBackend``, ``TrainingBackend``).
    """

    backend_kind: ClassVar[str]
    _config_kind: ClassVar[str] = "backend"
