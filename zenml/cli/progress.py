"""The live per-step display of ``zen run``: a Rich table on terminals, plain lines elsewhere."""

from __future__ import annotations

import time
from types import TracebackType

from rich.live import Live
from rich.table import Table

from zenml.cli.output import console, is_interactive, seconds, styled_status
from zenml.runtime.events import StepOutcome


class ProgressDisplay:
    """A ``RunListener`` that shows each step's status and elapsed time while a run executes."""

    def __init__(self, steps: list[str], *, quiet: bool = False) -> None:
        self.status = dict.fromkeys(steps, "pending")
        self.started: dict[str, float] = {}
        self.elapsed: dict[str, float] = {}
        self.quiet = quiet
        self.live = (
            Live(console=console, refresh_per_second=8, get_renderable=self._render, transient=False)
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
        self.status[name] = "running"
        self.started[name] = time.perf_counter()

    def step_finished(self, outcome: StepOutcome) -> None:
        """Record how ``outcome.name`` ended (and print a line when not on a terminal)."""
        self.status[outcome.name] = outcome.status
        self.elapsed[outcome.name] = outcome.duration
        if self.live is None and not self.quiet:
            console.print(f"  {outcome.name}: {styled_status(outcome.status)} ({seconds(outcome.duration)})")

    def _render(self) -> Table:
        grid = Table(show_header=True, header_style="bold", show_edge=False, pad_edge=False)
        grid.add_column("step")
        grid.add_column("status")
        grid.add_column("time", justify="right")
        now = time.perf_counter()
        for name, status in self.status.items():
            elapsed = self.elapsed.get(name)
            if elapsed is None and name in self.started:
                elapsed = now - self.started[name]
            grid.add_row(name, styled_status(status), seconds(elapsed) if elapsed is not None else "")
        return grid
