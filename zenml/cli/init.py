"""``zen init``: make a folder a zenml repository."""

from __future__ import annotations

from pathlib import Path

import typer

from zenml.cli.output import console


def init(path: Path = typer.Argument(Path("."), help="Folder to make a zenml repository.")) -> None:
    """Create .zen/ (default stack: SQLite metadata + local artifact folder) and ignore it in git."""
    init_repository(path)


def init_repository(path: Path) -> None:
    """Make ``path`` a zenml repository and say so (or that it already is one, changing nothing).

    What ``zen init`` does; ``zen examples run`` does it too, in the folder it copies an example into.
    """
    from zenml.repository import Repository, already_initialised, find_root

    if already_initialised(path):
        existing = Repository(path)
        existing.check_metadata_file()  # a lost metadata.db is reported here too, not hidden by "nothing changed"
        console.print(
            f"{existing.root} is already a zenml repository (active stack '{existing.active_stack_name()}'); "
            "nothing changed"
        )
        return
    outer = find_root(path.resolve().parent)
    repository = Repository.init(path)
    console.print(f"Initialised zenml repository in {repository.root} (stack 'default')")
    if outer is not None:
        console.print(
            f"Note: it is inside the zenml repository at {outer}; commands run under {repository.root} now use "
            "the new one"
        )
