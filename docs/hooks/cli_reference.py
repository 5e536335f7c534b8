"""MkDocs hook: the CLI reference page, generated from the ``zen`` Typer app at build time.

``docs/reference/cli.md`` holds the marker ``<!-- zen-cli-reference -->``; while the site builds,
``on_page_markdown`` replaces it with one section per command and sub-command (usage, help,
arguments and options with their defaults), found by walking the Click command tree of
``typer.main.get_command(app)``. New commands appear without editing any page.
``cli_markdown`` works on any Typer app (a unit test renders a small one); ``zen_cli_markdown``
renders zenml's.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer
import typer.main

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page
    from typer._click import Command, Context, Parameter

MARKER = "<!-- zen-cli-reference -->"
# click and Typer append "  [default: 50; required]" to a parameter's help; split it back out.
_EXTRAS = re.compile(r"^(?P<help>.*?)(?:\s{2}|^)\[(?P<extras>[^\[\]]*)\]$", re.S)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|])")


@dataclass(frozen=True)
class ParamDoc:
    """One row of an arguments or options table."""

    names: str
    help: str
    default: str
    required: bool


def on_page_markdown(markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Replace the marker (on whichever page has it) with the generated reference."""
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, zen_cli_markdown())


def zen_cli_markdown() -> str:
    """The reference of the ``zen`` command (the app loads each command group as the walk asks for it)."""
    from zenml.cli import app as cli

    return cli_markdown(cli.app, name="zen")


def cli_markdown(app: typer.Typer, *, name: str) -> str:
    """Markdown for ``app`` invoked as ``name``: one section per visible command, depth first."""
    root = typer.main.get_command(app)
    return "\n".join(_sections(root, typer.Context(root, info_name=name), [name]))


def command_paths(app: typer.Typer, *, name: str) -> list[tuple[str, ...]]:
    """Every visible command of ``app`` as a word path, ``(name,)`` first, in the order rendered."""
    root = typer.main.get_command(app)
    return [tuple(path) for _, _, path in _walk(root, typer.Context(root, info_name=name), [name])]


def _walk(command: Command, ctx: Context, path: list[str]) -> list[tuple[Command, Context, list[str]]]:
    found = [(command, ctx, path)]
    for sub_name, sub in _subcommands(command, ctx):
        found += _walk(sub, typer.Context(sub, info_name=sub_name, parent=ctx), [*path, sub_name])
    return found


def _subcommands(command: Command, ctx: Context) -> list[tuple[str, Command]]:
    """The visible sub-commands of a group, in the order ``--help`` lists them (none for a command)."""
    list_commands = getattr(command, "list_commands", None)
    get_command = getattr(command, "get_command", None)
    if list_commands is None or get_command is None:
        return []
    found = []
    for sub_name in list_commands(ctx):
        sub = get_command(ctx, sub_name)
        if sub is not None and not sub.hidden:
            found.append((sub_name, sub))
    return found


def _sections(root: Command, root_ctx: Context, root_path: list[str]) -> list[str]:
    lines: list[str] = []
    for command, ctx, path in _walk(root, root_ctx, root_path):
        title = " ".join(path)
        level = "#" * min(max(len(path), 2), 6)  # the root and its commands at ##, their commands at ###
        lines += [f"{level} `{title}` {{#{anchor(path)}}}", ""]
        help_text = _help(command)
        if help_text:
            lines += [_escape(help_text), ""]
        usage = command.get_usage(ctx).removeprefix("Usage:").strip()
        lines += [f"**Usage:** `{usage}`", ""]
        arguments = [_param_doc(param, ctx) for param in _visible(command.params) if _is_argument(param)]
        options = [_param_doc(param, ctx) for param in _visible(command.params) if not _is_argument(param)]
        lines += _table("Argument", arguments) + _table("Option", options)
        subcommands = _subcommands(command, ctx)
        if subcommands:
            lines += ["| Command | Description |", "|---|---|"]
            for sub_name, sub in subcommands:
                link = f"[`{title} {sub_name}`](#{anchor([*path, sub_name])})"
                lines.append(f"| {link} | {_escape(_first_line(_help(sub)))} |")
            lines.append("")
    return lines


def anchor(path: list[str] | tuple[str, ...]) -> str:
    """The id of a command's heading: ``zen runs list`` → ``zen-runs-list``."""
    return "-".join(path)


def _help(command: Command) -> str:
    """The help text as ``--help`` shows it: dedented, cut at ``\\f``, without ``\\b`` markers."""
    text = inspect.cleandoc(command.help or "").split("\f", 1)[0]
    return "\n".join(line for line in text.splitlines() if line.strip() != "\b").strip()


def _first_line(text: str) -> str:
    return text.split("\n\n", 1)[0].replace("\n", " ")


def _is_argument(param: Parameter) -> bool:
    return getattr(param, "param_type_name", "") == "argument"


def _visible(params: list[Parameter]) -> list[Parameter]:
    return [param for param in params if not getattr(param, "hidden", False)]


def _param_doc(param: Parameter, ctx: Context) -> ParamDoc:
    record = param.get_help_record(ctx)
    names, help_text = record if record is not None else (param.name or "", "")
    default, required = "", bool(param.required)
    match = _EXTRAS.match(help_text)
    if match:
        kept = []
        for extra in match["extras"].split("; "):
            if extra.startswith("default: "):
                default = extra.removeprefix("default: ")
            elif extra != "required":
                kept.append(extra)  # e.g. a range or an environment variable: left in the description
        help_text = match["help"] + (f" [{'; '.join(kept)}]" if kept else "")
    return ParamDoc(names=names, help=help_text.strip(), default=default, required=required)


def _table(kind: str, docs: list[ParamDoc]) -> list[str]:
    if not docs:
        return []
    rows = [f"| {kind} | Description | Default |", "|---|---|---|"]
    for doc in docs:
        default = "required" if doc.required else (f"`{doc.default}`" if doc.default else "")
        rows.append(f"| `{doc.names}` | {_escape(doc.help).replace(chr(10), ' ')} | {default} |")
    return [*rows, ""]


def _escape(text: str) -> str:
    """Plain help text as Markdown that renders literally (also inside a table cell)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)
