"""``zen graph`` in its three formats (on code and on a stored spec) and ``zen steps list``."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from cli_helpers import Flow, Result

from zenml.repository import Repository

Zen = Callable[..., Result]


def test_graph_json_has_nodes_and_edges(zen: Zen, flow: Flow) -> None:
    result = zen("graph", flow.target("failing"), "--format", "json")
    assert result.code == 0, result.err
    graph = json.loads(result.out)
    assert graph["nodes"] == [
        {"name": "load", "type": f"{flow.module}.load"},
        {"name": "boom", "type": f"{flow.module}.boom"},
        {"name": "scale", "type": f"{flow.module}.Scale"},
    ]
    assert [(e["from"], e["to"]) for e in graph["edges"]] == [("load", "boom"), ("boom", "scale")]
    assert all("output" in e["label"] and "x" in e["label"] for e in graph["edges"])


def test_graph_dot(zen: Zen, flow: Flow) -> None:
    result = zen("graph", flow.target("scaled"), "--format", "dot")
    assert result.code == 0
    out = result.out.strip()
    assert out.startswith("digraph pipeline {") and out.endswith("}")
    assert '"load" -> "scale"' in out
    assert out.count("->") == 1


def test_graph_mermaid_is_the_default(zen: Zen, flow: Flow) -> None:
    default = zen("graph", flow.target("simple"))
    assert default.code == 0
    assert default.out.startswith("flowchart LR")
    assert "load -->" in default.out and "| scale" in default.out
    assert zen("graph", flow.target("simple"), "--format", "mermaid").out == default.out


def test_graph_of_a_stored_spec_matches_the_code(zen: Zen, flow: Flow, repo: Repository) -> None:
    assert zen("run", flow.target("scaled"), "--quiet").code == 0
    spec = repo.runs()[0].record.spec_path
    from_spec = zen("graph", spec, "--format", "json")
    assert from_spec.code == 0, from_spec.err
    assert json.loads(from_spec.out) == json.loads(zen("graph", flow.target("scaled"), "--format", "json").out)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "svg"], "--format 'svg' is not one of dot, mermaid, json"),
        (["missing.yaml"], "spec file 'missing.yaml' does not exist"),
    ],
)
def test_graph_bad_input(zen: Zen, flow: Flow, args: list[str], message: str) -> None:
    target = [] if args[0].endswith(".yaml") else [flow.target("scaled")]
    result = zen("graph", *target, *args)
    assert result.code == 2
    assert result.error_lines == [f"Error: {message}"]


def test_graph_refuses_a_cycle(zen: Zen, flow: Flow) -> None:
    result = zen("graph", flow.target("cyclic"))
    assert result.code == 2
    assert "cycle" in result.err


def test_steps_list_of_a_pipeline(zen: Zen, flow: Flow) -> None:
    result = zen("steps", "list", "--pipeline", flow.target("scaled"))
    assert result.code == 0, result.err
    assert "pipeline scaled" in result.out
    rows = [line for line in result.out.splitlines() if line.startswith(("load", "scale"))]
    assert len(rows) == 2
    assert f"{flow.module}.load" in rows[0]
    assert f"{flow.module}.Scale" in rows[1] and '{"factor": 2.0}' in rows[1] and "x←load.output" in rows[1]


def test_steps_list_of_shipped_classes(zen: Zen, repo: Repository) -> None:
    result = zen("steps", "list")
    assert result.code == 0, result.err
    assert result.out.strip()
