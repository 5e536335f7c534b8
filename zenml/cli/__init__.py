"""The ``zen`` command-line interface."""

from __future__ import annotations

import gc
import sys

from zenml.utils import collector


def main() -> None:
    """Entry point of the ``zen`` console script (and of ``python -m zenml``)."""
    if sys.argv[1:2] in (["run"], ["step"]):
        # only commands that run steps: the launcher and the step executor resume the collector
        # before any step does; other commands (a report, say) keep it on throughout
        collector.pause_for_startup()
    from zenml.cli.app import main as run

    code = run()
    # The process ends here. Interpreter shutdown runs the cycle collector over every live object
    # (~80k after a run: ~100 ms of a 0.5 s ``zen run``); frozen objects are skipped. Nothing is
    # lost: stores and files are closed by the command itself, and objects that are still
    # referenced are finalised at shutdown as before. Only this console entry point does it, not
    # ``zenml.cli.app.main``, which tests and other programs call in a process that goes on.
    gc.freeze()
    sys.exit(code)


__all__ = ["main"]
