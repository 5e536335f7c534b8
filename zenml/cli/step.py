"""``zen step exec|begin|end``: run one step of a stored spec, or open and close a scheduled run.

These are the worker entry points orchestrators call (``python -m zenml step exec SPEC STEP``).
"""

from __future__ import annotations

from pathlib import Path

import typer

from zenml.cli.options import SpecStackOption
from zenml.cli.output import console, styled_status
from zenml.exceptions import ConfigError
from zenml.utils.status import RunStatus
from zenml.utils.text import plural, seconds

step_app = typer.Typer(help="Run one step of a stored spec (the worker entry point).", no_args_is_help=True)


@step_app.command("list", hidden=True, context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def step_list() -> None:
    """Point 'zen step list' (legacy ZenML's spelling, and an easy slip) at 'zen steps list'."""
    raise ConfigError(
        "'zen step' runs one step of a stored spec (the worker entry point); "
        "did you mean 'zen steps list'? It lists the step classes zenml ships"
    )


SCHEDULED_RUN_HELP = "A deployed template's execution, named by the scheduler's run id (e.g. Airflow's)."


@step_app.command("exec")
def step_exec(
    spec: Path = typer.Argument(..., help="The run spec YAML."),
    step: str = typer.Argument(..., help="The step to execute."),
    stack: SpecStackOption = None,
    no_cache: bool = typer.Option(False, "--no-cache", help="Execute even if cached."),
    single_attempt: bool = typer.Option(
        False, "--single-attempt", help="One attempt, ignoring the step's retries (the caller retries)."
    ),
    scheduled_run: str | None = typer.Option(None, "--scheduled-run", help=SCHEDULED_RUN_HELP),
) -> None:
    """Execute one step of a stored spec, recording it exactly as an orchestrator would."""
    from zenml.engine import run_worker_step

    outcome = run_worker_step(
        spec,
        step,
        stack=stack,
        enable_cache=not no_cache,
        single_attempt=single_attempt,
        scheduled_run=scheduled_run,
    )
    console.print(f"step {outcome.name} {styled_status(outcome.status)} in {seconds(outcome.duration)}")

@step_app.command("begin")
def step_begin(
    spec: Path = typer.Argument(..., help="The deployed template spec YAML."),
    scheduled_run: str = typer.Option(..., "--scheduled-run", help=SCHEDULED_RUN_HELP),
    stack: SpecStackOption = None,
) -> None:
    """Record a new run of a deployed template (the first task of each scheduled execution)."""
    from zenml.engine import begin_scheduled_run

    begun = begin_scheduled_run(spec, scheduled_run, stack=stack)
    console.print(f"Run {begun.run_id} {styled_status(RunStatus.RUNNING)} ({plural(len(begun.steps), 'step')})")

@step_app.command("end")
def step_end(
    spec: Path = typer.Argument(..., help="The deployed template spec YAML."),
    scheduled_run: str = typer.Option(..., "--scheduled-run", help=SCHEDULED_RUN_HELP),
    stack: SpecStackOption = None,
) -> None:
    """Give a scheduled execution its final status; exit 1 when it failed (the last task of each)."""
    from zenml.engine import end_scheduled_run

    ended = end_scheduled_run(spec, scheduled_run, stack=stack)
    console.print(f"Run {ended.id} {styled_status(ended.status)}")
    if ended.status != RunStatus.COMPLETED:
        raise typer.Exit(1)
