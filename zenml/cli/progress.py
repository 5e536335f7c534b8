"""The live per-step display of ``zen run``: a Rich table with progress bars on terminals, plain lines elsewhere."""

from __future__ import annotations

import io
import sys
import threading
import time
from types import TracebackType
from typing import TextIO

from rich.console import Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from zenml.cli.output import console, is_interactive, styled_status
from zenml.runtime.events import StepOutcome, StepProgress
from zenml.utils.status import StepStatus
from zenml.utils.text import seconds

BAR_WIDTH = 24


class StepOutcomes:
    """A ``RunListener`` that remembers how each step ended, for the summary line and ``--json``.

    It shows nothing and is not a ``ProgressListener``: under ``--json`` steps pay nothing for progress.
    """

    def __init__(self) -> None:
        self.outcomes: dict[str, StepOutcome] = {}

    def __enter__(self) -> StepOutcomes:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        """Nothing to stop."""

    def step_started(self, name: str) -> None:
        """Nothing to remember until it ends."""

    def step_finished(self, outcome: StepOutcome) -> None:
        """Remember ``outcome``."""
        self.outcomes[outcome.name] = outcome


class ProgressDisplay(StepOutcomes):
    """A ``ProgressListener`` that shows each step's status, elapsed time and progress while a run executes.

    On a terminal: a live table, with a bar (or, when the total is unknown, a count) for steps that
    report progress. Elsewhere: one line per finished step, and no progress (it would flood CI
    logs). ``quiet``: nothing.
    """

    def __init__(self, steps: list[str], *, quiet: bool = False) -> None:
        super().__init__()
        self.status: dict[str, str] = dict.fromkeys(steps, StepStatus.PENDING)
        self.started: dict[str, float] = {}
        self.elapsed: dict[str, float] = {}
        self.progress: dict[str, StepProgress] = {}
        self.quiet = quiet
        # The step (its thread) writes while Live's refresh thread renders: a new key mid-render
        # would break the iteration, so both hold the lock.
        self._lock = threading.Lock()
        self.streams: list[AboveTable] = []  # while the table is shown: sys.stdout's and sys.stderr's stand-ins
        # What steps print goes above the table through ``AboveTable`` streams, not Rich's own
        # stand-ins, which print every flushed fragment of a progress bar as a line of its own.
        self.live = (
            Live(
                console=console,
                refresh_per_second=8,
                get_renderable=self.render,
                transient=False,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            if is_interactive() and not quiet
            else None
        )

    def __enter__(self) -> ProgressDisplay:
        return self

    def _show(self) -> None:
        """Start the live table, at the run's first step event (once).

        Not on entering: the table's refresh thread would then run while the run is compiled and
        recorded, and a process running a second thread cannot fork the fork server its step
        workers come from (``zenml.backends.orchestrator.fork_server``), so they would start from a
        fresh interpreter, ~0.2 s later.
        """
        if self.live is None or self.streams:
            return
        self.live.start()
        self.streams = [AboveTable(sys.stdout), AboveTable(sys.stderr)]
        sys.stdout, sys.stderr = self.streams

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self.live is None or not self.streams:
            return
        try:
            for stream in self.streams:
                stream.finish()
        finally:  # a second Ctrl-C must not leave the streams replaced or the cursor hidden
            self.live.stop()
            # only undo our own stand-ins: whatever replaced them since stays
            if sys.stdout is self.streams[0]:
                sys.stdout = self.streams[0].original
            if sys.stderr is self.streams[1]:
                sys.stderr = self.streams[1].original

    def step_started(self, name: str) -> None:
        """Mark ``name`` running."""
        self._show()
        with self._lock:
            self.status[name] = StepStatus.RUNNING
            self.started[name] = time.perf_counter()

    def step_finished(self, outcome: StepOutcome) -> None:
        """Record how ``outcome.name`` ended (and print a line when not on a terminal)."""
        super().step_finished(outcome)
        self._show()
        with self._lock:
            self.status[outcome.name] = outcome.status
            self.elapsed[outcome.name] = outcome.duration
        if self.live is None and not self.quiet:
            console.print(f"  {outcome.name}: {styled_status(outcome.status)} ({seconds(outcome.duration)})")

    def step_progress(self, progress: StepProgress) -> None:
        """Show the step's latest report (one bar per step: the task that reported last)."""
        if self.live is None:
            return
        with self._lock:
            self.progress[progress.name] = progress

    def render(self) -> Group:
        """The table as it is now (step, status, elapsed time, progress), then any line being printed."""
        lines = [Text.from_ansi(line, no_wrap=True, overflow="ellipsis") for line in self._partial_lines()]
        return Group(self._table(), *lines)

    def _partial_lines(self) -> list[str]:
        return [line for line in (stream.current() for stream in self.streams) if line]

    def _table(self) -> Table:
        grid = Table(show_header=True, header_style="bold", show_edge=False, pad_edge=False)
        grid.add_column("step")
        grid.add_column("status")
        grid.add_column("time", justify="right")
        grid.add_column("progress")
        grid.add_column("", justify="right")
        now = time.perf_counter()
        with self._lock:
            for name, status in self.status.items():
                elapsed = self.elapsed.get(name)
                if elapsed is None and name in self.started:
                    elapsed = now - self.started[name]
                cells = _progress_cells(self.progress.get(name), running=status == StepStatus.RUNNING)
                grid.add_row(name, styled_status(status), seconds(elapsed) if elapsed is not None else "", *cells)
        return grid


class AboveTable(io.TextIOBase):
    r"""Stands in for ``sys.stdout`` or ``sys.stderr`` while the live table is shown.

    A finished line is printed above the table, as a terminal would leave it: progress bars
    (Keras, tqdm) rewrite their line after ``\r`` until a newline, so only the text after the last
    ``\r`` is kept. The line being written is shown under the table (``current``) as it changes.
    """

    def __init__(self, original: TextIO) -> None:
        self.original = original
        self._pending = ""
        self._lock = threading.Lock()

    @property
    def rich_proxied_file(self) -> TextIO:
        """Where Rich consoles write: the real stream (through this stand-in they would loop)."""
        return self.original

    def write(self, text: str) -> int:
        """Print each line ``text`` finishes above the table; keep the unfinished rest."""
        with self._lock:
            *done, self._pending = (self._pending + text).split("\n")
            # a bar rewritten thousands of times keeps only what is shown now, not its history
            if "\r" in self._pending:
                self._pending = _as_shown(self._pending) + ("\r" if self._pending.endswith("\r") else "")
        if done:
            console.print(Text("\n").join(Text.from_ansi(_as_shown(line)) for line in done), soft_wrap=True)
        return len(text)

    def current(self) -> str:
        """The line being written, as shown now (empty when none)."""
        with self._lock:
            return _as_shown(self._pending)

    def finish(self) -> None:
        """Print the unfinished line above the table, as the display stops."""
        with self._lock:
            rest, self._pending = _as_shown(self._pending), ""
        if rest:
            console.print(Text.from_ansi(rest), soft_wrap=True)

    def flush(self) -> None:
        """Nothing to flush: finished lines are printed at once, the unfinished one is on the display."""

    def isatty(self) -> bool:
        """Whether the real stream is a terminal (it is: the table is only shown on one)."""
        return self.original.isatty()

    def fileno(self) -> int:
        """The real stream's descriptor."""
        return self.original.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        """The real stream's encoding."""
        return getattr(self.original, "encoding", "utf-8")


def _as_shown(line: str) -> str:
    """What a terminal shows of ``line``: the text after its last carriage return (trailing ones ignored)."""
    return line.rstrip("\r").rsplit("\r", 1)[-1]


def _progress_cells(progress: StepProgress | None, *, running: bool) -> tuple[ProgressBar | str, str]:
    """A bar and ``3/10 epochs``; with no total, a pulsing bar while running and ``131,072 rows``."""
    if progress is None:
        return "", ""
    unit = f" {progress.unit}" if progress.unit else ""
    if progress.total is None:
        bar = ProgressBar(total=None, width=BAR_WIDTH, pulse=True) if running else ""
        return bar, f"{_number(progress.done)}{unit}"
    bar = ProgressBar(total=progress.total, completed=min(progress.done, progress.total), width=BAR_WIDTH)
    return bar, f"{_number(progress.done)}/{_number(progress.total)}{unit}"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
