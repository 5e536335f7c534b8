"""``zen artifacts list|show``: the stored artifacts, their producers, previews and lineage."""

from __future__ import annotations

import json
from typing import Any

import typer

from zenml.cli.options import StackOption, open_repository
from zenml.cli.output import console, size, table

artifacts_app = typer.Typer(help="Stored artifacts.", no_args_is_help=True)


@artifacts_app.command("list")
def artifacts_list(
    run: str | None = typer.Option(
        None, "--run", help="Only the artifacts this run's steps output, computed or served from the cache."
    ),
    limit: int = typer.Option(50, "--limit", "-n", min=1, help="Show at most this many (newest first)."),
    stack: StackOption = None,
) -> None:
    """List stored artifacts with their producer, format, size and content hash."""
    repository = open_repository(stack)
    if run:
        _run_artifacts(repository, run, limit)
        return
    rows = repository.stores().metadata.artifacts(limit=limit)
    grid = table("id", "run", "step.output", "format", "size", "content hash")
    for record, producer_run, step, output in rows:
        grid.add_row(
            str(record.id), producer_run, f"{step}.{output}", record.format, size(record.size), record.content_hash[:23]
        )
    console.print(grid if rows else "No artifacts stored yet.")

def _run_artifacts(repository: Any, run: str, limit: int) -> None:
    """The artifacts a run used, and for each cached one the run that produced it."""
    run_id = repository.run(run).id
    rows = repository.stores().metadata.run_artifacts(run_id)[:limit]
    grid = table("id", "step.output", "produced by", "format", "size", "content hash")
    for record, step, output, producer_run, producer_step in rows:
        origin = "this run" if producer_run == run_id else f"run {producer_run} ({producer_step}), cached"
        grid.add_row(
            str(record.id), f"{step}.{output}", origin, record.format, size(record.size), record.content_hash[:23]
        )
    console.print(grid if rows else f"Run {run_id} has no recorded outputs.")

@artifacts_app.command("show")
def artifacts_show(
    artifact_id: int = typer.Argument(..., help="Artifact id (see 'zen artifacts list')."),
    lineage: bool = typer.Option(False, "--lineage", help="Show the steps and artifacts it derives from."),
    stack: StackOption = None,
) -> None:
    """Show an artifact's record and a preview of its value (after verifying its hash)."""
    view = open_repository(stack).artifact(artifact_id)
    record = view.record
    console.print(f"[bold]Artifact {record.id}[/]: {record.data_type} as {record.format}, {size(record.size)}")
    console.print(f"  uri: {record.uri}")
    console.print(f"  content hash: {record.content_hash}")
    if lineage:
        console.print("Lineage:")
        for line in view.lineage().tree():
            console.print(f"  {line}", markup=False)
        return
    console.print(_preview(view.read()), markup=False)

def _preview(value: Any, limit: int = 2000) -> Any:
    if isinstance(value, dict) and "splits" in value and hasattr(value, "rows"):  # statistics
        grid = table("split", "column", "kind", "count", "missing", "summary")
        for row in getattr(value, "rows")():  # noqa: B009 -- Statistics, checked structurally above
            grid.add_row(*row)
        return grid
    if hasattr(value, "splits") and hasattr(value, "column_names"):  # a dataset
        splits = ", ".join(f"{name} ({value.num_rows(name)} rows)" for name in value.splits)
        first = next(iter(value.batches(value.splits[0], batch_rows=5)), None) if value.splits else None
        head = first.slice(0, 5).to_pandas() if first is not None else ""
        return f"dataset: splits {splits}\ncolumns: {', '.join(value.column_names)}\n{head}"
    shape = getattr(value, "shape", None)
    if shape is not None and hasattr(value, "dtype"):
        head = repr(value)
        return f"array shape={tuple(shape)} dtype={value.dtype}\n{head[:limit]}"
    if hasattr(value, "head") and shape is not None:
        return f"frame shape={tuple(shape)}\n{value.head(10)!s}"
    text = json.dumps(value, indent=2) if isinstance(value, (dict, list)) else repr(value)
    return text if len(text) <= limit else text[:limit] + " …"
