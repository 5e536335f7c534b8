"""Capturing what a step prints and logs, per thread, so concurrent steps keep separate logs.

``sys.stdout``/``sys.stderr`` are wrapped while any capture is active: a write goes to the
original stream (so the output is still seen) and to the capture of the writing thread. Log
records reach the capture through a handler on the root logger that keeps only the records of
that thread, at the loggers' own levels (nothing here changes a level). Output written straight
to the file descriptors (C extensions, child processes) is not captured.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

MAX_LOG_CHARS = 4_000_000  # keep the last 4 MB of a very chatty step, not all of it


class StepLog:
    """The text one step attempt produced, truncated at the front beyond ``MAX_LOG_CHARS``."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._size = 0
        self.dropped = 0

    def write(self, text: str) -> None:
        """Append ``text``, dropping the oldest text once over the limit."""
        self._parts.append(text)
        self._size += len(text)
        if self._size > 2 * MAX_LOG_CHARS:
            whole = "".join(self._parts)
            self.dropped += len(whole) - MAX_LOG_CHARS
            self._parts, self._size = [whole[-MAX_LOG_CHARS:]], MAX_LOG_CHARS

    def text(self) -> str:
        """Everything kept, with a note when the beginning was dropped."""
        whole = "".join(self._parts)
        if self._size > MAX_LOG_CHARS:
            self.dropped += len(whole) - MAX_LOG_CHARS
            whole = whole[-MAX_LOG_CHARS:]
            self._parts, self._size = [whole], len(whole)
        note = f"[... {self.dropped} earlier characters dropped ...]\n" if self.dropped else ""
        return note + whole


# Per thread, the captures open in it, innermost last (a step may run a pipeline in-process).
_ACTIVE: dict[int, list[StepLog]] = {}
_LOCK = threading.Lock()


class _Tee(io.TextIOBase):
    """Stands in for ``sys.stdout``/``sys.stderr`` while captures are active."""

    def __init__(self, original: TextIO) -> None:
        self.original = original

    def write(self, text: str) -> int:
        for capture in _ACTIVE.get(threading.get_ident(), ()):
            capture.write(text)
        return self.original.write(text)

    def flush(self) -> None:
        self.original.flush()

    def isatty(self) -> bool:
        return self.original.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.original, "encoding", "utf-8")

    def fileno(self) -> int:
        return self.original.fileno()

    def __getattr__(self, name: str) -> object:
        # Only called for what the tee lacks. ``rich_proxied_file`` is how Rich finds the real stream
        # behind its own stand-in for ``sys.stdout`` (a live display's): a console writing to the tee
        # would go back through that stand-in, which prints through the console again, for ever. So
        # the tee is as transparent to Rich as the stand-in it wraps (and raises like any file when
        # it wraps a plain stream).
        if name == "rich_proxied_file":
            return getattr(self.original, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


class _ThreadHandler(logging.Handler):
    """Sends each log record to the capture of the thread that emitted it."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.stands_in_for_last_resort = False

    def emit(self, record: logging.LogRecord) -> None:
        captures = _ACTIVE.get(record.thread or 0, ())
        if captures:
            line = self.format(record) + "\n"
            for capture in captures:
                capture.write(line)
        if self.stands_in_for_last_resort and logging.lastResort and record.levelno >= logging.lastResort.level:
            # With no handler configured Python prints warnings through ``lastResort``; adding this
            # handler would silence that, so keep printing them (past the tee: already captured).
            stream = sys.stderr.original if isinstance(sys.stderr, _Tee) else sys.stderr
            stream.write(record.getMessage() + "\n")


_HANDLER = _ThreadHandler()


@contextmanager
def capture_output() -> Iterator[StepLog]:
    """Capture this thread's prints and log records for the duration of the block."""
    log = StepLog()
    ident = threading.get_ident()
    with _LOCK:
        # Installed on every capture, not only the first: code between captures (a test's capsys,
        # a CLI runner, contextlib.redirect_stdout) may have replaced the streams since.
        _install()
        _ACTIVE.setdefault(ident, []).append(log)
    try:
        yield log
    finally:
        with _LOCK:
            open_here = _ACTIVE[ident]
            open_here.remove(log)
            if not open_here:
                del _ACTIVE[ident]
            if not _ACTIVE:
                _uninstall()


def _install() -> None:
    if not isinstance(sys.stdout, _Tee):
        sys.stdout = _Tee(sys.stdout)
    if not isinstance(sys.stderr, _Tee):
        sys.stderr = _Tee(sys.stderr)
    root = logging.getLogger()
    if _HANDLER not in root.handlers:
        _HANDLER.stands_in_for_last_resort = not root.handlers
        root.addHandler(_HANDLER)


def _uninstall() -> None:
    logging.getLogger().removeHandler(_HANDLER)
    # Only undo our own wrapper: if something replaced the stream meanwhile, leave theirs alone.
    if isinstance(sys.stdout, _Tee):
        sys.stdout = sys.stdout.original
    if isinstance(sys.stderr, _Tee):
        sys.stderr = sys.stderr.original
