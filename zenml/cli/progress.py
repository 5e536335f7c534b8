"""The live per-step display of ``zen run``: a Rich table with progress bars on terminals, plain lines elsewhere."""

from __future__ import annotations

import threading
import time
from types import TracebackType

from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table

from zenml.cli.output import console, is_interactive, seconds, styled_status
from zenml.runtime.events import StepOutcome, StepProgress

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
        self.status = dict.fromkeys(steps, "pending")
        self.started: dict[str, float] = {}
        self.elapsed: dict[str, float] = {}
        self.progress: dict[str, StepProgress] = {}
        self.quiet = quiet
        # The step (its thread) writes while Live's refresh thread renders: a new key mid-render
        # would break the iteration, so both hold the lock.
        self._lock = threading.Lock()
        self.live = (
            Live(console=console, refresh_per_second=8, get_renderable=self.render, transient=False)
            if is_interactive() and not quiet
            else None
        )

    def __enter__(self) -> ProgressDisplay:
        if self.live is not None:
            self.live.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self.live is not None:
            self.live.stop()

    def step_started(self, name: str) -> None:
        """Mark ``name`` running."""
        with self._lock:
            self.status[name] = "running"
            self.started[name] = time.perf_counter()

    def step_finished(self, outcome: StepOutcome) -> None:
        """Record how ``outcome.name`` ended (and print a line when not on a terminal)."""
        super().step_finished(outcome)
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

    def render(self) -> Table:
        """The table as it is now: step, status, elapsed time, progress."""
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
                cells = _progress_cells(self.progress.get(name), running=status == "running")
                grid.add_row(name, styled_status(status), seconds(elapsed) if elapsed is not None else "", *cells)
        return grid


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
