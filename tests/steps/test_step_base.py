"""``BaseStep``: the parameter contract on class steps, signatures from ``process``, and ``execute``."""

from __future__ import annotations

import inspect
from typing import Any, NamedTuple

import pytest

from zenml.backends.processing import LocalProcessing
from zenml.backends.training import LocalTraining
from zenml.exceptions import ConfigError, GraphError, StepError
from zenml.steps import BaseStep, StepContext, StepOptions
from zenml.steps.base import check_name, snake_case


class Scale(BaseStep):
    def __init__(self, factor: float = 1.0, offsets: list[float] | None = None) -> None:
        self.factor = factor
        self.offsets = offsets

    def process(self, x: float) -> float:
        return x * self.factor + sum(self.offsets or [])


class Splits(NamedTuple):
    train: list[int]
    test: list[int]


class SplitHalf(BaseStep):
    def process(self, data: list[int]) -> Splits:
        middle = len(data) // 2
        return Splits(train=data[:middle], test=data[middle:])


class Sink(BaseStep):
    def process(self, value: Any, context: StepContext) -> None:
        context.log_metric("seen", 1)


class Untyped(BaseStep):
    def process(self, a, b):  # no annotations on purpose
        return [a, b]


class WithContext(BaseStep):
    def __init__(self, scale: float = 2.0) -> None:
        self.scale = scale

    def process(self, x: float, ctx: StepContext) -> float:
        ctx.log_metric("scaled", x * self.scale)
        return x * self.scale


class LiesAboutOutput(BaseStep):
    def process(self) -> int:
        return "not an int"  # type: ignore[return-value]


class LiesAboutNone(BaseStep):
    def process(self) -> None:
        return 3  # type: ignore[return-value]


class WrongTuple(BaseStep):
    def process(self) -> Splits:
        return ([1], [2], [3])  # type: ignore[return-value]


class BadTupleField(BaseStep):
    def process(self) -> Splits:
        return Splits(train=[1], test="x")  # type: ignore[arg-type]


class VarInputs(BaseStep):
    def process(self, *values: float) -> float:
        return sum(values)


class KwInputs(BaseStep):
    def process(self, **values: float) -> float:
        return sum(values.values())


class UnresolvableAnnotation(BaseStep):
    def process(self, x: NoSuchType) -> int:  # type: ignore[name-defined]  # noqa: F821
        return 1


class ForgetsParam(BaseStep):
    def __init__(self, k: int = 5) -> None:
        self.neighbours = k

    def process(self) -> int:
        return self.neighbours


class StandardScaler(BaseStep):
    def process(self, x: float) -> float:
        return x


def _context(name: str = "step") -> StepContext:
    return StepContext(step_name=name, run_id="run-1", pipeline_name="pipe")


# -- parameters ----------------------------------------------------------------------------------


def test_params_round_trip_through_config() -> None:
    step = Scale(factor=2.0, offsets=[1.0])
    config = step.to_config()
    assert config == {"type": f"{__name__}.Scale", "params": {"factor": 2.0, "offsets": [1.0]}}
    assert BaseStep.from_config(config) == step
    assert Scale.from_config(config) == step


def test_set_params_and_clone() -> None:
    step = Scale().set_params(factor=3)
    assert step.factor == 3
    twin = step.clone()
    assert twin == step
    assert twin is not step


def test_misspelled_param_is_refused_with_suggestion() -> None:
    with pytest.raises(ConfigError, match="Scale has no parameter 'facter'; did you mean 'factor'"):
        Scale().set_params(facter=2.0)


def test_wrong_type_param_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"parameter 'offsets' of Scale must be list\[float\] \| None, got str"):
        Scale().set_params(offsets="1,2")


def test_param_not_stored_is_named() -> None:
    with pytest.raises(ConfigError, match="ForgetsParam.__init__ takes 'k' but does not store it as self.k"):
        ForgetsParam().to_config()


def test_from_config_refuses_a_non_step() -> None:
    with pytest.raises(ConfigError, match="is not a BaseStep class"):
        BaseStep.from_config({"type": f"{__name__}.Splits", "params": {}})


def test_base_step_is_abstract() -> None:
    with pytest.raises(TypeError):
        BaseStep()  # type: ignore[abstract]


# -- signature -----------------------------------------------------------------------------------


def test_single_return_is_the_output_named_output() -> None:
    signature = Scale().signature()
    assert signature.inputs == {"x": float}
    assert signature.outputs == {"output": float}
    assert signature.context_arg is None
    assert signature.tuple_type is None


def test_named_tuple_return_gives_several_outputs() -> None:
    signature = SplitHalf().signature()
    assert signature.inputs == {"data": list[int]}
    assert signature.outputs == {"train": list[int], "test": list[int]}
    assert signature.tuple_type is Splits


def test_none_return_gives_no_outputs_and_context_is_not_an_input() -> None:
    signature = Sink().signature()
    assert signature.inputs == {"value": Any}
    assert signature.outputs == {}
    assert signature.context_arg == "context"


def test_missing_annotations_mean_anything() -> None:
    signature = Untyped().signature()
    assert signature.inputs == {"a": inspect.Parameter.empty, "b": inspect.Parameter.empty}
    assert signature.outputs == {"output": Any}


@pytest.mark.parametrize("cls", [VarInputs, KwInputs])
def test_var_arguments_in_process_are_refused(cls: type[BaseStep]) -> None:
    with pytest.raises(ConfigError, match=rf"{cls.__name__}.process takes \*values; declare each input"):
        cls().signature()


def test_unresolvable_annotation_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="cannot resolve the annotations of UnresolvableAnnotation.process"):
        UnresolvableAnnotation().signature()


# -- execute -------------------------------------------------------------------------------------


def test_execute_returns_outputs_by_name() -> None:
    assert Scale(factor=2.0, offsets=[0.5]).execute({"x": 3.0}, _context()) == {"output": 6.5}
    assert SplitHalf().execute({"data": [1, 2, 3, 4]}, _context()) == {"train": [1, 2], "test": [3, 4]}


def test_execute_ignores_inputs_the_step_does_not_declare() -> None:
    assert Scale().execute({"x": 1.0, "other": "ignored"}, _context()) == {"output": 1.0}


def test_execute_injects_the_context_by_annotation() -> None:
    context = _context("scaler")
    assert WithContext(scale=3.0).execute({"x": 2.0}, context) == {"output": 6.0}
    assert context.metrics == {"scaled": 6.0}
    sink_context = _context()
    assert Sink().execute({"value": object()}, sink_context) == {}
    assert sink_context.metrics == {"seen": 1.0}


def test_execute_accepts_an_int_for_a_float_output() -> None:
    assert Scale(factor=2).execute({"x": 2}, _context()) == {"output": 4}


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (LiesAboutOutput(), "output 'output' is annotated int but process\\(\\) returned str"),
        (LiesAboutNone(), "annotated '-> None' but returned a value"),
        (WrongTuple(), "must return a Splits with 2 fields"),
        (BadTupleField(), "output 'test' is annotated list\\[int\\] but process\\(\\) returned str"),
    ],
)
def test_execute_validates_outputs_against_annotations(step: BaseStep, message: str) -> None:
    with pytest.raises(StepError, match=message) as info:
        step.execute({}, _context("liar"))
    assert info.value.step == "liar"
    assert info.value.error_type == "TypeError"
    assert str(info.value).startswith("step 'liar' failed: TypeError: ")


def test_process_can_be_called_directly() -> None:
    assert Scale(factor=2.0).process(x=3.0) == 6.0


# -- options -------------------------------------------------------------------------------------


def test_default_name_is_snake_case_class_name() -> None:
    assert StandardScaler().default_name() == "standard_scaler"
    assert snake_case("Scale") == "scale"
    assert snake_case("CSVDatasource") == "c_s_v_datasource"


def test_configure_returns_a_configured_copy() -> None:
    step = Scale(factor=2.0)
    configured = step.configure(name="double", enable_cache=False)
    assert configured.options == StepOptions(name="double", enable_cache=False)
    assert configured.default_name() == "double"
    assert configured == step  # options are not parameters
    assert step.options == StepOptions()
    assert configured.clone().options == configured.options
    assert configured.configure(enable_cache=True).options == StepOptions(name="double", enable_cache=True)


@pytest.mark.parametrize("name", ["", "has space", "1starts_with_digit", "dots.not.allowed", "x" * 101, "a/b"])
def test_configure_refuses_bad_names(name: str) -> None:
    with pytest.raises(ConfigError, match="is not allowed; use letters, digits"):
        Scale().configure(name=name)


@pytest.mark.parametrize("name", ["a", "_private", "with-dash", "x" * 100, "Step_2"])
def test_check_name_accepts_identifier_like_names(name: str) -> None:
    assert check_name(name, "step") == name


def test_with_backend_records_the_backend_config() -> None:
    step = Scale()
    processed = step.with_backend(LocalProcessing(workers=2))
    assert processed.options.processing == {
        "type": "zenml.backends.processing.local.LocalProcessing",
        "params": {"workers": 2},
    }
    assert processed.options.training is None
    trained = processed.with_backend(LocalTraining(device="cpu"))
    assert trained.options.training == {
        "type": "zenml.backends.training.local.LocalTraining",
        "params": {"device": "cpu"},
    }
    assert trained.options.processing == processed.options.processing
    assert step.options == StepOptions()


def test_with_backend_refuses_a_non_backend() -> None:
    with pytest.raises(ConfigError, match="Scale is not a processing or training backend"):
        Scale().with_backend(Scale())


def test_calling_a_step_outside_a_pipeline_is_a_graph_error() -> None:
    with pytest.raises(GraphError, match=r"step Scale was called outside a @pipeline function; call \.process"):
        Scale()(x=1.0)
