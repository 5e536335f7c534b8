"""How the CLI is put together: command modules own their groups, ``zenml.cli.app`` composes them from a
lazy table, and listing or running one command imports no other command's module."""

from __future__ import annotations

import ast
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import typer.main

import zenml.cli
from zenml.cli import app as cli

CLI_DIR = Path(zenml.cli.__file__).parent
#: the modules that may import ``zenml.cli.app``: the package's entry point (``zen`` and ``python -m zenml``)
ENTRY_MODULES = {"__init__.py", "__main__.py", "app.py"}
COMMAND_MODULES = sorted({entry.target.partition(":")[0] for entry in cli.COMMANDS.values()})


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of its code (``from zenml.cli import app`` counts as the app)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("path", sorted(CLI_DIR.glob("*.py")), ids=lambda path: path.name)
def test_no_cli_module_imports_the_app(path: Path) -> None:
    if path.name in ENTRY_MODULES:
        return
    assert "zenml.cli.app" not in imported_modules(path), f"{path.name} imports zenml.cli.app; own a Typer group"


def test_the_table_names_every_command_module() -> None:
    helpers = {"app", "example_catalog", "metavars", "options", "output", "progress", "run_report", "targets"}
    modules = {f"zenml.cli.{path.stem}" for path in CLI_DIR.glob("*.py") if path.name not in ENTRY_MODULES}
    assert modules - {f"zenml.cli.{name}" for name in helpers} == set(COMMAND_MODULES)


def zen_in_subprocess(*args: str) -> tuple[int, str, list[str]]:
    """Run ``zen ARGS`` in a fresh interpreter; its exit code, output and the ``zenml.cli`` modules it imported."""
    code = (
        "import json, sys\n"
        "from zenml.cli.app import main\n"
        f"code = main({list(args)!r})\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('zenml.cli'))), file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    return done.returncode, done.stdout, json.loads(done.stderr.strip().splitlines()[-1])


def test_help_lists_every_command_without_importing_a_command_module() -> None:
    code, out, imported = zen_in_subprocess("--help")
    assert code == 0
    listed = out.split("Commands:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in listed if line.strip()] == list(cli.COMMANDS)
    assert not set(COMMAND_MODULES) & set(imported), imported


def test_one_command_imports_its_own_module_only() -> None:
    code, out, imported = zen_in_subprocess("run", "--help")
    assert code == 0 and "Compile and run a pipeline" in out
    assert set(COMMAND_MODULES) & set(imported) == {"zenml.cli.run"}, imported


def test_the_tables_help_lines_are_the_commands_own() -> None:
    """``zen --help`` reads the table; each command's help (docstring or group help) must still say the same."""
    root = typer.main.get_command(cli.app)
    ctx = typer.Context(root, info_name="zen")
    for name, entry in cli.COMMANDS.items():
        command = root.get_command(ctx, name)  # type: ignore[attr-defined]
        assert command is not None and command.name == name
        first_paragraph = inspect.cleandoc(command.help or "").split("\n\n")[0]
        assert " ".join(first_paragraph.split()) == entry.help, name


def test_an_unknown_command_is_suggested_from_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["rnus"]) == 2
    assert "No such command 'rnus'. Did you mean 'runs'?" in capsys.readouterr().err
