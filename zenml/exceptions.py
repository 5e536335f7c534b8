"""The zenml exception family: every error a user can cause is one of these."""

from __future__ import annotations

import re
from typing import Any

_URL_CREDENTIALS = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:@/\s'\"]*):(?P<secret>[^/?#\s'\"]+)@")


def redact_urls_in_text(text: str) -> str:
    """Replace the password of every ``scheme://user:password@`` URL inside free text with ``***``."""
    return _URL_CREDENTIALS.sub(lambda m: f"{m['head']}:***@", text)


class ZenMLError(Exception):
    """Base class of all zenml errors; the message names the thing at fault and the fix.

    Passwords inside URLs (``scheme://user:password@host``) are removed from every message, so
    no error printed, logged or stored by zenml can leak a database or store credential.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact_urls_in_text(arg) if isinstance(arg, str) else arg for arg in args))


class ConfigError(ZenMLError):
    """Bad configuration: parameters, stacks, specs, CLI options, repository layout."""


class GraphError(ZenMLError):
    """A pipeline graph that cannot run: cycles, missing inputs, duplicate names, type clashes."""


class StepError(ZenMLError):
    """A step failed while running; carries the step name and the original exception.

    ``status`` is how the step run is recorded: ``failed``, or ``timed_out`` when it was stopped.
    """

    def __init__(self, step: str, error_type: str, message: str, *, status: str = "failed") -> None:
        verb = "timed out" if status == "timed_out" else "failed"
        super().__init__(f"step '{step}' {verb}: {error_type}: {message}")
        self.step = step
        self.error_type = error_type
        self.error_message = message
        self.status = status

    def __reduce__(self) -> tuple[Any, ...]:
        # survive pickling between processes (the default would call __init__ with the message only)
        arguments = (type(self), self.step, self.error_type, self.error_message, self.status)
        return (_rebuild_step_error, arguments, dict(self.__dict__))


def _rebuild_step_error(cls: type[StepError], step: str, error_type: str, message: str, status: str) -> StepError:
    return cls(step, error_type, message, status=status)


class ArtifactError(ZenMLError):
    """An artifact cannot be written, found, read or verified."""


class MetadataStoreError(ZenMLError):
    """The metadata store is unreachable, has an unknown schema or lacks a record."""


class BackendError(ZenMLError):
    """A backend (orchestrator, processing, training) cannot be resolved or failed to run."""
