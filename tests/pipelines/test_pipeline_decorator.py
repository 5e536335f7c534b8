"""``@pipeline``: calling steps inside a function records the DAG."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from zenml.exceptions import ConfigError, GraphError
from zenml.pipelines import FunctionPipeline, pipeline
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
def load() -> float:
    return 3.0


@step
def numbers() -> list[int]:
    return [1, 2, 3, 4]


@step
def split(data: list[int], ratio: float = 0.5) -> Parts:
    cut = int(len(data) * ratio)
    return Parts(data[:cut], data[cut:])


@step
def total(values: list[int]) -> int:
    return sum(values)


@step
def combine(a: float, b: float) -> float:
    return a + b


@step
def word() -> str:
    return "w"


@step
def report(value: float) -> None:
    return None


@pipeline
def scaled() -> None:
    Scale(factor=2.0)(x=load())


@pipeline
def positional_and_keyword() -> None:
    parts = split(numbers(), ratio=0.75)
    combine(total(parts.train), b=total(values=parts.test))


@pipeline
def unpacked() -> None:
    train, test = split(numbers())
    total(test)
    total(train)


@pipeline
def indexed() -> None:
    total(split(numbers())["test"])


@pipeline(name="renamed")
def with_name() -> None:
    report(load.configure(name="source")())


@pipeline
def same_step_three_times() -> None:
    value = load()
    Scale(factor=2.0)(Scale(factor=3.0)(Scale()(value)))


@pipeline
def literal_into_input() -> None:
    Scale()(x=1.0)


@pipeline
def literal_into_function_input() -> None:
    combine(load(), b=2.0)


@pipeline
def literal_misspelled_param() -> None:
    split(numbers(), raito=0.1)


@pipeline
def literal_wrong_type_param() -> None:
    split(numbers(), ratio="half")


@pipeline
def duplicate_explicit_names() -> None:
    load.configure(name="same")()
    numbers.configure(name="same")()


@pipeline
def too_many_positional() -> None:
    value = load()
    Scale()(value, value)


@pipeline
def given_twice() -> None:
    value = load()
    Scale()(value, x=value)


@pipeline
def str_into_float() -> None:
    Scale()(word())


@pipeline
def int_into_float() -> None:
    Scale()(total(numbers()))


@pipeline
def missing_output() -> None:
    total(split(numbers()).validation)


@pipeline
def unconnected() -> None:
    combine(load())


def test_pipeline_decorator_makes_a_function_pipeline() -> None:
    assert isinstance(scaled, FunctionPipeline)
    assert scaled.name == "scaled"
    assert scaled.pipeline_type() == f"{__name__}.scaled"
    assert with_name.name == "renamed"


def test_calls_wire_the_graph() -> None:
    assert scaled.order() == ["load", "scale"]
    assert scaled.resolved_inputs() == {"load": {}, "scale": {"x": "load.output"}}
    assert scaled.steps["scale"].get_params() == {"factor": 2.0}


def test_positional_keyword_and_attribute_outputs() -> None:
    assert positional_and_keyword.resolved_inputs() == {
        "numbers": {},
        "split": {"data": "numbers.output"},
        "total": {"values": "split.train"},
        "total_2": {"values": "split.test"},
        "combine": {"a": "total.output", "b": "total_2.output"},
    }


def test_literal_param_sets_a_function_step_param_on_a_copy() -> None:
    assert positional_and_keyword.steps["split"].get_params() == {"ratio": 0.75}
    assert split.get_params() == {"ratio": 0.5}


def test_outputs_unpack_in_declaration_order_and_by_name() -> None:
    assert unpacked.resolved_inputs()["total"] == {"values": "split.test"}
    assert unpacked.resolved_inputs()["total_2"] == {"values": "split.train"}
    assert indexed.resolved_inputs()["total"] == {"values": "split.test"}


def test_configured_name_is_used() -> None:
    assert with_name.order() == ["source", "report"]
    assert with_name.resolved_inputs()["report"] == {"value": "source.output"}


def test_duplicate_steps_get_numbered_names() -> None:
    assert same_step_three_times.order() == ["load", "scale", "scale_2", "scale_3"]
    params = {name: s.get_params() for name, s in same_step_three_times.steps.items()}
    assert params == {"load": {}, "scale": {"factor": 1.0}, "scale_2": {"factor": 3.0}, "scale_3": {"factor": 2.0}}


def test_duplicate_explicit_names_are_refused() -> None:
    with pytest.raises(GraphError, match="two steps are named 'same'; give each a unique name"):
        duplicate_explicit_names.nodes()


@pytest.mark.parametrize(
    ("pipe", "message"),
    [
        (literal_into_input, r"input 'x' of step Scale got the literal 1\.0; inputs must come from another step"),
        (
            literal_into_function_input,
            "input 'b' of step combine got the literal 2.0; wire it to another step's output",
        ),
        (too_many_positional, "step Scale takes 1 input, got 2"),
        (given_twice, "input 'x' of step Scale was given twice"),
        (str_into_float, "input 'x' of step 'scale' expects float but 'word.output' is str"),
        (unconnected, "input 'b' of step 'combine' is not connected"),
    ],
)
def test_graph_errors(pipe: FunctionPipeline, message: str) -> None:
    with pytest.raises(GraphError, match=message):
        pipe.order()


def test_literal_params_are_validated() -> None:
    with pytest.raises(ConfigError, match="split has no parameter 'raito'; did you mean 'ratio'"):
        literal_misspelled_param.nodes()
    with pytest.raises(ConfigError, match="parameter 'ratio' of split must be float"):
        literal_wrong_type_param.nodes()


def test_missing_output_names_the_outputs() -> None:
    with pytest.raises(AttributeError, match=r"step has no output 'validation' \(outputs: train, test\)"):
        missing_output.nodes()


def test_int_output_into_float_input() -> None:
    assert int_into_float.resolved_inputs()["scale"] == {"x": "total.output"}


def test_graph_is_recorded_once() -> None:
    assert scaled.nodes() == scaled.nodes()
    first = scaled.nodes()["scale"].step
    assert scaled.nodes()["scale"].step is first


def test_add_step_extends_a_function_pipeline() -> None:
    extended = pipeline(name="extended")(scaled.func)
    extended.add_step("report", report, inputs={"value": "scale"})
    assert extended.order() == ["load", "scale", "report"]
    with pytest.raises(GraphError, match="already has a step named 'load'"):
        extended.add_step("load", load)
