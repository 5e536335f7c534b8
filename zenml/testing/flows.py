"""Source code of small pipelines that tests write into a project and run with ``zen`` in fresh processes."""

from __future__ import annotations

_CHAIN = '''
from zenml import pipeline, step


@step
def start(seed: int = 0) -> float:
    return float(seed)


@step
def bump(x: float, by: float = 1.0) -> float:
    return x + by


@pipeline
def {name}() -> None:
    value = start()
    for index in range(1, {steps}):
        value = bump.configure(name=f"bump_{{index:02d}}")(value)
'''


def chain_source(name: str, steps: int) -> str:
    """A module defining pipeline ``name``: ``start``, then ``steps - 1`` steps ``bump_01``, … each adding 1."""
    if not name.isidentifier() or steps < 1:
        raise ValueError(f"chain_source needs an identifier and steps >= 1, got {name!r}, {steps}")
    return _CHAIN.format(name=name, steps=steps)
