"""``zen graph``: print a pipeline's DAG as Graphviz dot, Mermaid or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from zenml.cli.options import StackOption
from zenml.cli.output import console
from zenml.cli.targets import is_spec, load_pipeline
from zenml.exceptions import ConfigError
from zenml.pipelines.spec import RunSpec, read_recorded_spec
from zenml.repository import Repository, find_root


def graph(
    target: str = typer.Argument(..., help="A spec YAML or a pipeline target."),
    format_: str = typer.Option("mermaid", "--format", help="dot, mermaid or json."),
    stack: StackOption = None,
) -> None:
    """Print a pipeline's DAG as Graphviz dot, Mermaid or JSON (a stored spec is checked against its run's record)."""
    if format_ not in ("dot", "mermaid", "json"):
        raise ConfigError(f"--format '{format_}' is not one of dot, mermaid, json")
    console.print(render_graph(target, format_, stack), markup=False)


def graph_of(target: str, stack: str | None = None) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Nodes (name → type) and edges (source, target, label) of a pipeline target or spec.

    ``stack``: the stack whose metadata store recorded a stored spec (default: the active one).
    """
    if is_spec(target):
        spec = _read_spec(Path(target), stack)
        nodes = {name: step.type for name, step in spec.steps.items()}
        inputs = {name: step.inputs for name, step in spec.steps.items()}
    else:
        if stack is not None:
            Repository(stack=stack)  # an unknown stack is refused; the graph of code needs no store
        pipeline = load_pipeline(target)
        order = pipeline.order()
        nodes = {name: pipeline.steps[name].config_type() for name in order}
        inputs = pipeline.resolved_inputs()
    edges = [
        (ref.split(".", 1)[0], name, f"{ref.split('.', 1)[1]} → {input_name}")
        for name, refs in inputs.items()
        for input_name, ref in refs.items()
    ]
    return nodes, edges


def _read_spec(path: Path, stack: str | None) -> RunSpec:
    """A spec file; a run's stored spec is checked against the sha256 its run recorded, as a replay reads it."""
    if not path.is_file():
        raise ConfigError(f"spec file '{path}' does not exist")
    if find_root(path.parent.resolve()) is None:
        if stack is not None:
            raise ConfigError(f"--stack needs a zenml repository, and '{path}' is in none")
        return RunSpec.from_yaml(path.read_text(), str(path))  # a spec file outside any repository
    repository = Repository(path.parent, stack=stack)
    record = repository.stores().metadata.find_run(path.stem)
    if record is None or record.spec_file(repository.root).resolve() != path.resolve():
        return RunSpec.from_yaml(path.read_text(), str(path))
    return read_recorded_spec(path, record.spec_sha256, record.id)


def render_graph(target: str, format_: str, stack: str | None = None) -> str:
    """The DAG in ``dot``, ``mermaid`` or ``json``."""
    nodes, edges = graph_of(target, stack)
    if format_ == "json":
        return json.dumps(
            {
                "nodes": [{"name": n, "type": t} for n, t in nodes.items()],
                "edges": [{"from": a, "to": b, "label": label} for a, b, label in edges],
            },
            indent=2,
        )
    if format_ == "dot":
        lines = ["digraph pipeline {", "  rankdir=LR;", "  node [shape=box];"]
        lines += [f'  "{name}" [label="{name}\\n{kind.rsplit(".", 1)[-1]}"];' for name, kind in nodes.items()]
        lines += [f'  "{a}" -> "{b}" [label="{label}"];' for a, b, label in edges]
        return "\n".join([*lines, "}"])
    lines = ["flowchart LR"]
    lines += [f'  {name.replace("-", "_")}["{name}"]' for name in nodes]
    lines += [f'  {a.replace("-", "_")} -->|"{label}"| {b.replace("-", "_")}' for a, b, label in edges]
    return "\n".join(lines)
