"""The ``zen`` command line: a Typer app whose errors become one-line messages and exit codes.

Exit codes: 0 the run completed; 1 a run was recorded and did not complete (a failed step, a dead
worker, a metadata store that could not be written); 2 bad input, nothing recorded; 130 Ctrl-C.
``--debug`` shows tracebacks; ``--verbose`` the frameworks' start-up output (hidden by default, see
``zenml.utils.quiet``).
"""

from __future__ import annotations

import os
import sys
import traceback

import typer

from zenml.cli.output import error
from zenml.exceptions import StepError, ZenMLError
from zenml.utils.quiet import set_verbose

try:  # typer >= 0.2x runs on its own bundled copy of click (the click package may be absent)
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover -- older typer runs on the click package
    from click import ClickException  # type: ignore[assignment]

app = typer.Typer(
    name="zen",
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


def _register_commands() -> None:
    from zenml.cli import commands, datasources, doctor, examples, history, serve, stacks  # noqa: F401 -- they attach to ``app``
    from zenml.cli.metavars import apply_metavars

    apply_metavars(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (the ``zen`` console script)."""
    _register_commands()
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
