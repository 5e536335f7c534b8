"""``zen runs``, ``zen pipelines``, ``zen artifacts`` and ``zen models``: browsing what was recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from zenml.cli.app import app
from zenml.cli.options import StackOption
from zenml.cli.output import console, print_json, seconds, size, styled_status, table, when
from zenml.exceptions import ConfigError
from zenml.utils.text import metric_text

if TYPE_CHECKING:
    from zenml.history.compare import RunComparison

runs_app = typer.Typer(help="Recorded runs.", no_args_is_help=True)
pipelines_app = typer.Typer(help="Pipelines with recorded runs.", no_args_is_help=True)
artifacts_app = typer.Typer(help="Stored artifacts.", no_args_is_help=True)
models_app = typer.Typer(help="Deployed models (the bundles deployer steps exported).", no_args_is_help=True)
app.add_typer(runs_app, name="runs")
app.add_typer(pipelines_app, name="pipelines")
app.add_typer(artifacts_app, name="artifacts")
app.add_typer(models_app, name="models")


def _repository(stack: str | None) -> Any:
    from zenml.repository import Repository

    return Repository(stack=stack)


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
    metadata = _repository(stack).stores().metadata
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
    run = _repository(stack).run(run_id)
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


@pipelines_app.command("list")
def pipelines_list(stack: StackOption = None) -> None:
    """List pipelines with their number of runs."""
    records = _repository(stack).pipelines()
    grid = table("pipeline", "runs", "last run (UTC)")
    for record in records:
        grid.add_row(record.name, str(record.run_count), when(record.last_run_at))
    console.print(grid if records else "No pipelines recorded yet.")


@models_app.command("list")
def models_list(
    pipeline: str | None = typer.Option(None, "--pipeline", "-p", help="Only deployments of this pipeline."),
    limit: int = typer.Option(50, "--limit", "-n", min=1, help="Show at most this many deployments."),
    deployed: bool = typer.Option(False, "--deployed", help="Only models that passed their gate and were exported."),
    as_json: bool = typer.Option(False, "--json", help="Print the deployments as one JSON document."),
    stack: StackOption = None,
) -> None:
    """List deployments, newest first: pipeline, run, metrics, when, and where the bundle went (or why not)."""
    records = _repository(stack).stores().metadata.deployments(pipeline, limit, deployed_only=deployed)
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


@artifacts_app.command("list")
def artifacts_list(
    run: str | None = typer.Option(
        None, "--run", help="Only the artifacts this run's steps output, computed or served from the cache."
    ),
    limit: int = typer.Option(50, "--limit", "-n", min=1, help="Show at most this many (newest first)."),
    stack: StackOption = None,
) -> None:
    """List stored artifacts with their producer, format, size and content hash."""
    repository = _repository(stack)
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
    view = _repository(stack).artifact(artifact_id)
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


@runs_app.command("logs")
def runs_logs(
    run_id: str = typer.Argument(..., help="Run id (or a unique prefix)."),
    step: str | None = typer.Argument(None, help="Only this step (default: every step, in run order)."),
    stack: StackOption = None,
) -> None:
    """Print what each step printed and logged, attempt by attempt, whichever orchestrator ran it."""
    run = _repository(stack).run(run_id)
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
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the final line."),
    json_: bool = typer.Option(
        False, "--json", help="Print only one JSON document describing the run (no live display; logs to stderr)."
    ),
    stack: StackOption = None,
) -> None:
    """Finish a failed or killed run: completed steps are kept, the rest run."""
    from zenml.launch import resume_run

    cache = False if no_cache else None  # None: the run's own choice
    if json_:  # with --quiet too: the document is all that --json prints
        from zenml.cli.run_report import report_as_json

        found: list[Any] = []

        def start(listener: Any) -> Any:
            found.append(_repository(stack))  # no repository, or an unknown id, is bad input: the document's error
            record = found[0].run(run_id)
            return resume_run(record.id, listener=listener, enable_cache=cache, repository=found[0])

        report_as_json(start, lambda error: _resumed_run(found[0], error) if found else None)
        return
    repository = _repository(stack)
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
    repository = _repository(stack)
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
    run = _repository(stack).run(run_id)
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
