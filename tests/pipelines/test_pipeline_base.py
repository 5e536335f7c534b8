"""``BasePipeline``: building a DAG by name and every way a graph can be wrong."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from zenml.exceptions import ConfigError, GraphError
from zenml.pipelines import BasePipeline
from zenml.steps import BaseStep, step


class Scale(BaseStep):
    def __init__(self, factor: float = 1.0) -> None:
        self.factor = factor

    def process(self, x: float) -> float:
        return x * self.factor


class Parts(NamedTuple):
    train: list[int]
    test: list[int]


@step
def numbers() -> list[int]:
    return [1, 2, 3, 4]


@step
def count() -> int:
    return 4


@step
def word() -> str:
    return "four"


@step
def halve(data: list[int]) -> Parts:
    return Parts(data[:2], data[2:])


@step
def total(values: list[int]) -> int:
    return sum(values)


@step
def combine(a: float, b: float) -> float:
    return a + b


@step
def sink(x: float) -> None:
    return None


def test_add_step_chains_and_records_nodes() -> None:
    pipe = BasePipeline("p").add_step("numbers", numbers).add_step("halve", halve, inputs={"data": "numbers"})
    assert list(pipe.nodes()) == ["numbers", "halve"]
    assert pipe.nodes()["halve"].inputs == {"data": "numbers"}
    assert pipe.steps["halve"] == halve


def test_add_step_stores_an_independent_copy() -> None:
    scale = Scale(factor=2.0)
    pipe = BasePipeline("p").add_step("scale", scale, inputs={"x": "count"}).add_step("count", count)
    scale.set_params(factor=3.0)
    assert pipe.steps["scale"].get_params() == {"factor": 2.0}


def test_add_step_refuses_a_non_step() -> None:
    with pytest.raises(GraphError, match="'f' must be a step \\(a BaseStep or an @step function\\), got function"):
        BasePipeline("p").add_step("f", lambda: 1)  # type: ignore[arg-type]


def test_add_step_refuses_a_duplicate_name() -> None:
    pipe = BasePipeline("p").add_step("a", numbers)
    with pytest.raises(GraphError, match="pipeline 'p' already has a step named 'a'"):
        pipe.add_step("a", count)


@pytest.mark.parametrize("name", ["has space", "", "a.b", "9lives"])
def test_bad_step_and_pipeline_names(name: str) -> None:
    with pytest.raises(ConfigError, match="is not allowed"):
        BasePipeline("p").add_step(name, numbers)
    with pytest.raises(ConfigError, match="pipeline name"):
        BasePipeline(name)


def test_resolved_inputs_complete_step_references() -> None:
    pipe = (
        BasePipeline("p")
        .add_step("numbers", numbers)
        .add_step("halve", halve, inputs={"data": "numbers"})
        .add_step("total", total, inputs={"values": "halve.test"})
    )
    assert pipe.resolved_inputs() == {
        "numbers": {},
        "halve": {"data": "numbers.output"},
        "total": {"values": "halve.test"},
    }


def test_order_runs_producers_first_whatever_the_add_order() -> None:
    pipe = (
        BasePipeline("p")
        .add_step("total", total, inputs={"values": "halve.train"})
        .add_step("halve", halve, inputs={"data": "numbers"})
        .add_step("numbers", numbers)
    )
    assert pipe.order() == ["numbers", "halve", "total"]


def test_order_is_stable() -> None:
    def build() -> BasePipeline:
        return (
            BasePipeline("p")
            .add_step("c", count)
            .add_step("s2", Scale(), inputs={"x": "c"})
            .add_step("s1", Scale(), inputs={"x": "c"})
            .add_step("c2", count)
            .add_step("sum", combine, inputs={"a": "s1", "b": "s2"})
        )

    orders = {tuple(build().order()) for _ in range(5)}
    assert orders == {("c", "c2", "s2", "s1", "sum")}  # independent steps keep their definition order


def test_empty_pipeline_is_refused() -> None:
    with pytest.raises(GraphError, match="pipeline 'p' has no steps; add at least one"):
        BasePipeline("p").order()


def test_cycle_names_the_steps() -> None:
    pipe = (
        BasePipeline("p")
        .add_step("count", count)
        .add_step("first", combine, inputs={"a": "count", "b": "second"})
        .add_step("second", Scale(), inputs={"x": "third"})
        .add_step("third", Scale(), inputs={"x": "first"})
    )
    with pytest.raises(GraphError, match="the pipeline has a cycle: first -> second -> third -> first"):
        pipe.order()


def test_self_loop_is_a_cycle() -> None:
    pipe = BasePipeline("p").add_step("loop", Scale(), inputs={"x": "loop"})
    with pytest.raises(GraphError, match="cycle: loop -> loop"):
        pipe.order()


def test_input_naming_a_missing_step_suggests_one() -> None:
    pipe = BasePipeline("p").add_step("numbers", numbers).add_step("total", total, inputs={"values": "numbres"})
    with pytest.raises(GraphError) as info:
        pipe.order()
    assert str(info.value) == (
        "input 'values' of step 'total' names step 'numbres', which is not in pipeline 'p'; "
        "did you mean 'numbers'? (steps: numbers, total)"
    )


def test_input_naming_a_missing_output_suggests_one() -> None:
    pipe = (
        BasePipeline("p")
        .add_step("numbers", numbers)
        .add_step("halve", halve, inputs={"data": "numbers"})
        .add_step("total", total, inputs={"values": "halve.tran"})
    )
    with pytest.raises(GraphError, match="names output 'tran' of step 'halve', which has outputs train, test; did you"):
        pipe.order()


def test_bare_step_reference_needs_a_single_output() -> None:
    pipe = (
        BasePipeline("p")
        .add_step("numbers", numbers)
        .add_step("halve", halve, inputs={"data": "numbers"})
        .add_step("total", total, inputs={"values": "halve"})
    )
    with pytest.raises(GraphError, match="which has outputs train, test; write 'halve.<output>'"):
        pipe.order()


def test_reference_to_a_step_without_outputs() -> None:
    pipe = BasePipeline("p").add_step("count", count).add_step("sink", sink, inputs={"x": "count"})
    pipe.add_step("after", Scale(), inputs={"x": "sink"})
    with pytest.raises(GraphError, match=r"names step 'sink', which has outputs \(none\)"):
        pipe.order()


def test_unconnected_input_says_how_to_wire_it() -> None:
    pipe = BasePipeline("p").add_step("count", count).add_step("sum", combine, inputs={"a": "count"})
    with pytest.raises(GraphError, match="input 'b' of step 'sum' is not connected; wire it with inputs="):
        pipe.order()


def test_unknown_input_name_suggests_one() -> None:
    pipe = BasePipeline("p").add_step("count", count).add_step("scale", Scale(), inputs={"y": "count", "x": "count"})
    with pytest.raises(GraphError, match=r"step 'scale' has no input 'y' \(inputs: x\)"):
        pipe.order()
    pipe = BasePipeline("p").add_step("n", numbers).add_step("total", total, inputs={"valeus": "n"})
    with pytest.raises(GraphError, match="has no input 'valeus'; did you mean 'values'"):
        pipe.order()


def test_reference_must_be_a_string() -> None:
    pipe = BasePipeline("p").add_step("count", count).add_step("scale", Scale(), inputs={"x": 3})  # type: ignore[dict-item]
    with pytest.raises(GraphError, match="must be a 'step' or 'step.output' string, got 3"):
        pipe.order()


def test_incompatible_types_are_refused() -> None:
    pipe = BasePipeline("p").add_step("word", word).add_step("scale", Scale(), inputs={"x": "word"})
    with pytest.raises(GraphError, match="input 'x' of step 'scale' expects float but 'word.output' is str"):
        pipe.order()
    pipe = BasePipeline("p").add_step("numbers", numbers).add_step("scale", Scale(), inputs={"x": "numbers"})
    with pytest.raises(GraphError, match=r"expects float but 'numbers.output' is list\[int\]"):
        pipe.order()


def test_int_output_into_float_input_is_fine() -> None:
    pipe = BasePipeline("p").add_step("count", count).add_step("scale", Scale(), inputs={"x": "count.output"})
    assert pipe.order() == ["count", "scale"]


def test_validate_checks_graph_and_params() -> None:
    pipe = BasePipeline("p").add_step("count", count).add_step("scale", Scale(factor="x"), inputs={"x": "count"})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="step 'scale': parameter 'factor' of Scale must be float"):
        pipe.validate()
    BasePipeline("p").add_step("count", count).validate()


def test_pipeline_type_is_the_class_path() -> None:
    assert BasePipeline("p").pipeline_type() == "zenml.pipelines.base.BasePipeline"
