"""Options shared by several commands, declared once (``--stack``, ``--quiet``, ``--json``), and their parsing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml

from zenml.exceptions import ConfigError, excerpt
from zenml.utils.plainyaml import ALIASES_REFUSED, AliasError, composes, load_yaml

if TYPE_CHECKING:
    from zenml.repository import Repository

#: ``--stack NAME`` of every command that reads a store, declared once: ``stack: StackOption = None``.
StackOption = Annotated[
    str | None,
    typer.Option("--stack", help="Stack whose stores to use (default: $ZEN_STACK, else the active stack)."),
]
#: ``--stack NAME`` of the worker commands (``zen step exec|begin|end``), whose spec names a stack of its own.
SpecStackOption = Annotated[str | None, typer.Option("--stack", help="Stack to use (default: the spec's).")]
#: ``--quiet/-q`` of the commands that run steps with a live display: ``quiet: QuietOption = False``.
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the final line.")]
#: ``--json`` of the commands that run steps: the run as one document, ``json_: JsonOption = False``.
JsonOption = Annotated[
    bool,
    typer.Option(
        "--json", help="Print only one JSON document describing the run (no live display; logs to stderr)."
    ),
]


def json_flag(help_text: str) -> Any:
    """The ``--json`` flag of a command that prints something other than a run, with its own help.

    Use: ``as_json: Annotated[bool, json_flag("Print the report as JSON.")] = False``.
    """
    return typer.Option("--json", help=help_text)


def open_repository(stack: str | None) -> Repository:
    """The repository of the working directory, on the stack ``--stack`` names (``None``: the default)."""
    from zenml.repository import Repository

    return Repository(stack=stack)


def parse_value(raw: str, option: str = "--param") -> Any:
    """Read a value as YAML (``2``, ``0.5``, ``true``, ``[1, 2]``, ``{a: 1}``); fall back to the string.

    Raises:
        ConfigError: the value is YAML with anchors or aliases (``[&a [1, 2], *a]``), which zenml
            never expands; text that only looks like an alias (``*.csv``) stays text.
    """
    try:
        return load_yaml(raw) if raw.strip() else raw
    except AliasError as exc:
        if not composes(raw):
            return raw
        raise ConfigError(f"{option} value {excerpt(raw)}: {ALIASES_REFUSED}, or quote it to pass it as text") from exc
    except yaml.YAMLError:
        return raw


def parse_assignments(items: list[str], option: str, what: str) -> dict[str, dict[str, Any]]:
    """Turn ``["a.k=v", …]`` into ``{"a": {"k": v}}``.

    Raises:
        ConfigError: an item is not of the form ``NAME.KEY=VALUE``, or sets a key a second time.
    """
    result: dict[str, dict[str, Any]] = {}
    for item in items:
        target, eq, raw = item.partition("=")
        owner, dot, key = target.partition(".")
        if not eq or not dot or not owner or not key:
            raise ConfigError(f"{option} {excerpt(item)} must look like {what}.KEY=VALUE")
        if key in result.get(owner, {}):  # which one was meant is a guess: refuse rather than keep the last
            raise ConfigError(f"{option} sets {excerpt(target)} twice; give each {what}.KEY once")
        result.setdefault(owner, {})[key] = parse_value(raw, option)
    return result


def keep_strings(values: dict[str, dict[str, Any]], raw_items: list[str], is_text: Any) -> dict[str, dict[str, Any]]:
    """Undo YAML typing for parameters declared ``str`` (``--param s.name=123`` stays ``"123"``)."""
    raw = {}
    for item in raw_items:
        target, _, text = item.partition("=")
        raw[target] = text
    return {
        owner: {
            key: raw[f"{owner}.{key}"] if is_text(owner, key) and not isinstance(value, str) else value
            for key, value in params.items()
        }
        for owner, params in values.items()
    }
