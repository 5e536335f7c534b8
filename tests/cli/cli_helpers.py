"""Helpers of the CLI tests: pipeline modules written into a test repository, the result of one ``zen``
call, and a snapshot of what the stores hold (to prove that bad input leaves them untouched)."""

from __future__ import annotations

import importlib
import uuid
from dataclasses import dataclass
from pathlib import Path

#: The pipelines the CLI tests run. Written into the repository under a unique module name per test,
#: because ``zen run file.py:obj`` imports the file as a top-level module named after its stem.
FLOW_SOURCE = '''\
"""Small pipelines for the CLI tests."""

from __future__ import annotations

from pathlib import Path

from zenml import BaseStep, StepContext, pipeline, step
from zenml.pipelines import BasePipeline, SimplePipeline


class Scale(BaseStep):
    """Multiply the input by ``factor``."""

    def __init__(self, factor: float = 1.0):
        self.factor = factor

    def process(self, x: float, context: StepContext) -> float:
        context.log_metric("factor", self.factor)
        return x * self.factor


@step
def load() -> float:
    return 3.0


@step
def greet(name: str = "world") -> str:
    return "hello " + name


@step
def boom(x: float) -> float:
    if Path("broken").exists():  # the test decides whether this step fails
        raise ValueError("kaboom: the data is bad")
    return x


@pipeline
def scaled() -> None:
    Scale(factor=2.0)(x=load())


@pipeline
def greeting() -> None:
    greet()


simple = SimplePipeline(name="simple")
simple.add_step("load", load)
simple.add_step("scale", Scale(factor=2.0), inputs={"x": "load"})

failing = (
    BasePipeline("failing")
    .add_step("load", load)
    .add_step("boom", boom, inputs={"x": "load"})
    .add_step("scale", Scale(factor=2.0), inputs={"x": "boom"})
)
cyclic = BasePipeline("cyclic").add_step("a", Scale(), inputs={"x": "b"}).add_step("b", Scale(), inputs={"x": "a"})
missing_step = BasePipeline("missing_step").add_step("load", load).add_step("scale", Scale(), inputs={"x": "lod"})
missing_output = (
    BasePipeline("missing_output").add_step("load", load).add_step("scale", Scale(), inputs={"x": "load.result"})
)
not_a_pipeline = 42
'''


@dataclass(frozen=True)
class Result:
    """What one ``zen`` invocation returned and printed (colour codes removed)."""

    code: int
    out: str
    err: str

    @property
    def error_lines(self) -> list[str]:
        """The non-empty lines printed to stderr that start with ``Error:``."""
        return [line for line in self.err.splitlines() if line.startswith("Error:")]


@dataclass(frozen=True)
class Flow:
    """A pipeline module written into the repository."""

    module: str
    file: str

    def target(self, name: str) -> str:
        """``flow_x.py:name``."""
        return f"{self.file}:{name}"


def write_flow(folder: Path, source: str = FLOW_SOURCE, prefix: str = "flow") -> Flow:
    """Write ``source`` as a uniquely named module in ``folder``."""
    module = f"{prefix}_{uuid.uuid4().hex[:10]}"
    (folder / f"{module}.py").write_text(source)
    importlib.invalidate_caches()
    return Flow(module=module, file=f"{module}.py")


@dataclass(frozen=True)
class StoreState:
    """Runs in the metadata store, spec files and artifact files of a repository."""

    runs: list[tuple[str, str]]
    specs: list[str]
    artifacts: list[str]


def store_state(root: Path) -> StoreState:
    """What the default stack's stores of the repository at ``root`` hold now."""
    from zenml.repository import Repository

    repository = Repository(root)
    try:
        runs = sorted((run.id, run.status) for run in repository.runs())
    finally:
        repository.close()
    specs = sorted(str(p.relative_to(root)) for p in (root / "pipelines").rglob("*") if p.is_file())
    artifacts = sorted(str(p.relative_to(root)) for p in (root / ".zen" / "artifacts").rglob("*") if p.is_file())
    return StoreState(runs, specs, artifacts)


def only_run(root: Path) -> str:
    """The id of the single run recorded in the repository."""
    runs = store_state(root).runs
    assert len(runs) == 1, runs
    return runs[0][0]
