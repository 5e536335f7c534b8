"""What the CLI promises: help that says what to type, every shipped step listed, ``zen init`` twice, a
repeated ``--param`` refused, skipped steps in ``run.steps``, a readable comparison, counted nouns."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import pytest
import typer
import typer.main
from cli_helpers import Flow, Result, store_state
from typer.testing import CliRunner

from zenml.cli import app as cli
from zenml.cli.metavars import apply_metavars
from zenml.exceptions import ConfigError
from zenml.repository import Repository

Zen = Callable[..., Result]
#: declared once and shared, as ``zenml.cli.options.StackOption`` is
StackAlias = Annotated[str | None, typer.Option("--stack", help="Stack.")]


def test_help_shows_what_to_type_not_python_types(zen: Zen) -> None:
    result = zen("run", "--help")
    assert result.code == 0
    for shown in (
        "--param STEP.KEY=VALUE",
        "--backend-opt KIND.KEY=VALUE",
        "--stack NAME",
        "--on-failure stop|continue",
    ):
        assert shown in result.out, result.out
    assert "TARGET" in result.out
    assert "<list[str]>" not in result.out


def test_no_help_page_shows_a_python_type(zen: Zen) -> None:
    """Arguments too: ``zen runs compare --help`` shows ``RUN_ID...``, not ``RUN_ID... <list[str]>``."""
    root = typer.main.get_command(cli.app)
    pages: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        pages.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(root, [])
    typed = re.compile(r"<(?:str|int|float|list\[\w+\]|path|Path)>")
    shown = {" ".join(path): zen(*path, "--help").out for path in pages}
    assert len(shown) > 30
    assert not {page: typed.findall(out) for page, out in shown.items() if typed.search(out)}
    assert "RUN_ID..." in shown["runs compare"]


def test_no_option_anywhere_shows_a_python_type() -> None:
    root = typer.main.get_command(cli.app)
    found = []

    def walk(command: object, path: str) -> None:
        for param in getattr(command, "params", []):
            if getattr(param, "param_type_name", "") == "option" and not getattr(param, "is_flag", False):
                if param.metavar is None or "<" in param.metavar:
                    found.append(f"{path} {param.opts[0]}")
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}")

    walk(root, "zen")
    assert not found, f"options without a readable metavar: {found}"


def test_steps_list_shows_every_kind_of_shipped_step(zen: Zen) -> None:
    result = zen("steps", "list")
    assert result.code == 0, result.err
    for name in (
        "CSVDatasource",
        "RandomSplit",
        "StandardPreprocessor",
        "TensorflowFeedForwardTrainer",
        "PyTorchFeedForwardTrainer",
        "SklearnTrainer",
        "ClassificationEvaluator",
        "RegressionEvaluator",
        "BatchInferrer",
    ):
        assert name in result.out, name


def test_the_catalog_misses_no_shipped_step_class() -> None:
    import importlib
    import inspect
    import pkgutil

    import zenml_sklearn

    import zenml.datasources
    import zenml.steps
    from zenml.steps.base import BaseStep
    from zenml.steps.catalog import SHIPPED_STEPS
    from zenml.steps.function import FunctionStep

    concrete = set()
    for package in (zenml.steps, zenml.datasources, zenml_sklearn):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            for _, klass in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
                if (
                    issubclass(klass, BaseStep)
                    and not inspect.isabstract(klass)
                    and klass.__module__ == module.name
                    and klass is not FunctionStep
                    and not klass.__name__.startswith("_")
                ):
                    concrete.add(f"{klass.__module__}.{klass.__qualname__}")
    assert concrete <= set(SHIPPED_STEPS), sorted(concrete - set(SHIPPED_STEPS))


def test_step_list_points_at_steps_list(zen: Zen) -> None:
    result = zen("step", "list")
    assert result.code == 2
    assert result.error_lines == [
        "Error: 'zen step' runs one step of a stored spec (the worker entry point); did you mean 'zen steps list'? "
        "It lists the step classes zenml ships"
    ]


def test_init_in_a_repository_says_it_already_is_one(zen: Zen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = zen("init")
    assert first.code == 0 and first.out.startswith(f"Initialised zenml repository in {tmp_path}"), first.out
    config = (tmp_path / ".zen" / "config.yaml").read_text()
    again = zen("init")
    assert again.code == 0
    assert again.out.strip() == f"{tmp_path} is already a zenml repository (active stack 'default'); nothing changed"
    assert (tmp_path / ".zen" / "config.yaml").read_text() == config
    (tmp_path / "inner").mkdir()
    nested = zen("init", "inner")
    assert nested.code == 0 and f"inside the zenml repository at {tmp_path}" in nested.out, nested.out


def test_a_repeated_param_is_refused(zen: Zen, flow: Flow) -> None:
    before = store_state(Path.cwd())
    result = zen("run", flow.target("scaled"), "--param", "scale.factor=2", "--param", "scale.factor=3")
    assert result.code == 2
    assert result.error_lines == ["Error: --param sets 'scale.factor' twice; give each STEP.KEY once"]
    assert store_state(Path.cwd()) == before


def test_a_pipelines_dir_outside_the_repository_is_refused(repo: Repository) -> None:
    config = repo.root / ".zen" / "config.yaml"
    config.write_text(config.read_text().replace("pipelines_dir: pipelines", "pipelines_dir: ../elsewhere"))
    with pytest.raises(ConfigError, match=r"invalid 'pipelines_dir': .*must be a folder inside the repository"):
        Repository(repo.root)


def test_run_steps_include_skipped_steps_and_the_summary_counts_one_step(zen: Zen, flow: Flow) -> None:
    Path("broken").touch()
    result = zen("run", flow.target("failing"))
    assert result.code == 1
    run_id = re.search(r"Run (\S+) failed", result.out)
    assert run_id is not None, result.out
    run = Repository().run(run_id[1])
    assert {name: step.status for name, step in run.steps.items()} == {
        "load": "completed",
        "boom": "failed",
        "scale": "skipped",
    }
    assert run.steps["scale"].outputs == {} and run.steps["scale"].params == {"factor": 2.0}
    assert repr(run.steps["scale"]).startswith("StepView(name='scale', status='skipped'")
    assert "3 steps (1 completed, 1 failed, 1 skipped)" in result.out


def test_one_step_is_counted_as_one_step(zen: Zen, flow: Flow) -> None:
    result = zen("run", flow.target("greeting"))
    assert result.code == 0, result.err
    assert result.out.rstrip().endswith(": 1 step (1 completed)"), result.out
    planned = zen("plan", flow.target("greeting"))
    assert "1 of 1 step would run" in planned.out or "0 of 1 step would run" in planned.out, planned.out


def test_comparison_reads_in_a_few_lines(zen: Zen, flow: Flow) -> None:
    zen("run", flow.target("scaled"))
    zen("run", flow.target("scaled"), "--param", "scale.factor=3.0")
    repository = Repository()
    newer, older = repository.runs(pipeline="scaled")
    comparison = repository.compare(older, newer)
    text, short = str(comparison), repr(comparison)
    assert len(short) < 300 and len(text) < 600, (short, text)
    assert short == (
        f"RunComparison(a='{older.id}', b='{newer.id}', changed_steps=['scale'], "
        "metrics={'scale.factor': (2.0, 3.0)})"
    )
    assert "scale: factor 2.0 → 3.0" in text
    assert "metric scale.factor: 2.0 → 3.0" in text
    assert repr(older) == f"PipelineRun(id='{older.id}', pipeline='scaled', status='completed')"


def test_a_metric_logged_as_a_float_shows_as_one(zen: Zen, flow: Flow) -> None:
    zen("run", flow.target("scaled"))
    listed = zen("runs", "list", "--metric", "factor")
    assert re.search(r"\b2\.0\s*$", listed.out.splitlines()[-1]), listed.out
    run_id = Repository().runs()[0].id
    shown = zen("runs", "show", run_id)
    assert re.search(r"scale\W+factor\W+2\.0\b", shown.out), shown.out


def test_options_declared_in_annotations_get_a_metavar_too() -> None:
    """``stack: StackOption = None`` (``Annotated[str | None, typer.Option("--stack")]``) reads ``--stack NAME``."""
    app = typer.Typer(rich_markup_mode=None)

    @app.command()
    def show(
        stack: StackAlias = None,
        verbose: Annotated[bool, typer.Option("--verbose")] = False,
        limit: int = typer.Option(5, "--limit"),
    ) -> None:
        """A command."""

    apply_metavars(app)
    text = CliRunner().invoke(app, ["--help"]).output
    assert "--stack NAME" in text and "--limit N" in text, text
    assert re.search(r"--verbose\s*\n", text), text
