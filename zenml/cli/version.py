"""``zen version``: the zenml and Python versions."""

from __future__ import annotations

from zenml.cli.output import console


def version() -> None:
    """Print the zenml and Python versions."""
    import platform

    from zenml import __version__

    console.print(f"zenml {__version__} (Python {platform.python_version()})")
