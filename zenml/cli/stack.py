"""``zen stack``: list, register, select, describe and delete named stacks."""

from __future__ import annotations

import json
from typing import Any

import typer

from zenml.cli.options import parse_value
from zenml.cli.output import console, table
from zenml.exceptions import ConfigError

stack_app = typer.Typer(help="Named stacks: artifact store, metadata store and default backends.", no_args_is_help=True)


def _repository() -> Any:
    from zenml.repository import Repository

    return Repository()


@stack_app.command("list")
def stack_list() -> None:
    """List stacks; the active one is marked with *."""
    repository = _repository()
    active = repository.active_stack_name()
    grid = table("", "stack", "artifact store", "metadata store", "orchestrator", "processing", "training")
    for stack in repository.stacks():
        info = stack.describe()
        grid.add_row(
            "*" if stack.name == active else "",
            stack.name,
            info["artifact_store"],
            info["metadata_store"],
            stack.orchestrator,
            stack.processing,
            stack.training,
        )
    console.print(grid)


@stack_app.command("register")
def stack_register(
    name: str = typer.Argument(..., help="Stack name."),
    artifact_store: str | None = typer.Option(None, "--artifact-store", help="Folder or fsspec URL."),
    metadata_store: str | None = typer.Option(None, "--metadata-store", help="SQLAlchemy URL."),
    orchestrator: str | None = typer.Option(None, "--orchestrator", help="Default orchestrator name."),
    processing: str | None = typer.Option(None, "--processing", help="Default processing backend name."),
    training: str | None = typer.Option(None, "--training", help="Default training backend name."),
    option: list[str] = typer.Option([], "--backend-opt", help="KIND.KEY=VALUE default backend parameter."),
    activate: bool = typer.Option(False, "--set", help="Make it the active stack."),
) -> None:
    """Register (or replace) a stack."""
    from zenml.registry import BACKEND_KINDS, resolve_backend

    fields: dict[str, Any] = {
        key: value
        for key, value in {
            "artifact_store": artifact_store,
            "metadata_store": metadata_store,
            "orchestrator": orchestrator,
            "processing": processing,
            "training": training,
        }.items()
        if value is not None
    }
    for kind in BACKEND_KINDS:
        if kind in fields:
            resolve_backend(kind, fields[kind])
    for item in option:
        target, eq, raw = item.partition("=")
        kind, dot, key = target.partition(".")
        if not eq or not dot or kind not in BACKEND_KINDS:
            raise ConfigError(
                f"--backend-opt '{item}' must look like KIND.KEY=VALUE with KIND one of {', '.join(BACKEND_KINDS)}"
            )
        fields.setdefault(f"{kind}_options", {})[key] = parse_value(raw)
    repository = _repository()
    repository.register_stack(name, **fields)
    if activate:
        repository.set_active_stack(name)
    console.print(f"Registered stack '{name}'{' (active)' if activate else ''}")


@stack_app.command("set")
def stack_set(name: str = typer.Argument(..., help="Stack to activate.")) -> None:
    """Make a stack the active one."""
    _repository().set_active_stack(name)
    console.print(f"Active stack: {name}")


@stack_app.command("describe")
def stack_describe(name: str | None = typer.Argument(None, help="Stack (default: the active one).")) -> None:
    """Show a stack's settings (credentials redacted, environment overrides applied)."""
    stack = _repository().stack(name)
    console.print(json.dumps(stack.describe(), indent=2), markup=False)


@stack_app.command("delete")
def stack_delete(name: str = typer.Argument(..., help="Stack to delete.")) -> None:
    """Delete a stack's configuration (its stores are left untouched)."""
    _repository().delete_stack(name)
    console.print(f"Deleted stack '{name}'")
