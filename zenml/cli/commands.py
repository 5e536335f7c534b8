"""``zen init``, ``zen run``, ``zen graph``, ``zen steps list``, ``zen step exec`` and ``zen version``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from zenml.cli.app import app
from zenml.cli.options import StackOption, keep_strings, parse_assignments
from zenml.cli.output import console, seconds, styled_status, table
from zenml.cli.targets import is_spec, load_pipeline
from zenml.exceptions import ConfigError, ZenMLError
from zenml.utils.text import plural

if TYPE_CHECKING:
    from zenml.history.runs import PipelineRun
    from zenml.runtime.events import RunListener

steps_app = typer.Typer(help="Step classes and pipeline steps.", no_args_is_help=True)
step_app = typer.Typer(help="Run one step of a stored spec (the worker entry point).", no_args_is_help=True)
app.add_typer(steps_app, name="steps")
app.add_typer(step_app, name="step")


@app.command()
def init(path: Path = typer.Argument(Path("."), help="Folder to make a zenml repository.")) -> None:
    """Create .zen/ (default stack: SQLite metadata + local artifact folder) and ignore it in git."""
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


@app.command()
def run(
    target: str = typer.Argument(..., help="A spec YAML, path/file.py:pipeline or package.module:pipeline."),
    orchestrator: str | None = typer.Option(None, "--orchestrator", help="Orchestrator backend name."),
    processing: str | None = typer.Option(None, "--processing", help="Processing backend name."),
    training: str | None = typer.Option(None, "--training", help="Training backend name."),
    backend_opt: list[str] = typer.Option([], "--backend-opt", help="KIND.KEY=VALUE backend parameter."),
    param: list[str] = typer.Option([], "--param", help="STEP.KEY=VALUE step parameter."),
    stack: StackOption = None,
    no_cache: bool = typer.Option(False, "--no-cache", help="Run every step even if cached."),
    on_failure: str | None = typer.Option(
        None, "--on-failure", help="stop (default): no new step after a failure; continue: run independent steps."
    ),
    refresh_data: bool = typer.Option(
        False, "--refresh-data", help="Replaying a stored spec: read the sources anew, not the run's data."
    ),
    data_from: str | None = typer.Option(
        None, "--data-from", help="Serve the datasources from the data this earlier run read (new code, old data)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the final line."),
    json_: bool = typer.Option(
        False, "--json", help="Print only one JSON document describing the run (no live display; logs to stderr)."
    ),
) -> None:
    """Compile and run a pipeline (or re-run a stored spec as a new run, on the data its run read)."""
    options: dict[str, Any] = {
        "orchestrator": orchestrator,
        "processing": processing,
        "training": training,
        "backend_opt": backend_opt,
        "stack": stack,
        "enable_cache": not no_cache,
        "failure_policy": on_failure,
        "refresh_data": refresh_data,
        "data_from": data_from,
    }
    if json_:  # with --quiet too: the document is all that --json prints
        _run_as_json(target, param, options)
    else:
        _run_with_display(target, param, options, quiet=quiet)


class _Launch:
    """A ``zen run`` target made ready to run: its step names, and how to run it with a listener."""

    def __init__(self, target: str, param: list[str], options: dict[str, Any]) -> None:
        from zenml.repository import Repository

        self.repository = Repository()
        self.stack: str | None = options["stack"]
        self.common: dict[str, Any] = {
            **{key: options[key] for key in ("orchestrator", "processing", "training", "stack", "enable_cache")},
            "backend_options": parse_assignments(options["backend_opt"], "--backend-opt", "KIND"),
            "failure_policy": options["failure_policy"],
            "repository": self.repository,
        }
        self.target = target
        self.data_from: str | None = options["data_from"]
        self.refresh_data: bool = options["refresh_data"]
        if is_spec(target):
            if param:
                raise ConfigError(
                    "--param cannot change a stored spec (it would compute something else); "
                    "run the pipeline itself with --param instead"
                )
            from zenml.pipelines.spec import RunSpec

            path = Path(target)
            self.names = list(RunSpec.from_yaml(path.read_text(), target).steps) if path.is_file() else []
            self.pipeline: Any = None
        else:
            if self.refresh_data:
                raise ConfigError(
                    "--refresh-data replays a stored spec on fresh data; a pipeline target always reads its "
                    "sources (give the spec file, or use --data-from RUN for an earlier run's data)"
                )
            self.pipeline = load_pipeline(target)
            self.params = _step_params(self.pipeline, param)
            self.names = self.pipeline.order()

    def start(self, listener: RunListener) -> PipelineRun:
        """Run it, reporting to ``listener``."""
        from zenml import launch

        if self.pipeline is None:
            return launch.rerun_spec(
                Path(self.target),
                listener=listener,
                refresh_data=self.refresh_data,
                data_from=self.data_from,
                **self.common,
            )
        return launch.run_pipeline(
            self.pipeline, params=self.params, listener=listener, data_from=self.data_from, **self.common
        )

    def compare_data_with(self) -> str | None:
        """The run whose data versions the summary compares with: the replayed one under --refresh-data."""
        from zenml.launch import replayed_run

        if self.pipeline is None and self.refresh_data:
            return replayed_run(Path(self.target), stack=self.stack, repository=self.repository)
        return None

    def recorded_run(self, error: BaseException) -> PipelineRun | None:
        """The failed or interrupted run ``error`` names, from the stores it ran on (``None``: nothing recorded)."""
        from zenml.history.runs import PipelineRun

        run_id = getattr(error, "run_id", None)  # set by the engine on its errors and on Ctrl-C
        if not isinstance(run_id, str):
            return None
        stores = self.repository.stores(self.repository.stack(self.stack))
        return PipelineRun(stores.metadata.get_run(run_id), stores)


def _run_with_display(target: str, param: list[str], options: dict[str, Any], *, quiet: bool) -> None:
    from zenml.cli.progress import ProgressDisplay
    from zenml.cli.run_report import RunReport, report_interrupted

    ready = _Launch(target, param, options)
    display = ProgressDisplay(ready.names, quiet=quiet)
    try:
        with display:
            result = ready.start(display)
    except ZenMLError as error:
        if error.run_status is not None:  # recorded: the summary first; the CLI then prints the error, exits 1
            failed = ready.recorded_run(error)
            if failed is not None:
                _print_final_line(failed, RunReport.of(failed, display.outcomes).summary())
        raise
    except KeyboardInterrupt as interrupt:  # Ctrl-C: the summary and how to finish the run, then exit 130
        stopped = ready.recorded_run(interrupt)
        if stopped is not None:
            _print_final_line(stopped, RunReport.of(stopped, display.outcomes).summary())
        report_interrupted(stopped)
        raise
    if result.status == "deployed":
        orchestrator_spec = result.spec.backends.orchestrator
        console.print(
            f"Run {result.id} {styled_status('deployed')} to the {orchestrator_spec.name} orchestrator "
            f"({orchestrator_spec.params}); every scheduled execution is recorded as a run of its own"
        )
        return
    report = RunReport.of(result, display.outcomes, compare_data_with=ready.compare_data_with())
    if not quiet:
        for note in report.data_notes():
            console.print(note, markup=False)
    _print_final_line(result, report.summary())


def _print_final_line(run: PipelineRun, summary: str) -> None:
    console.print(f"Run {run.id} {styled_status(run.status)} in {seconds(run.duration)}: {summary}")


def _run_as_json(target: str, param: list[str], options: dict[str, Any]) -> None:
    """Run with no display and print the run as one JSON document, also when it fails (then re-raise)."""
    from zenml.cli.run_report import report_as_json

    launched: list[_Launch] = []

    def start(listener: RunListener) -> PipelineRun:
        launched.append(_Launch(target, param, options))
        return launched[0].start(listener)

    def compare_data_with() -> str | None:
        return launched[0].compare_data_with() if launched else None

    report_as_json(
        start, lambda error: launched[0].recorded_run(error) if launched else None, compare_data_with=compare_data_with
    )


def _step_params(pipeline: Any, items: list[str]) -> dict[str, dict[str, Any]]:
    values = parse_assignments(items, "--param", "STEP")
    steps = pipeline.steps

    def is_text(step: str, key: str) -> bool:
        spec = steps[step].param_specs().get(key) if step in steps else None
        return spec is not None and spec.annotation is str

    typed = keep_strings(values, items, is_text)
    for step, params in typed.items():  # --param s.rate=2 for a float parameter records 2.0, as code would
        for key, value in params.items():
            spec = steps[step].param_specs().get(key) if step in steps else None
            if spec is not None and spec.annotation is float and type(value) is int:
                params[key] = float(value)
    return typed


@app.command()
def plan(
    target: str = typer.Argument(..., help="A spec YAML, path/file.py:pipeline or package.module:pipeline."),
    param: list[str] = typer.Option([], "--param", help="STEP.KEY=VALUE step parameter."),
    stack: StackOption = None,
    no_cache: bool = typer.Option(False, "--no-cache", help="Plan as if the cache were off."),
    refresh_data: bool = typer.Option(False, "--refresh-data", help="Plan a stored spec on fresh data."),
    data_from: str | None = typer.Option(None, "--data-from", help="Plan on the data this earlier run read."),
) -> None:
    """Show, per step, whether a run would execute it or use the cache, and why (runs nothing)."""
    from zenml import launch

    if is_spec(target):
        if param:
            raise ConfigError("--param cannot change a stored spec; plan the pipeline itself with --param")
        plans = launch.plan_spec_file(
            Path(target), stack=stack, enable_cache=not no_cache, refresh_data=refresh_data, data_from=data_from
        )
    else:
        if refresh_data:
            raise ConfigError("--refresh-data applies to a stored spec; a pipeline target always reads its sources")
        pipeline = load_pipeline(target)
        plans = launch.plan_pipeline(
            pipeline,
            params=_step_params(pipeline, param),
            stack=stack,
            enable_cache=not no_cache,
            data_from=data_from,
        )
    grid = table("step", "action", "why")
    for step in plans:
        action = styled_status("cached") if step.action == "cached" else "[yellow]run[/]"
        grid.add_row(step.name, action, step.reason)
    console.print(grid)
    to_run = sum(1 for step in plans if step.action == "run")
    console.print(f"{to_run} of {plural(len(plans), 'step')} would run")


@app.command()
def graph(
    target: str = typer.Argument(..., help="A spec YAML or a pipeline target."),
    format_: str = typer.Option("mermaid", "--format", help="dot, mermaid or json."),
    stack: StackOption = None,
) -> None:
    """Print a pipeline's DAG as Graphviz dot, Mermaid or JSON (a stored spec is checked against its run's record)."""
    from zenml.cli.graphs import render_graph

    if format_ not in ("dot", "mermaid", "json"):
        raise ConfigError(f"--format '{format_}' is not one of dot, mermaid, json")
    console.print(render_graph(target, format_, stack), markup=False)


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
    stack: str | None = typer.Option(None, "--stack", help="Stack to use (default: the spec's)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Execute even if cached."),
    single_attempt: bool = typer.Option(
        False, "--single-attempt", help="One attempt, ignoring the step's retries (the caller retries)."
    ),
    scheduled_run: str | None = typer.Option(None, "--scheduled-run", help=SCHEDULED_RUN_HELP),
) -> None:
    """Execute one step of a stored spec, recording it exactly as an orchestrator would."""
    from zenml.launch import exec_step

    outcome = exec_step(
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
    stack: str | None = typer.Option(None, "--stack", help="Stack to use (default: the spec's)."),
) -> None:
    """Record a new run of a deployed template (the first task of each scheduled execution)."""
    from zenml.launch import begin_scheduled_run

    begun = begin_scheduled_run(spec, scheduled_run, stack=stack)
    console.print(f"Run {begun.run_id} {styled_status('running')} ({plural(len(begun.steps), 'step')})")


@step_app.command("end")
def step_end(
    spec: Path = typer.Argument(..., help="The deployed template spec YAML."),
    scheduled_run: str = typer.Option(..., "--scheduled-run", help=SCHEDULED_RUN_HELP),
    stack: str | None = typer.Option(None, "--stack", help="Stack to use (default: the spec's)."),
) -> None:
    """Give a scheduled execution its final status; exit 1 when it failed (the last task of each)."""
    from zenml.launch import end_scheduled_run

    ended = end_scheduled_run(spec, scheduled_run, stack=stack)
    console.print(f"Run {ended.id} {styled_status(ended.status)}")
    if ended.status != "completed":
        raise typer.Exit(1)


@app.command()
def version() -> None:
    """Print the zenml and Python versions."""
    import platform

    from zenml import __version__

    console.print(f"zenml {__version__} (Python {platform.python_version()})")
