"""Render a pipeline DAG as Graphviz dot, Mermaid or JSON."""

from __future__ import annotations

import json
from pathlib import Path

from zenml.cli.targets import is_spec, load_pipeline


def graph_of(target: str) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Nodes (name → type) and edges (source, target, label) of a pipeline target or spec."""
    if is_spec(target):
        from zenml.exceptions import ConfigError
        from zenml.pipelines.spec import RunSpec

        path = Path(target)
        if not path.is_file():
            raise ConfigError(f"spec file '{target}' does not exist")
        spec = RunSpec.from_yaml(path.read_text(), target)
        nodes = {name: step.type for name, step in spec.steps.items()}
        inputs = {name: step.inputs for name, step in spec.steps.items()}
    else:
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


def render_graph(target: str, format_: str) -> str:
    """The DAG in ``dot``, ``mermaid`` or ``json``."""
    nodes, edges = graph_of(target)
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
