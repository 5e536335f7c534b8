"""``zen examples list|run``: copy a runnable example of the source checkout into a folder and run it.

The catalogue (where examples live, ``example.yaml``, how one runs) is ``zenml.cli.example_catalog``,
imported only when an ``examples`` command runs: its pydantic models cost ~10 ms that every other
``zen`` command would otherwise pay at start-up.
"""

from __future__ import annotations

from pathlib import Path

import typer

from zenml.cli.output import console, table
from zenml.exceptions import ConfigError

examples_app = typer.Typer(
    help="Runnable examples: list them, or copy one into a folder and run it.", no_args_is_help=True
)


@examples_app.command("list")
def examples_list() -> None:
    """List the examples with what each shows and the extras it needs."""
    from zenml.cli.example_catalog import examples_dir, find_examples

    grid = table("example", "what it shows", "needs")
    for example in find_examples(examples_dir()).values():
        grid.add_row(example.name, example.description, ", ".join(example.spec.needs) or "-")
    console.print(grid)


@examples_app.command("run")
def examples_run(
    name: str = typer.Argument(..., help="The example to run (see 'zen examples list')."),
    dest: Path | None = typer.Option(None, "--dir", help="Folder to copy it into (default: ./NAME); new or empty."),
) -> None:
    """Copy an example into a new folder, 'zen init' there, and run it as its README says."""
    from zenml.cli.example_catalog import choose, copy_example, prepare_destination, run_example

    example = choose(name)
    missing = example.missing_extras()
    if missing:
        raise ConfigError(
            f"example '{name}' needs the {', '.join(missing)} extra{'s' if len(missing) > 1 else ''}, "
            f"not installed here: pip install 'zenml[{','.join(missing)}]'"
        )
    target = prepare_destination(dest if dest is not None else Path(name))
    copy_example(example, target)
    code = run_example(example, target)
    if code != 0:
        raise typer.Exit(code)
    console.print(f"Example '{name}' finished in {target}")
