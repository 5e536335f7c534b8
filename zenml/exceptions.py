"""The zenml exception family: every error a user can cause is one of these."""

from __future__ import annotations

import re
import reprlib
from typing import Any

# Matched from each "://" (a pattern starting at the scheme was tried at every letter of a long
# word: quadratic, 44 s for a 160 kB value in a message); the scheme before it is checked by hand.
_URL_CREDENTIALS = re.compile(r"://[^:@/\s'\"]*:(?P<secret>[^/?#\s'\"]+)@")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")


#: How much of a bad value an error message quotes (an 8 MB parameter was once printed whole).
QUOTE_LIMIT = 200
#: The longest message a zenml error keeps; the middle of a longer one is cut (a backstop for values
#: echoed without ``excerpt``). The full text of a step's own error stays in its log.
MESSAGE_LIMIT = 2000

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxtuple, _REPR.maxset = 3, 12, 12, 12, 12
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = QUOTE_LIMIT


def redact_urls_in_text(text: str) -> str:
    """Replace the password of every ``scheme://user:password@`` URL inside free text with ``***``."""
    if "://" not in text:
        return text
    pieces, done = [], 0
    for match in _URL_CREDENTIALS.finditer(text):
        if _follows_a_scheme(text, match.start()):
            pieces += [text[done : match.start("secret")], "***"]
            done = match.end("secret")
    return "".join(pieces) + text[done:] if pieces else text


def _follows_a_scheme(text: str, end: int) -> bool:
    """Whether ``text[:end]`` ends in a URL scheme: scheme characters, at least one a letter."""
    start = end
    while start > 0 and text[start - 1] in _SCHEME_CHARS:
        start -= 1
    return any(char.isalpha() for char in text[start:end])


def excerpt(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` for an error message, cut to about ``limit`` characters.

    A long string keeps its head and says how long it was (``'abc…'… (8388608 characters)``);
    containers are shown by ``reprlib``, so a huge or deeply shared one is never walked whole.
    """
    if isinstance(value, str):
        return repr(value) if len(value) <= limit else f"{value[:limit]!r}… ({len(value)} characters)"
    text = _REPR.repr(value)
    return text if len(text) <= limit else f"{text[:limit]}…"


def _shorten(message: str) -> str:
    if len(message) <= MESSAGE_LIMIT:
        return message
    keep = MESSAGE_LIMIT // 2
    return f"{message[:keep]} … [{len(message) - 2 * keep} characters cut] … {message[-keep:]}"


class ZenMLError(Exception):
    """Base class of all zenml errors; the message names the thing at fault and the fix.

    Passwords inside URLs (``scheme://user:password@host``) are removed from every message, so
    no error printed, logged or stored by zenml can leak a database or store credential, and a
    message longer than ``MESSAGE_LIMIT`` characters loses its middle.

    ``run_id`` names the run recorded before the error (``None``: nothing was recorded, the error
    is bad input); ``run_status`` is that run's status once the error was recorded (``failed``),
    ``None`` when the metadata store could not take it. The CLI exits 1 when ``run_id`` is set.
    """

    run_id: str | None = None
    run_status: str | None = None

    def __init__(self, *args: object) -> None:
        super().__init__(*(_shorten(redact_urls_in_text(arg)) if isinstance(arg, str) else arg for arg in args))


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
