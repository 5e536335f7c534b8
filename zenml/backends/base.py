"""``BaseBackend``: what orchestrator, processing and training backends share (the parameter contract, checks)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from zenml.exceptions import ConfigError
from zenml.utils.params import Configurable

if TYPE_CHECKING:
    from zenml.runtime.stores import Stores


class BaseBackend(Configurable):
    """A backend: configured by explicit keyword parameters, recorded in the run spec.

    Subclasses set ``backend_kind`` through their kind's base class
    (``BaseOrchestrator``, ``BaseProcessingBackend``, ``BaseTrainingBackend``).
    """

    backend_kind: ClassVar[str]
    _config_kind: ClassVar[str] = "backend"

    def check_available(self) -> None:
        """Refuse, when a run is compiled, a backend whose packages or programs are not installed.

        Called whenever a backend is loaded from a spec, so a missing extra is bad input (exit 2)
        even when every step would be served from the cache. Default: nothing to check.

        Raises:
            ConfigError: names what to install.
        """

    def preflight(self, stores: Stores) -> None:
        """Refuse, before the run is recorded, what this backend cannot do with these stores.

        Default: nothing to check. Remote backends check the stores are shared.
        """


def require_module(module: str, backend: str, extra: str) -> None:
    """Refuse a backend whose framework is not installed, naming the extra that installs it.

    Raises:
        ConfigError: ``module`` cannot be found.
    """
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ConfigError(f"{backend} needs {module}, which is not installed: pip install 'zenml[{extra}]'")
