"""``topological_order``: every node after its dependencies, deterministic, and cycles named."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zenml.exceptions import GraphError
from zenml.pipelines.graph import find_cycle, topological_order

SETTINGS = settings(max_examples=100, derandomize=True, deadline=None)


@st.composite
def dags(draw: st.DrawFn) -> dict[str, list[str]]:
    """A random DAG, inserted in a random order: node i may depend only on nodes j < i."""
    size = draw(st.integers(min_value=0, max_value=15))
    names = [f"n{i}" for i in range(size)]
    deps = {
        name: draw(st.lists(st.sampled_from(names[:index]), unique=True)) if index else []
        for index, name in enumerate(names)
    }
    order = draw(st.permutations(names))
    return {name: deps[name] for name in order}


@st.composite
def cyclic_graphs(draw: st.DrawFn) -> dict[str, list[str]]:
    """A random DAG with one cycle threaded through some of its nodes (a self-loop included)."""
    graph = draw(dags().filter(bool))
    nodes = list(graph)
    cycle = draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=len(nodes), unique=True))
    for current, following in zip(cycle, [*cycle[1:], cycle[0]], strict=True):
        if following not in graph[current]:
            graph[current] = [*graph[current], following]
    return graph


@SETTINGS
@given(dags())
def test_every_node_comes_after_its_dependencies(graph: dict[str, list[str]]) -> None:
    order = topological_order(graph)
    assert sorted(order) == sorted(graph)
    position = {name: index for index, name in enumerate(order)}
    for name, deps in graph.items():
        for dep in deps:
            assert position[dep] < position[name]


@SETTINGS
@given(dags())
def test_order_is_deterministic_and_keeps_insertion_order_among_ready_nodes(graph: dict[str, list[str]]) -> None:
    order = topological_order(graph)
    assert topological_order(dict(graph)) == order
    roots = [name for name, deps in graph.items() if not deps]
    assert order[: len(roots)] == roots  # nodes without dependencies come first, in definition order


@SETTINGS
@given(st.lists(st.text(min_size=1, max_size=5), unique=True, max_size=10))
def test_graph_without_edges_keeps_insertion_order(names: list[str]) -> None:
    assert topological_order({name: [] for name in names}) == names


@SETTINGS
@given(cyclic_graphs())
def test_a_cycle_is_reported_with_a_real_cycle(graph: dict[str, list[str]]) -> None:
    with pytest.raises(GraphError) as info:
        topological_order(graph)
    match = re.fullmatch(r"the pipeline has a cycle: (.*); remove one of these edges", str(info.value))
    assert match is not None
    cycle = match.group(1).split(" -> ")
    assert len(cycle) >= 2
    assert cycle[0] == cycle[-1]
    assert len(set(cycle[:-1])) == len(cycle) - 1
    for node, dependency in zip(cycle, cycle[1:], strict=False):
        assert dependency in graph[node]


def test_examples() -> None:
    assert topological_order({"c": ["b", "a"], "a": [], "b": ["a"], "d": []}) == ["a", "d", "b", "c"]
    assert topological_order({}) == []


def test_unknown_dependency_is_a_graph_error() -> None:
    with pytest.raises(GraphError, match="step 'b' depends on 'missing', which is not in the pipeline"):
        topological_order({"a": [], "b": ["a", "missing"]})


def test_find_cycle_follows_dependencies() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"b"}}) == ["b", "c", "b"]
    assert find_cycle({"x": {"x"}}) == ["x", "x"]
