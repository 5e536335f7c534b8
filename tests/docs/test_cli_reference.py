"""The CLI reference generator (``docs/hooks/cli_reference.py``): every command, usage, help, parameters."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import markdown
import typer
import typer.main

ROOT = Path(__file__).resolve().parents[2]


def load_hook() -> ModuleType:
    """Import the hook module the way MkDocs does: from its file, not as part of a package."""
    spec = importlib.util.spec_from_file_location("cli_reference", ROOT / "docs" / "hooks" / "cli_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("cli_reference", module)
    spec.loader.exec_module(module)
    return module


hook = load_hook()


def zen_tree() -> dict[tuple[str, ...], Any]:
    """Every visible ``zen`` command by word path, found by walking the app independently of the hook."""
    from zenml.cli import app as cli

    found: dict[tuple[str, ...], Any] = {}

    def walk(command: Any, path: tuple[str, ...]) -> None:
        found[path] = command
        for name, sub in getattr(command, "commands", {}).items():
            if not sub.hidden:
                walk(sub, (*path, name))

    walk(typer.main.get_command(cli.app), ("zen",))
    return found


def section(text: str, path: tuple[str, ...]) -> str:
    """The markdown of one command's section: from its heading to the next heading."""
    match = re.search(rf"^#+ `{' '.join(path)}` \{{#{'-'.join(path)}\}}\n(.*?)(?=^#+ |\Z)", text, re.S | re.M)
    assert match, f"no section for `{' '.join(path)}`"
    return match[1]


def test_every_registered_command_has_a_section_with_all_its_parameters() -> None:
    text = hook.zen_cli_markdown()
    tree = zen_tree()
    assert ("zen", "run") in tree and ("zen", "runs", "list") in tree  # the walk above found the groups
    for path, command in tree.items():
        body = section(text, path)
        assert f"**Usage:** `{' '.join(path)} " in body
        for param in command.params:
            if not getattr(param, "hidden", False):
                for flag in [*param.opts, *param.secondary_opts] if param.param_type_name == "option" else []:
                    assert flag in body, f"`{' '.join(path)}` section lacks option {flag}"
                if param.param_type_name == "argument":
                    shown = param.metavar or param.name  # the metavar (what to type), else the name
                    assert f"| `{shown}" in body, f"`{' '.join(path)}` section lacks argument {param.name}"
    from zenml.cli import app as cli

    assert set(hook.command_paths(cli.app, name="zen")) == set(tree)


def small_app() -> typer.Typer:
    app = typer.Typer(name="tool", add_completion=False, rich_markup_mode=None)

    @app.callback()
    def root() -> None:
        """A tool."""

    @app.command()
    def greet(
        name: str = typer.Argument(..., help="Who to greet."),
        times: int = typer.Option(2, "--times", "-t", help="How often."),
        loud: bool = typer.Option(False, "--loud", help="Shout | <b>."),
    ) -> None:
        """Say hello.

        Twice by default.
        """

    things = typer.Typer(help="Things.")

    @things.command("list")
    def list_things() -> None:
        """List the things."""

    @things.command("secret", hidden=True)
    def secret() -> None:
        """Not for users."""

    app.add_typer(things, name="things")
    return app


def test_small_app_renders_usage_help_arguments_options_and_defaults() -> None:
    text = hook.cli_markdown(small_app(), name="tool")
    assert hook.command_paths(small_app(), name="tool") == [
        ("tool",),
        ("tool", "greet"),
        ("tool", "things"),
        ("tool", "things", "list"),
    ]
    greet = section(text, ("tool", "greet"))
    assert "Say hello.\n\nTwice by default." in greet
    assert "**Usage:** `tool greet [OPTIONS]" in greet
    (name_row,) = [line for line in greet.splitlines() if line.startswith("| `name")]
    assert "Who to greet." in name_row and name_row.endswith("| required |")
    (times_row,) = [line for line in greet.splitlines() if "--times" in line]
    assert "-t" in times_row and "How often." in times_row and times_row.endswith("| `2` |")
    assert "secret" not in text  # hidden commands stay out
    assert "| [`tool things list`](#tool-things-list) | List the things. |" in section(text, ("tool", "things"))

    html = markdown.markdown(text, extensions=["tables", "attr_list"])
    assert '<h3 id="tool-things-list"><code>tool things list</code></h3>' in html
    assert "<td>Shout | &lt;b&gt;.</td>" in html  # help text is shown literally, even inside a table


def test_hook_replaces_the_marker_only() -> None:
    page = "# CLI reference\n\nIntro.\n\n" + hook.MARKER + "\n"
    rendered = hook.on_page_markdown(page, page=None, config=None, files=None)
    assert hook.MARKER not in rendered
    assert rendered.startswith("# CLI reference\n\nIntro.\n\n## `zen` {#zen}")
    assert "### `zen runs list` {#zen-runs-list}" in rendered
    other = "# Another page\n"
    assert hook.on_page_markdown(other, page=None, config=None, files=None) == other
