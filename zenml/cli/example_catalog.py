"""The runnable examples of a zenml source checkout (``zen examples``): where they are, what each needs, how each runs.

Where the examples come from: the repository's ``examples/`` folder, which is not part of the
``zenml`` package and is not shipped in the wheel (examples are for readers of the repository and
write data, ``.zen/`` and run specs where they run). ``zen examples`` reads ``$ZEN_EXAMPLES_DIR``
when it is set, else the ``examples/`` folder beside the installed ``zenml`` package — a source
checkout installed with ``pip install -e .``, as ``scripts/test`` and ``scripts/quickstart`` do —
and otherwise fails with a message saying how to get them. An example is a folder there with a
``README.md`` (its first heading is the one-line description) and an ``example.yaml``, the
machine-readable part that the CLI and the tests share::

    needs: [torch, sklearn]          # zenml extras; a missing one is a one-line error naming it
    run:                             # the commands, in order, in the example's folder
      - [python, pipeline.py]        # ``python``: this interpreter; ``zen``: ``python -m zenml``
    prints:                          # regular expressions the output must match (checked by tests)
      - "^completed accuracy=0[.]9"
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from zenml.cli.output import console, error
from zenml.exceptions import ConfigError
from zenml.utils.plainyaml import load_yaml
from zenml.utils.validation import config_error

ENV_VAR = "ZEN_EXAMPLES_DIR"
SPEC_NAME = "example.yaml"
#: zenml extras an example may need → the module whose presence means the extra is installed
EXTRAS = {
    "torch": "torch",
    "tensorflow": "tensorflow",
    "beam": "apache_beam",
    "spark": "pyspark",
    "sklearn": "sklearn",
    "pandas": "pandas",
    "dask": "dask",
    "airflow": "airflow",
    "serve": "uvicorn",
}
#: the programs an example's commands may start (anything else would not be portable)
PROGRAMS = ("python", "zen")
#: what running an example leaves in its folder; never copied, so every copy starts clean
_LEFTOVERS = shutil.ignore_patterns(".zen", "pipelines", "data", "__pycache__", "*.pyc")


class ExampleSpec(BaseModel):
    """An example's ``example.yaml``: the extras it needs, its commands, and what it prints."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    needs: tuple[str, ...] = ()
    run: tuple[tuple[str, ...], ...] = Field(min_length=1)
    prints: tuple[str, ...] = ()

    @field_validator("needs")
    @classmethod
    def _known_extras(cls, needs: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [extra for extra in needs if extra not in EXTRAS]
        if unknown:
            raise ValueError(f"unknown extra {', '.join(unknown)}; zenml's extras are {', '.join(EXTRAS)}")
        return needs

    @field_validator("run")
    @classmethod
    def _portable_commands(cls, run: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
        for words in run:
            if not words or words[0] not in PROGRAMS:
                raise ValueError(f"command {list(words)} must start with one of {', '.join(PROGRAMS)}")
        return run

    @field_validator("prints")
    @classmethod
    def _regular_expressions(cls, prints: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in prints:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"'{pattern}' is not a regular expression: {exc}") from exc
        return prints


@dataclass(frozen=True)
class Example:
    """One example: its folder, the first heading of its README, and its ``example.yaml``."""

    name: str
    folder: Path
    description: str
    spec: ExampleSpec

    def missing_extras(self) -> list[str]:
        """The extras this example needs that are not installed here."""
        return [extra for extra in self.spec.needs if importlib.util.find_spec(EXTRAS[extra]) is None]

    def commands(self) -> list[list[str]]:
        """The commands to start, with ``python`` and ``zen`` bound to this interpreter."""
        programs = {"python": [sys.executable], "zen": [sys.executable, "-m", "zenml"]}
        return [[*programs[words[0]], *words[1:]] for words in self.spec.run]


def examples_dir() -> Path:
    """The folder holding the examples: ``$ZEN_EXAMPLES_DIR``, else the source checkout's ``examples/``.

    Raises:
        ConfigError: ``$ZEN_EXAMPLES_DIR`` holds no examples, or zenml is not installed from a checkout.
    """
    override = os.environ.get(ENV_VAR)
    if override:
        folder = Path(override).expanduser().resolve()
        if not _holds_examples(folder):
            raise ConfigError(
                f"{ENV_VAR}={override} holds no examples (folders with {SPEC_NAME}); "
                "point it at the examples/ folder of a zenml checkout"
            )
        return folder
    import zenml

    folder = Path(zenml.__file__).resolve().parent.parent / "examples"
    if not _holds_examples(folder):  # a wheel install: site-packages has no (or someone else's) examples/
        raise ConfigError(
            f"the examples are not installed with zenml (looked in {folder}); clone the zenml "
            f"repository and 'pip install -e .' there, or set {ENV_VAR} to its examples/ folder"
        )
    return folder


def _holds_examples(folder: Path) -> bool:
    return folder.is_dir() and any(folder.glob(f"*/{SPEC_NAME}"))


def find_examples(root: Path) -> dict[str, Example]:
    """Every example under ``root`` (a folder with an ``example.yaml``), by name."""
    return {path.parent.name: load_example(path.parent) for path in sorted(root.glob(f"*/{SPEC_NAME}"))}


def load_example(folder: Path) -> Example:
    """Read the example in ``folder``.

    Raises:
        ConfigError: its ``example.yaml`` or ``README.md`` is missing or malformed.
    """
    path = folder / SPEC_NAME
    try:
        spec = ExampleSpec.model_validate(load_yaml(path.read_text()) or {})
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path} cannot be read: {str(exc).splitlines()[0]}") from exc
    except ValidationError as exc:
        raise config_error(exc, str(path)) from exc
    return Example(folder.name, folder, readme_title(folder), spec)


def readme_title(folder: Path) -> str:
    """The first ``# heading`` of the folder's README, which describes the example in one line.

    Raises:
        ConfigError: the README is missing or has no heading.
    """
    readme = folder / "README.md"
    lines = readme.read_text().splitlines() if readme.is_file() else []
    for line in lines:
        if line.startswith("# "):
            return line[2:].strip()
    raise ConfigError(f"{readme} must exist and start with a '# heading' describing the example")


def choose(name: str) -> Example:
    """The example called ``name``.

    Raises:
        ConfigError: there is none; the message lists the known names.
    """
    known = find_examples(examples_dir())
    if name not in known:
        raise ConfigError(f"unknown example '{name}'; known examples: {', '.join(known)}")
    return known[name]


def prepare_destination(dest: Path) -> Path:
    """``dest`` resolved, checked to be new or an empty folder.

    Raises:
        ConfigError: ``dest`` exists and is a file or a folder with something in it.
    """
    dest = dest.expanduser().resolve()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ConfigError(f"{dest} already exists and is not an empty folder; pass another --dir or remove it")
    return dest


def copy_example(example: Example, dest: Path) -> None:
    """Copy the example's files (not what earlier runs left there) into ``dest`` and make it a repository."""
    from zenml.cli.init import init_repository
    from zenml.repository import close_stores

    shutil.copytree(example.folder, dest, ignore=_LEFTOVERS, dirs_exist_ok=True)
    # the copy never carries a .zen/, so the example's runs go to a repository of its own, even when
    # ``dest`` lies inside another repository
    init_repository(dest)
    close_stores()  # the example's own processes use the database next


def run_example(example: Example, dest: Path) -> int:
    """Run the example's commands in ``dest``, streaming their output; the first failing one's exit code."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # lines reach a pipe (CI logs) as they are printed
    for words, command in zip(example.spec.run, example.commands(), strict=True):
        console.print(f"$ {shlex.join(words)}", style="bold", markup=False)
        sys.stdout.flush()  # before the child writes to the same stream
        code = subprocess.run(command, cwd=dest, env=env, check=False).returncode
        if code != 0:
            error(f"example '{example.name}': `{shlex.join(words)}` exited with {code}")
            return code
    return 0
