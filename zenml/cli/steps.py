"""``zen steps list``: the step classes zenml ships, or the steps of one pipeline."""

from __future__ import annotations

import json

import typer

from zenml.cli.output import console, table
from zenml.cli.targets import load_pipeline

steps_app = typer.Typer(help="Step classes and pipeline steps.", no_args_is_help=True)


@steps_app.command("list")
def steps_list(
    pipeline: str | None = typer.Option(
        None, "--pipeline", metavar="TARGET", help="List this pipeline target's steps instead."
    ),
) -> None:
    """List the step classes zenml ships (and plugins add), or the steps of one pipeline."""
    if pipeline is not None:
        loaded = load_pipeline(pipeline)
        inputs = loaded.resolved_inputs()
        grid = table("step", "type", "params", "inputs", title=f"pipeline {loaded.name}")
        for name in loaded.order():
            step = loaded.steps[name]
            grid.add_row(
                name,
                step.config_type(),
                json.dumps(step.get_params()),
                ", ".join(f"{k}←{v}" for k, v in inputs[name].items()),
            )
        console.print(grid)
        return
    from zenml.steps.catalog import shipped_steps

    found = shipped_steps()
    grid = table("step class", "parameters", "summary")
    grid.columns[0].min_width = max((len(path) for path in found), default=0)  # a class path is never folded
    for path, klass in found.items():
        summary = (klass.__doc__ or "").strip().splitlines()[0] if klass.__doc__ else ""
        params = ", ".join(klass.__new__(klass).param_specs())
        grid.add_row(path, params, summary)
    if not grid.rows:
        console.print("No step classes are shipped yet; write your own with @step or BaseStep.")
        return
    console.print(grid)
