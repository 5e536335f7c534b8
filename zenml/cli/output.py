"""Console output for the CLI: one Rich console, tables, and short human formats."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from zenml.utils.status import RunStatus, StepStatus

# Pipes and CI logs get a wide fixed width so ids and URLs are never folded mid-word.
_WIDTH = None if sys.stdout.isatty() else 200
console = Console(highlight=False, soft_wrap=True, width=_WIDTH)
err_console = Console(stderr=True, highlight=False, soft_wrap=True, width=_WIDTH)

STATUS_STYLES: dict[str, str] = {
    StepStatus.COMPLETED: "green",
    StepStatus.CACHED: "cyan",
    StepStatus.RUNNING: "yellow",
    StepStatus.FAILED: "red",
    StepStatus.CRASHED: "red",
    StepStatus.TIMED_OUT: "red",
    StepStatus.SKIPPED: "dim",
    RunStatus.DEPLOYED: "blue",
    StepStatus.PENDING: "dim",
}


def styled_status(status: str) -> str:
    """Status text in its colour."""
    return f"[{STATUS_STYLES.get(status, 'white')}]{status}[/]"


def when(timestamp: float | None) -> str:
    """A UTC timestamp as ``2026-11-26 17:53:44``."""
    if timestamp is None:
        return "-"
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def size(value: int) -> str:
    """Bytes as ``1.2 MB``."""
    amount = float(value)
    for unit in ("B", "kB", "MB", "GB"):
        if amount < 1000 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    return f"{amount:.1f} TB"


def table(*columns: str, title: str | None = None) -> Table:
    """A plain table with the given column headers."""
    result = Table(title=title, show_edge=False, header_style="bold", pad_edge=False)
    for column in columns:
        result.add_column(column, overflow="fold")
    return result


def error(message: str) -> None:
    """Print an error in one or two lines to stderr."""
    err_console.print(f"[red]Error:[/] {escape(message)}", markup=True, highlight=False, emoji=False)


def is_interactive() -> bool:
    """Whether stdout is a terminal (live displays) or a pipe/file (plain lines)."""
    return sys.stdout.isatty()


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send what the block writes to stdout to stderr instead, so stdout can carry one JSON document.

    Both levels: ``sys.stdout`` (prints, Rich, the step log tee) and file descriptor 1 (C
    extensions, and worker processes started meanwhile, which inherit it).
    """
    original = sys.stdout
    original.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        original.flush()  # what reached the old stream's buffer in the block still goes to stderr
        os.dup2(saved, 1)
        os.close(saved)


def print_json(document: dict[str, Any]) -> None:
    """Write ``document`` to stdout as one JSON document (plain text: no Rich markup, wrapping or colour)."""
    sys.stdout.write(json.dumps(document, indent=2, allow_nan=False) + "\n")
    sys.stdout.flush()
