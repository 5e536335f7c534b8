"""The ``zen`` command-line interface."""

from __future__ import annotations

import sys


def main() -> None:
    """Entry point of the ``zen`` console script."""
    from zenml.cli.app import main as run

    sys.exit(run())


__all__ = ["main"]
