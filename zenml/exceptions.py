"""The zenml exception family: every error a user can cause is one of these."""

from __future__ import annotations


class ZenMLError(Exception):
    """Base class of all zenml errors; the message names the thing at fault and the fix."""


class ConfigError(ZenMLError):
    """Bad configuration: parameters, stacks, specs, CLI options, repository layout."""


class GraphError(ZenMLError):
    """A pipeline graph that cannot run: cycles, missing inputs, duplicate names, type clashes."""


class StepError(ZenMLError):
    """A step failed while running; carries the step name and the original exception."""

    def __init__(self, step: str, error_type: str, message: str) -> None:
        super().__init__(f"step '{step}' failed: {error_type}: {message}")
        self.step = step
        self.error_type = error_type
        self.error_message = message


class ArtifactError(ZenMLError):
    """An artifact cannot be written, found, read or verified."""


class MetadataStoreError(ZenMLError):
    """The metadata store is unreachable, has an unknown schema or lacks a record."""


class BackendError(ZenMLError):
    """A backend (orchestrator, processing, training) cannot be resolved or failed to run."""
