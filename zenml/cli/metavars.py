"""What ``--help`` shows after each option and argument: what to type (``STEP.KEY=VALUE``), never ``<list[str]>``.

Typer derives a metavar from the Python type; ``apply_metavars`` fills in, for every parameter of
every registered command that has none of its own, the one this table names (by option flag, then
by parameter name), or the parameter's name in capitals. A command may still pass ``metavar=``.
"""

from __future__ import annotations

import inspect
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
    flags = [flag for flag in getattr(info, "param_decls", ()) or () if flag.startswith("--")]
    if flags and flags[0] in BY_FLAG:
        return BY_FLAG[flags[0]]
    return BY_NAME.get(name, name.rstrip("_").upper())


def apply_metavars(app: typer.Typer) -> None:
    """Give every non-flag parameter of ``app``'s commands (and its groups', recursively) a readable metavar."""
    for command in app.registered_commands:
        if command.callback is not None:
            _apply_to(command.callback)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            apply_metavars(group.typer_instance)


def _apply_to(callback: Any) -> None:
    for parameter in inspect.signature(callback).parameters.values():
        info = parameter.default
        if not isinstance(info, ParameterInfo) or info.metavar is not None or parameter.annotation in (bool, "bool"):
            continue
        info.metavar = metavar_for(parameter.name, info)
