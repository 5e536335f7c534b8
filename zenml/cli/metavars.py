"""What ``--help`` shows after each option and argument: what to type (``STEP.KEY=VALUE``), never ``<list[str]>``.

Typer derives a metavar from the Python type; ``zenml.cli.app`` has ``apply_metavars`` (a group) or
``apply_command_metavars`` (a command) fill in, as it loads each command, for every parameter that
has none of its own, the one this table names (by option flag, then by parameter name), or the
parameter's name in capitals. A command may still pass ``metavar=``.
An option declared through a shared ``Annotated`` alias (``stack: StackOption = None``) is reached
too; one written out inline in a string annotation is rebuilt whenever Typer reads it, so give
that one its ``metavar=`` itself.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

import typer
from typer.models import ParameterInfo

#: by the option's first flag
BY_FLAG: dict[str, str] = {
    "--param": "STEP.KEY=VALUE",
    "--backend-opt": "KIND.KEY=VALUE",
    "--orchestrator": "NAME",
    "--processing": "NAME",
    "--training": "NAME",
    "--stack": "NAME",
    "--pipeline": "NAME",
    "--on-failure": "stop|continue",
    "--format": "dot|mermaid|json",
    "--min-age": "MINUTES",
    "--scheduled-run": "RUN_ID",
    "--run": "RUN_ID",
    "--dir": "FOLDER",
    "--limit": "N",
    "--metric": "METRIC",
    "--sort": "METRIC",
    "--output": "FILE",
    "--artifact-store": "URL",
    "--metadata-store": "URL",
}
#: by the Python parameter's name (arguments, and options the flags above do not name)
BY_NAME: dict[str, str] = {
    "artifact_id": "ID",
    "run_ids": "RUN_ID...",
    "spec": "SPEC_YAML",
}


def metavar_for(name: str, info: ParameterInfo) -> str:
    """The metavar of the parameter ``name`` declared by ``info``."""
    declared = [*(getattr(info, "param_decls", ()) or ())]
    if isinstance(info.default, str):  # ``Annotated[..., typer.Option("--stack")]``: the flag sits in ``default``
        declared.insert(0, info.default)
    flags = [flag for flag in declared if isinstance(flag, str) and flag.startswith("--")]
    if flags and flags[0] in BY_FLAG:
        return BY_FLAG[flags[0]]
    return BY_NAME.get(name, name.rstrip("_").upper())


def apply_metavars(app: typer.Typer) -> None:
    """Give every non-flag parameter of ``app``'s commands (and its groups', recursively) a readable metavar."""
    for command in app.registered_commands:
        if command.callback is not None:
            apply_command_metavars(command.callback)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            apply_metavars(group.typer_instance)


def apply_command_metavars(callback: Any) -> None:
    """Give every non-flag parameter of the command function ``callback`` a readable metavar."""
    # Typer prints an argument's Python type after its metavar (``RUN_ID... <list[str]>``) and has no
    # setting to turn that off; the metavar already says what to type, so arguments show no type.
    typer.core.TyperArgument.display_type_rich = _no_type_label  # type: ignore[method-assign,assignment]
    _apply_to(callback)


def _no_type_label(self: typer.core.TyperArgument, ctx: Any) -> None:
    return None


def _apply_to(callback: Any) -> None:
    try:  # ``Annotated[str | None, typer.Option(...)]`` declares the option in the annotation
        hints = typing.get_type_hints(callback, include_extras=True)
    except Exception:  # noqa: BLE001 -- an unresolvable annotation: only the defaults can be read
        hints = {}
    for parameter in inspect.signature(callback).parameters.values():
        hint = hints.get(parameter.name, parameter.annotation)
        metadata = getattr(hint, "__metadata__", ())
        info = next((item for item in (parameter.default, *metadata) if isinstance(item, ParameterInfo)), None)
        if info is None or info.metavar is not None or typing.get_args(hint)[:1] == (bool,) or hint in (bool, "bool"):
            continue
        info.metavar = metavar_for(parameter.name, info)
