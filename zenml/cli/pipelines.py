"""``zen pipelines list``: the pipelines with recorded runs."""

from __future__ import annotations

import typer

from zenml.cli.options import StackOption, open_repository
from zenml.cli.output import console, table, when

pipelines_app = typer.Typer(help="Pipelines with recorded runs.", no_args_is_help=True)


@pipelines_app.command("list")
def pipelines_list(stack: StackOption = None) -> None:
    """List pipelines with their number of runs."""
    records = open_repository(stack).pipelines()
    grid = table("pipeline", "runs", "last run (UTC)")
    for record in records:
        grid.add_row(record.name, str(record.run_count), when(record.last_run_at))
    console.print(grid if records else "No pipelines recorded yet.")
