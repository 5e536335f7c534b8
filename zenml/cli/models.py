"""``zen models list``: the deployments deployer steps recorded, and where their bundles went."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from zenml.cli.options import StackOption, json_flag, open_repository
from zenml.cli.output import console, print_json, table, when
from zenml.utils.text import metric_text

models_app = typer.Typer(help="Deployed models (the bundles deployer steps exported).", no_args_is_help=True)


@models_app.command("list")
def models_list(
    pipeline: str | None = typer.Option(None, "--pipeline", "-p", help="Only deployments of this pipeline."),
    limit: int = typer.Option(50, "--limit", "-n", min=1, help="Show at most this many deployments."),
    deployed: bool = typer.Option(False, "--deployed", help="Only models that passed their gate and were exported."),
    as_json: Annotated[bool, json_flag("Print the deployments as one JSON document.")] = False,
    stack: StackOption = None,
) -> None:
    """List deployments, newest first: pipeline, run, metrics, when, and where the bundle went (or why not)."""
    records = open_repository(stack).stores().metadata.deployments(pipeline, limit, deployed_only=deployed)
    if as_json:
        print_json({"deployments": [_deployment_document(record) for record in records]})
        return
    grid = table("pipeline", "run", "metrics", "deployed (UTC)", "where")
    for record in records:
        metrics = ", ".join(f"{name}={metric_text(value, 4)}" for name, value in record.metrics.items())
        where = record.uri if record.deployed else f"[yellow]not deployed: {escape(record.reason or '')}[/]"
        grid.add_row(record.pipeline, record.run_id, metrics or "-", when(record.created_at), where)
    if not records:
        console.print("No deployments recorded yet; add a deployer: pipeline.add_deployer(LocalDeployer(target=...)).")
        return
    console.print(grid)

def _deployment_document(record: Any) -> dict[str, Any]:
    return {
        "pipeline": record.pipeline,
        "run": record.run_id,
        "step": record.step,
        "deployed": record.deployed,
        "uri": record.uri,
        "reason": record.reason,
        "gate": record.gate,
        "metrics": record.metrics,
        "created_at": when(record.created_at),
    }
