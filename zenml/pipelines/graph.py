"""Graph algorithms for step DAGs: a stable topological order that reports cycles by name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from zenml.exceptions import GraphError


def topological_order(dependencies: Mapping[str, Sequence[str]]) -> list[str]:
    """Order nodes so every node comes after its dependencies, keeping insertion order otherwise.

    Raises:
        GraphError: a dependency is not a node, or the graph has a cycle (the message names the steps on it).
    """
    for node, needed in dependencies.items():
        unknown = [dep for dep in needed if dep not in dependencies]
        if unknown:
            raise GraphError(f"step '{node}' depends on '{unknown[0]}', which is not in the pipeline")
    remaining = {node: set(deps) for node, deps in dependencies.items()}
    order: list[str] = []
    while remaining:
        ready = [node for node, deps in remaining.items() if not deps]
        if not ready:
            raise GraphError(
                f"the pipeline has a cycle: {' -> '.join(find_cycle(remaining))}; remove one of these edges"
            )
        for node in ready:
            del remaining[node]
            order.append(node)
        for deps in remaining.values():
            deps.difference_update(ready)
    return order


def find_cycle(dependencies: Mapping[str, set[str]]) -> list[str]:
    """Return one cycle ``[a, b, ..., a]`` among nodes that all still have dependencies."""
    start = next(iter(dependencies))
    path: list[str] = [start]
    seen = {start: 0}
    node = start
    while True:
        node = sorted(dependencies[node])[0]
        if node in seen:
            return [*path[seen[node] :], node]
        seen[node] = len(path)
        path.append(node)
