"""``zen runs list|show|logs|resume|compare|report``: the recorded runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from zenml.cli.options import JsonOption, QuietOption, StackOption, open_repository
from zenml.cli.output import console, styled_status, table, when
from zenml.exceptions import ConfigError
from zenml.utils.text import metric_text, seconds

if TYPE_CHECKING:
    from zenml.history.compare import RunComparison


runs_app = typer.Typer(help="Recorded runs.", no_args_is_help=True)


@runs_app.command("list")
def runs_list(
    pipeline: str | None = typer.Option(None, "--pipeline", "-p", help="Only runs of this pipeline."),
    limit: int = typer.Option(50, "--limit", "-n", min=1, help="Show at most this many runs."),
    metric: list[str] = typer.Option([], "--metric", "-m", help="Add a column with this metric (repeatable)."),
    sort: str | None = typer.Option(None, "--sort", help="Sort by this metric, best (highest) first."),
    ascending: bool = typer.Option(False, "--asc", help="With --sort: lowest first (e.g. for a loss)."),
    stack: StackOption = None,
) -> None:
    """List runs, newest first, optionally with metric columns and sorted by a metric."""
    metadata = open_repository(stack).stores().metadata
    metadata.reap_dead_runs()
    if sort is None:
        records = metadata.runs(pipeline=pipeline, limit=limit)
    else:
        _check_metric(metadata, sort, pipeline)
        records = [record for record, _ in metadata.runs_by_metric(sort, pipeline, limit, ascending)]
        metric = [sort, *[m for m in metric if m != sort]]
    columns = {name: metadata.metric_by_run(name, [r.id for r in records]) for name in metric}
    grid = table("run", "pipeline", "status", "created (UTC)", "duration", "orchestrator", *metric)
    for record in records:
        cells = [metric_text(columns[name].get(record.id)) for name in metric]
        grid.add_row(
            record.id,
            record.pipeline,
            styled_status(record.status),
            when(record.created_at),
            seconds(record.duration),
            record.orchestrator,
            *cells,
        )
    console.print(grid if records else "No runs recorded yet; start one with 'zen run'.")

def _check_metric(metadata: Any, name: str, pipeline: str | None) -> None:
    """Refuse ``--sort NAME`` when no run (of ``pipeline``) logged that metric, listing those that were."""
    known = metadata.metric_names(pipeline)
    if name in known:
        return
    scope = f" of pipeline '{pipeline}'" if pipeline else ""
    logged = f"metrics logged: {', '.join(known)}" if known else "no run logged any metric yet"
    raise ConfigError(f"--sort '{name}': no run{scope} logged a metric named '{name}' ({logged})")

@runs_app.command("show")
def runs_show(
    run_id: str = typer.Argument(..., help="Run id (or a unique prefix)."),
    stack: StackOption = None,
) -> None:
    """Show a run: status, provenance, steps, outputs and metrics."""
    run = open_repository(stack).run(run_id)
    record = run.record
    console.print(f"[bold]Run {record.id}[/] of pipeline [bold]{record.pipeline}[/]: {styled_status(record.status)}")
    console.print(
        f"  created {when(record.created_at)} UTC, took {seconds(record.duration)}, orchestrator {record.orchestrator}"
    )
    git = run.git
    console.print(
        f"  git: {git['commit'] or '(no commit)'}{' (dirty)' if git['dirty'] else ''}"
        if git
        else "  git: (not a git repository)"
    )
    console.print(f"  spec: {record.spec_path} (sha256 {record.spec_sha256[:12]})")
    for step_name, read in run.data_versions.items():
        origin = f"pinned to the data of run {read.pinned_from}" if read.pinned_from else "read from its source"
        console.print(f"  data: {step_name} {origin}, version {read.version}", markup=False)
    if run.error:
        console.print(f"  [red]{run.error}[/]")
    grid = table("step", "status", "duration", "params", "outputs")
    for step in run.steps.values():
        outputs = ", ".join(f"{name}=#{view.id}" for name, view in step.outputs.items())
        grid.add_row(
            step.name,
            styled_status(step.status),
            seconds(step.duration),
            json.dumps(step.params),
            outputs or (step.error or ""),
        )
    console.print(grid)
    from zenml.history.reports.collect import trainer_tasks

    for step_name, task in trainer_tasks(run).items():
        console.print(f"  task of {step_name}: {task}")
    metrics = run.metrics()
    if metrics:
        mgrid = table("step", "metric", "value")
        for step_name, values in metrics.items():
            for name, value in values.items():
                mgrid.add_row(step_name, name, metric_text(value))
        console.print(mgrid)

@runs_app.command("logs")
def runs_logs(
    run_id: str = typer.Argument(..., help="Run id (or a unique prefix)."),
    step: str | None = typer.Argument(None, help="Only this step (default: every step, in run order)."),
    stack: StackOption = None,
) -> None:
    """Print what each step printed and logged, attempt by attempt, whichever orchestrator ran it."""
    run = open_repository(stack).run(run_id)
    if step is not None and step not in run.steps:
        known = ", ".join(run.steps) or "none recorded"
        raise ConfigError(f"run {run.id} has no recorded step '{step}' (steps: {known})")
    names = [step] if step is not None else list(run.steps)
    shown = 0
    for name in names:
        for attempt, text in run.steps[name].logs():
            console.rule(f"{name} · {attempt}", style="dim")
            console.out(text, end="" if text.endswith("\n") else "\n", highlight=False)
            shown += 1
    if not shown:
        console.print(
            f"No logs stored for {'step ' + repr(step) if step else 'run ' + run.id} (its steps printed nothing)."
        )

@runs_app.command("resume")
def runs_resume(
    run_id: str = typer.Argument(..., help="The failed or crashed run to finish."),
    no_cache: bool = typer.Option(
        False,
        "--no-cache",
        help="Run the remaining steps without the cache (a run started with --no-cache resumes so anyway).",
    ),
    quiet: QuietOption = False,
    json_: JsonOption = False,
    stack: StackOption = None,
) -> None:
    """Finish a failed or killed run: completed steps are kept, the rest run."""
    from zenml.engine import resume_run

    cache = False if no_cache else None  # None: the run's own choice
    if json_:  # with --quiet too: the document is all that --json prints
        from zenml.cli.run_report import report_as_json

        found: list[Any] = []

        def start(listener: Any) -> Any:
            found.append(open_repository(stack))  # no repository, or an unknown id, is bad input: the document's error
            record = found[0].run(run_id)
            return resume_run(record.id, listener=listener, enable_cache=cache, repository=found[0])

        report_as_json(start, lambda error: _resumed_run(found[0], error) if found else None)
        return
    repository = open_repository(stack)
    from zenml.cli.progress import ProgressDisplay

    record = repository.run(run_id)
    try:
        with ProgressDisplay([s.name for s in record.steps.values()], quiet=quiet) as display:
            run = resume_run(record.id, listener=display, enable_cache=cache, repository=repository)
    except KeyboardInterrupt as interrupt:  # Ctrl-C: say so and how to go on, then exit 130
        from zenml.cli.run_report import report_interrupted

        stopped = _resumed_run(repository, interrupt)
        if stopped is not None:
            console.print(f"Run {stopped.id} {styled_status(stopped.status)} after resume")
        report_interrupted(stopped)
        raise
    if not quiet:  # as after ``zen run``: a replay's datasource says which run's data it was pinned to
        from zenml.cli.run_report import RunReport

        for note in RunReport.of(run, display.outcomes).data_notes():
            console.print(note, markup=False)
    console.print(f"Run {run.id} {styled_status(run.status)} after resume")

def _resumed_run(repository: Any, error: BaseException) -> Any:
    """The run ``error`` says was recorded (a step failed during the resume), else ``None`` (bad input)."""
    run_id = getattr(error, "run_id", None)
    return repository.run(run_id) if isinstance(run_id, str) else None

@runs_app.command("compare")
def runs_compare(
    run_ids: list[str] = typer.Argument(
        ..., help="Two or more run ids (or prefixes); each is compared with the first."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write a self-contained HTML comparison page here instead of printing."
    ),
    stack: StackOption = None,
) -> None:
    """Show what differs between runs, each against the first: parameters, code, inputs, metrics, caching."""
    from zenml.history.compare import compare_with_first

    if output is not None:
        _check_report_output(output)
    if len(run_ids) < 2:
        raise ConfigError(f"'zen runs compare' needs at least 2 runs, got {len(run_ids)}; give two or more run ids")
    repository = open_repository(stack)
    runs = [repository.run(run_id) for run_id in run_ids]
    if output is not None:
        from zenml.history.reports import write_compare_page  # the page modules load only when a page is asked for

        written = write_compare_page(runs, output)
        console.print(f"Comparison of {len(runs)} runs written to {written}", markup=False)
        return
    for comparison in compare_with_first(runs):
        _print_comparison(comparison)

@runs_app.command("report")
def runs_report(
    run_id: str = typer.Argument(..., help="Run id (or a unique prefix)."),
    output: Path = typer.Option(..., "--output", "-o", help="The HTML file to write (its folder must exist)."),
    stack: StackOption = None,
) -> None:
    """Write a self-contained HTML report of a run: graph, timeline, parameters, statistics, training, evaluation."""
    from zenml.history.reports import write_run_report

    _check_report_output(output)
    run = open_repository(stack).run(run_id)
    written = write_run_report(run, output)
    console.print(f"Report of run {run.id} ({run.status}) written to {written}", markup=False)

def _check_report_output(output: Path) -> None:
    """Refuse a bad output path or a missing plotly before the stores are opened."""
    from zenml.history.reports import output_path
    from zenml.history.reports.page import plotly

    output_path(output)
    plotly()

def _print_comparison(comparison: RunComparison) -> None:
    a, b = comparison.a, comparison.b
    console.print(f"[bold]{a.id}[/] ({a.pipeline}, {a.status})  vs  [bold]{b.id}[/] ({b.pipeline}, {b.status})")
    if not comparison.same_pipeline:
        console.print("  [yellow]the runs belong to different pipelines[/]")
    grid = table("", a.id, b.id)
    grid.add_row("git commit", *(_mark(value) for value in comparison.git))
    grid.add_row("python", *(_mark(value) for value in comparison.python))
    for name, (version_a, version_b) in comparison.packages.items():
        grid.add_row(f"package {name}", _mark(version_a), _mark(version_b), style="yellow")
    console.print(grid)
    steps = table("step", "status", "changed", "details")
    for step in comparison.steps:
        details = [f"{k}: {va!r} → {vb!r}" for k, (va, vb) in step.params.items()]
        details += [f"input {k} data changed" for k in step.inputs]
        details += ["code changed"] if step.code_changed and None not in step.code else []
        status = " → ".join(value or "(absent)" for value in step.status)
        steps.add_row(step.name, status, "[yellow]yes[/]" if step.changed else "no", "; ".join(details))
    console.print(steps)
    metrics = table("step", "metric", a.id, b.id, "delta")
    for step_name, values in comparison.metrics.items():
        for metric, (value_a, value_b) in values.items():
            delta = f"{value_b - value_a:+.6g}" if value_a is not None and value_b is not None else "-"
            metrics.add_row(step_name, metric, _number(value_a), _number(value_b), delta)
    if comparison.metrics:
        console.print(metrics)

def _mark(value: str | None) -> str:
    return value if value is not None else "-"

def _number(value: float | None) -> str:
    return f"{value:.6g}" if value is not None else "-"
