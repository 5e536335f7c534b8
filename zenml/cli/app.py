"""The ``zen`` command line: a Typer app whose errors become one-line messages and exit codes.

The app composes its commands from one table, ``COMMANDS``: each command module owns its Typer
group (or its command function) and never imports this module; a module is imported only when its
command runs or its help is shown, so ``zen --help`` and ``zen run`` do not import every command.

Exit codes: 0 the run completed; 1 a run was recorded and did not complete (a failed step, a dead
worker, a metadata store that could not be written); 2 bad input, nothing recorded; 130 Ctrl-C.
``--debug`` shows tracebacks; ``--verbose`` the frameworks' start-up output (hidden by default, see
``zenml.utils.quiet``).
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

import typer
import typer.main
from typer.core import TyperGroup
from typer.models import CommandInfo, TyperInfo

from zenml.cli.output import error
from zenml.exceptions import StepError, ZenMLError
from zenml.utils.quiet import set_verbose

try:  # typer >= 0.2x runs on its own bundled copy of click (the click package may be absent)
    from typer._click import Command, Context, HelpFormatter
    from typer._click.exceptions import ClickException
    from typer._click.utils import make_default_short_help
except ImportError:  # pragma: no cover -- older typer runs on the click package
    from click import ClickException, Command, Context, HelpFormatter  # type: ignore[assignment]
    from click.utils import make_default_short_help  # type: ignore[no-redef]


@dataclass(frozen=True)
class Entry:
    """One ``zen`` command of the table: where it lives, and what ``zen --help`` says of it."""

    #: ``"module:attribute"``: a ``typer.Typer`` (a command group) or a command function
    target: str
    #: the first paragraph of its help, listed without importing the module (a test keeps it in step)
    help: str


#: Every ``zen`` command, in the order ``zen --help`` lists them.
COMMANDS: dict[str, Entry] = {
    "init": Entry(
        "zenml.cli.init:init",
        "Create .zen/ (default stack: SQLite metadata + local artifact folder) and ignore it in git.",
    ),
    "run": Entry(
        "zenml.cli.run:run",
        "Compile and run a pipeline (or re-run a stored spec as a new run, on the data its run read).",
    ),
    "plan": Entry(
        "zenml.cli.run:plan",
        "Show, per step, whether a run would execute it or use the cache, and why (runs nothing).",
    ),
    "graph": Entry(
        "zenml.cli.graph:graph",
        "Print a pipeline's DAG as Graphviz dot, Mermaid or JSON (a stored spec is checked against its run's "
        "record).",
    ),
    "version": Entry("zenml.cli.version:version", "Print the zenml and Python versions."),
    "doctor": Entry(
        "zenml.cli.doctor:doctor",
        "Check the stores: stuck runs, missing or corrupt artifacts, unrecorded files (exit 1 on problems).",
    ),
    "serve": Entry(
        "zenml.cli.serve:serve",
        "Serve a model over HTTP: POST /predict, GET /health, GET /metadata, docs at /docs (Ctrl-C stops it).",
    ),
    "steps": Entry("zenml.cli.steps:steps_app", "Step classes and pipeline steps."),
    "step": Entry("zenml.cli.step:step_app", "Run one step of a stored spec (the worker entry point)."),
    "datasources": Entry(
        "zenml.cli.datasources:datasources_app", "Datasources and the versions of the data they read."
    ),
    "examples": Entry(
        "zenml.cli.examples:examples_app", "Runnable examples: list them, or copy one into a folder and run it."
    ),
    "runs": Entry("zenml.cli.runs:runs_app", "Recorded runs."),
    "pipelines": Entry("zenml.cli.pipelines:pipelines_app", "Pipelines with recorded runs."),
    "artifacts": Entry("zenml.cli.artifacts:artifacts_app", "Stored artifacts."),
    "models": Entry("zenml.cli.models:models_app", "Deployed models (the bundles deployer steps exported)."),
    "stack": Entry("zenml.cli.stack:stack_app", "Named stacks: artifact store, metadata store and default backends."),
}


def load_command(name: str) -> Command:
    """Import the module of the command ``name`` and build its Click command, with readable metavars."""
    from zenml.cli.metavars import apply_command_metavars, apply_metavars

    module, _, attribute = COMMANDS[name].target.partition(":")
    target = getattr(importlib.import_module(module), attribute)
    if isinstance(target, typer.Typer):  # as ``app.add_typer(target, name=name)`` would attach it
        apply_metavars(target)
        return typer.main.get_group_from_info(
            TyperInfo(target, name=name),
            pretty_exceptions_short=app.pretty_exceptions_short,
            rich_markup_mode=app.rich_markup_mode,
            suggest_commands=app.suggest_commands,
        )
    apply_command_metavars(target)  # as ``app.command(name)(target)`` would register it
    return typer.main.get_command_from_info(
        CommandInfo(name=name, callback=target),
        pretty_exceptions_short=app.pretty_exceptions_short,
        rich_markup_mode=app.rich_markup_mode,
    )


class _LazyCommands(MutableMapping[str, Command]):
    """The root group's commands: the names of ``COMMANDS``, each built on first access."""

    def __init__(self) -> None:
        self._built: dict[str, Command] = {}

    def __getitem__(self, name: str) -> Command:
        if name not in self._built:
            if name not in COMMANDS:
                raise KeyError(name)
            self._built[name] = load_command(name)
        return self._built[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        raise TypeError(f"'zen {name}' is in zenml.cli.app.COMMANDS; remove it there")

    def __contains__(self, name: object) -> bool:  # without building the command
        return name in COMMANDS or name in self._built

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (name for name in self._built if name not in COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS) + sum(1 for name in self._built if name not in COMMANDS)


class LazyGroup(TyperGroup):
    """The ``zen`` group: lists ``COMMANDS`` from the table, and imports a command's module only to run it."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _LazyCommands()

    def list_commands(self, ctx: Context) -> list[str]:
        """The command names, in the table's order (building none of them)."""
        return list(self.commands)

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        """The ``Commands:`` section of ``zen --help``, from the table's help lines (importing no command)."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)  # as Click spaces it
        rows = [(name, self._short_help(name, limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _short_help(self, name: str, limit: int) -> str:
        if name in COMMANDS:
            return make_default_short_help(COMMANDS[name].help, limit).strip()
        return self.commands[name].get_short_help_str(limit)


app = typer.Typer(
    name="zen",
    cls=LazyGroup,
    help="zenml: reproducible machine-learning pipelines.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    verbose: bool = typer.Option(
        False, "--verbose", help="Show the frameworks' start-up output (TensorFlow, CUDA, Beam); or ZEN_VERBOSE=1."
    ),
) -> None:
    """zenml: reproducible machine-learning pipelines."""
    if debug:
        os.environ["ZEN_DEBUG"] = "1"
    if verbose:
        set_verbose()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (the ``zen`` console script)."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:]) or os.environ.get("ZEN_DEBUG") == "1"
    try:
        # outside standalone mode Click turns a command's ``typer.Exit(n)`` into the return value n
        code = app(args=argv, prog_name="zen", standalone_mode=False)
    except typer.Exit as done:
        return done.exit_code
    except typer.Abort:
        error("aborted")
        return 1
    except ClickException as exc:  # usage errors: unknown option, bad value, missing argument (exit 2)
        exc.show()
        if _json_requested(argv if argv is not None else sys.argv[1:]):
            from zenml.cli.output import print_json
            from zenml.cli.run_report import error_document

            print_json(error_document(exc))  # a script reading stdout gets its one document here too
        return exc.exit_code
    except ZenMLError as exc:
        _report(exc, debug)
        # 1: a run was recorded and did not complete (or a step run by 'zen step exec' failed); 2: bad input
        return 1 if exc.run_id is not None or isinstance(exc, StepError) else 2
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    return code if isinstance(code, int) else 0


def _json_requested(args: list[str]) -> bool:
    """Whether ``args`` ask ``zen run`` or ``zen runs resume`` for their ``--json`` document."""
    args = args[: args.index("--")] if "--" in args else args
    words = [arg for arg in args if not arg.startswith("-")]
    return "--json" in args and (words[:1] == ["run"] or words[:2] == ["runs", "resume"])


def _report(exc: ZenMLError, debug: bool) -> None:
    if debug:
        traceback.print_exception(exc)
    message = str(exc)
    lines = message.splitlines() or [message]
    error(lines[0] if len(lines) <= 2 else f"{lines[0]} …")
    if exc.run_id is not None:
        error(recovery_hint(exc.run_id, exc.run_status))


def recovery_hint(run_id: str, status: str | None) -> str:
    """What to do about a run that did not complete (``status``: as recorded, ``None`` if it could not be)."""
    if status is None:
        return (
            f"run {run_id} did not complete, and the metadata store could not record that; once the store can be "
            f"written again, finish the run with 'zen runs resume {run_id}'"
        )
    return (
        f"run {run_id} was recorded as {status}; see 'zen runs show {run_id}', and once the cause is fixed, "
        f"finish it with 'zen runs resume {run_id}'"
    )
