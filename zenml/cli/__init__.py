"""The ``zen`` command-line interface."""

from __future__ import annotations

import sys

from zenml.utils import collector


def main() -> None:
    """Entry point of the ``zen`` console script (and of ``python -m zenml``)."""
    if sys.argv[1:2] in (["run"], ["step"]):
        # only commands that run steps: the launcher and the step executor resume the collector
        # before any step does; other commands (a report, say) keep it on throughout
        collector.pause_for_startup()
    from zenml.cli.app import main as run

    collector.freeze_at_exit()  # shutdown would walk every object a run created (~100 ms)
    code = run()
    sys.exit(code)


__all__ = ["main"]
