"""Compiling a pipeline into its immutable run spec (DESIGN §4.1–4.2)."""

from __future__ import annotations

import hashlib
import platform
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from zenml.backends.processing import LocalProcessing
from zenml.backends.training import LocalTraining
from zenml.exceptions import ConfigError, GraphError
from zenml.pipelines import BasePipeline, CompileContext, RunSpec, SimplePipeline, pipeline
from zenml.pipelines.spec import BackendSpec, BackendsSpec, GitSpec, StackSpec
from zenml.steps import BaseStep, step
from zenml.utils.environment import zenml_version

HERE = Path(__file__).resolve().parent


class Scale(BaseStep):
    def __init__(self, factor: float = 1.0, tags: list[str] | None = None) -> None:
        self.factor = factor
        self.tags = tags

    def process(self, x: float) -> float:
        return x * self.factor


class Parts(NamedTuple):
    low: list[int]
    high: list[int]


@step
def load() -> float:
    return 3.0


@step(enable_cache=False)
def numbers(n: int = 4) -> list[int]:
    return list(range(n))


@step
def partition(data: list[int], threshold: int = 2) -> Parts:
    return Parts([x for x in data if x < threshold], [x for x in data if x >= threshold])


@step
def count(values: list[int]) -> int:
    return len(values)


@pipeline
def scaled() -> None:
    Scale(factor=2.0, tags=["a"])(x=load())


@pipeline
def fan_out() -> None:
    parts = partition(numbers(), threshold=3)
    Scale().with_backend(LocalProcessing(workers=2))(count(parts.high))
    count.with_backend(LocalTraining(device="cpu"))(parts.low)


def _backends() -> BackendsSpec:
    return BackendsSpec(
        orchestrator=BackendSpec(name="local", type="zenml.backends.orchestrator.local.LocalOrchestrator"),
        processing=BackendSpec(
            name="local", type="zenml.backends.processing.local.LocalProcessing", params={"workers": 1}
        ),
        training=BackendSpec(
            name="local", type="zenml.backends.training.local.LocalTraining", params={"device": "cpu"}
        ),
    )


def _context(**changes: Any) -> CompileContext:
    values: dict[str, Any] = {
        "run_id": "run-0001",
        "backends": _backends(),
        "stack": StackSpec(name="default", artifact_store="/data/artifacts", metadata_store="sqlite:///meta.db"),
        "project_root": HERE,
        "git": GitSpec(commit="a" * 40, dirty=True, diff_sha256="b" * 64),
    }
    values.update(changes)
    return CompileContext(**values)


def test_compile_records_the_run() -> None:
    spec = scaled.compile(_context())
    assert spec.spec_version == 1
    assert spec.run_id == "run-0001"
    assert spec.pipeline.name == "scaled"
    assert spec.pipeline.type == f"{__name__}.scaled"
    assert spec.created_at.tzinfo is not None
    assert spec.git == GitSpec(commit="a" * 40, dirty=True, diff_sha256="b" * 64)
    assert spec.environment.python == platform.python_version()
    assert spec.environment.zenml == zenml_version()
    assert spec.stack.metadata_store == "sqlite:///meta.db"
    assert spec.backends == _backends()
    assert spec.code_paths == ["."]  # this test module's folder is the project root here


def test_compile_records_every_step() -> None:
    spec = scaled.compile(_context())
    assert list(spec.steps) == ["load", "scale"]
    load_spec, scale_spec = spec.steps["load"], spec.steps["scale"]
    assert load_spec.type == f"{__name__}.load"
    assert load_spec.params == {}
    assert load_spec.inputs == {}
    assert list(load_spec.outputs) == ["output"]
    assert scale_spec.type == f"{__name__}.Scale"
    assert scale_spec.params == {"factor": 2.0, "tags": ["a"]}
    assert scale_spec.inputs == {"x": "load.output"}
    assert scale_spec.enable_cache is True
    assert scale_spec.processing is None
    assert scale_spec.training is None


def test_compile_records_cache_flags_outputs_and_step_backends() -> None:
    spec = fan_out.compile(_context())
    assert list(spec.steps) == ["numbers", "partition", "count", "count_2", "scale"]
    assert spec.steps["numbers"].enable_cache is False
    assert spec.steps["partition"].params == {"threshold": 3}
    assert list(spec.steps["partition"].outputs) == ["low", "high"]
    assert spec.steps["scale"].inputs == {"x": "count.output"}
    assert spec.steps["scale"].processing == BackendSpec(
        name="local", type="zenml.backends.processing.local.LocalProcessing", params={"workers": 2}
    )
    assert spec.steps["count_2"].training == BackendSpec(
        name="local", type="zenml.backends.training.local.LocalTraining", params={"device": "cpu"}
    )
    assert spec.downstream_of("partition") == ["count", "count_2"]
    assert spec.steps["scale"].upstream() == ["count"]


def test_compile_without_git_and_outside_the_project() -> None:
    spec = scaled.compile(_context(git=None, project_root=HERE / "elsewhere"))
    assert spec.git is None
    assert spec.code_paths == []


def test_compiled_spec_round_trips_through_yaml() -> None:
    spec = fan_out.compile(_context())
    text = spec.to_yaml()
    assert RunSpec.from_yaml(text) == spec
    assert RunSpec.from_yaml(text).to_yaml() == text
    assert spec.sha256() == hashlib.sha256(text.encode()).hexdigest()


def test_compile_applies_param_overrides_without_changing_the_pipeline() -> None:
    spec = scaled.compile(_context(params={"scale": {"factor": 5}}))
    assert spec.steps["scale"].params == {"factor": 5, "tags": ["a"]}
    assert scaled.steps["scale"].get_params() == {"factor": 2.0, "tags": ["a"]}


def test_overrides_of_function_step_params() -> None:
    spec = fan_out.compile(_context(params={"partition": {"threshold": 1}, "numbers": {"n": 10}}))
    assert spec.steps["partition"].params == {"threshold": 1}
    assert spec.steps["numbers"].params == {"n": 10}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"scael": {"factor": 1.0}},
            "--param names step 'scael', which is not in pipeline 'scaled'; did you mean 'scale'",
        ),
        ({"scale": {"facter": 1.0}}, "step 'scale': Scale has no parameter 'facter'; did you mean 'factor'"),
        ({"scale": {"factor": "big"}}, "step 'scale': parameter 'factor' of Scale must be float, got str"),
        ({"scale": {"tags": ("a",)}}, "step 'scale': parameter 'tags' of Scale must be JSON-able"),
    ],
)
def test_bad_overrides_are_config_errors(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        scaled.compile(_context(params=params))


def test_compile_validates_the_graph_first() -> None:
    broken = BasePipeline("broken").add_step("scale", Scale(), inputs={"x": "nothing"})
    with pytest.raises(GraphError, match="names step 'nothing'"):
        broken.compile(_context())


def test_compile_validates_params_stored_in_init() -> None:
    bad = BasePipeline("bad").add_step("load", load).add_step("scale", Scale(factor="x"), inputs={"x": "load"})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="step 'scale': parameter 'factor' of Scale must be float"):
        bad.compile(_context())


def test_simple_pipeline_compiles_with_its_type() -> None:
    simple = SimplePipeline(name="simple").add_datasource(numbers).add_trainer(count)
    spec = simple.compile(_context())
    assert spec.pipeline.type == "zenml.pipelines.simple.SimplePipeline"
    assert spec.steps["trainer"].inputs == {"values": "datasource.output"}


def test_recompiling_gives_the_same_steps() -> None:
    first, second = fan_out.compile(_context()), fan_out.compile(_context(run_id="run-0002"))
    assert first.steps == second.steps
    assert first.run_id != second.run_id
