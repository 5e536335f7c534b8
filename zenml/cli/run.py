"""``zen run`` and ``zen plan``: run a pipeline (or replay a stored spec), or show what a run would do."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from zenml.cli.options import JsonOption, QuietOption, StackOption, keep_strings, parse_assignments
from zenml.cli.output import console, styled_status, table
from zenml.cli.targets import is_spec, load_pipeline
from zenml.exceptions import ConfigError, ZenMLError
from zenml.utils.status import RunStatus, StepStatus
from zenml.utils.text import plural, seconds

if TYPE_CHECKING:
    from zenml.history.runs import PipelineRun
    from zenml.runtime.events import RunListener


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
    quiet: QuietOption = False,
    json_: JsonOption = False,
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
        from zenml import engine

        if self.pipeline is None:
            return engine.rerun_spec(
                Path(self.target),
                listener=listener,
                refresh_data=self.refresh_data,
                data_from=self.data_from,
                **self.common,
            )
        return engine.run_pipeline(
            self.pipeline, params=self.params, listener=listener, data_from=self.data_from, **self.common
        )

    def compare_data_with(self) -> str | None:
        """The run whose data versions the summary compares with: the replayed one under --refresh-data."""
        from zenml.engine import replayed_run

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
    if result.status == RunStatus.DEPLOYED:
        orchestrator_spec = result.spec.backends.orchestrator
        console.print(
            f"Run {result.id} {styled_status(RunStatus.DEPLOYED)} to the {orchestrator_spec.name} orchestrator "
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

def plan(
    target: str = typer.Argument(..., help="A spec YAML, path/file.py:pipeline or package.module:pipeline."),
    param: list[str] = typer.Option([], "--param", help="STEP.KEY=VALUE step parameter."),
    stack: StackOption = None,
    no_cache: bool = typer.Option(False, "--no-cache", help="Plan as if the cache were off."),
    refresh_data: bool = typer.Option(False, "--refresh-data", help="Plan a stored spec on fresh data."),
    data_from: str | None = typer.Option(None, "--data-from", help="Plan on the data this earlier run read."),
) -> None:
    """Show, per step, whether a run would execute it or use the cache, and why (runs nothing)."""
    from zenml import engine

    if is_spec(target):
        if param:
            raise ConfigError("--param cannot change a stored spec; plan the pipeline itself with --param")
        plans = engine.plan_spec_file(
            Path(target), stack=stack, enable_cache=not no_cache, refresh_data=refresh_data, data_from=data_from
        )
    else:
        if refresh_data:
            raise ConfigError("--refresh-data applies to a stored spec; a pipeline target always reads its sources")
        pipeline = load_pipeline(target)
        plans = engine.plan_pipeline(
            pipeline,
            params=_step_params(pipeline, param),
            stack=stack,
            enable_cache=not no_cache,
            data_from=data_from,
        )
    grid = table("step", "action", "why")
    for step in plans:
        action = styled_status(StepStatus.CACHED) if step.action == StepStatus.CACHED else "[yellow]run[/]"
        grid.add_row(step.name, action, step.reason)
    console.print(grid)
    to_run = sum(1 for step in plans if step.action == "run")
    console.print(f"{to_run} of {plural(len(plans), 'step')} would run")
