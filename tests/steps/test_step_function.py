"""``@step``: function steps whose arguments without defaults are inputs and with defaults are parameters."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from zenml.backends.processing import LocalProcessing
from zenml.backends.training import LocalTraining
from zenml.exceptions import ConfigError, GraphError
from zenml.steps import BaseStep, FunctionStep, StepContext, StepOptions, step


@step
def add(x: float, offset: float = 1.0) -> float:
    """Add an offset."""
    return x + offset


@step(name="loader", enable_cache=False)
def load() -> list[int]:
    return [1, 2, 3]


@step
def weighted(values: list[float], weights: list[float] | None = None, mode: str = "sum") -> float:
    weights = weights or [1.0] * len(values)
    total = sum(v * w for v, w in zip(values, weights, strict=True))
    return total if mode == "sum" else total / len(values)


class Stats(NamedTuple):
    mean: float
    count: int


@step
def stats(values: list[float]) -> Stats:
    return Stats(mean=sum(values) / len(values), count=len(values))


@step
def logs(x: float, context: StepContext) -> None:
    context.log_metric("x", x)


@step
def varargs(*xs: float) -> float:
    return sum(xs)


def test_decorated_function_is_a_step() -> None:
    assert isinstance(add, FunctionStep)
    assert isinstance(add, BaseStep)
    assert add.__name__ == "add"
    assert add.__doc__ == "Add an offset."
    assert add.display_name() == "add"


def test_arguments_without_defaults_are_inputs_with_defaults_params() -> None:
    signature = weighted.signature()
    assert signature.inputs == {"values": list[float]}
    assert signature.outputs == {"output": float}
    assert weighted.get_params() == {"weights": None, "mode": "sum"}
    assert list(weighted.param_specs()) == ["weights", "mode"]


def test_named_tuple_and_none_returns() -> None:
    assert stats.signature().outputs == {"mean": float, "count": int}
    assert logs.signature().outputs == {}
    assert logs.signature().inputs == {"x": float}
    assert logs.signature().context_arg == "context"


def test_process_uses_current_params() -> None:
    assert add.process(x=1.0) == 2.0
    assert add.process(1.0) == 2.0
    assert add.clone().set_params(offset=5.0).process(x=1.0) == 6.0
    assert weighted.process(values=[1.0, 3.0], mode="mean") == 2.0


def test_execute_runs_the_function() -> None:
    context = StepContext(step_name="logs", run_id="r", pipeline_name="p")
    assert logs.execute({"x": 2.5}, context) == {}
    assert context.metrics == {"x": 2.5}
    assert stats.execute({"values": [1.0, 3.0]}, context) == {"mean": 2.0, "count": 2}


def test_set_params_validates_and_does_not_touch_other_copies() -> None:
    twin = add.clone()
    twin.set_params(offset=2)
    assert twin.get_params() == {"offset": 2}
    assert add.get_params() == {"offset": 1.0}
    with pytest.raises(ConfigError, match="add has no parameter 'ofset'; did you mean 'offset'"):
        add.clone().set_params(ofset=2.0)
    with pytest.raises(ConfigError, match="parameter 'offset' of add must be float, got str"):
        add.clone().set_params(offset="2")
    with pytest.raises(ConfigError, match="add has no parameter 'x'"):
        add.clone().set_params(x=2.0)  # an input is not a parameter


def test_get_params_is_a_copy() -> None:
    step_copy = weighted.clone().set_params(weights=[1.0, 2.0])
    step_copy.get_params()["weights"].append(3.0)
    assert step_copy.get_params()["weights"] == [1.0, 2.0]


def test_config_names_the_function_and_round_trips() -> None:
    configured = add.clone().set_params(offset=4.0)
    config = configured.to_config()
    assert config == {"type": f"{__name__}.add", "params": {"offset": 4.0}}
    rebuilt = BaseStep.from_config(config)
    assert isinstance(rebuilt, FunctionStep)
    assert rebuilt == configured
    assert FunctionStep.from_config(config) == configured
    assert rebuilt.process(x=1.0) == 5.0


def test_from_config_validates_function_params() -> None:
    with pytest.raises(ConfigError, match="did you mean 'offset'"):
        BaseStep.from_config({"type": f"{__name__}.add", "params": {"offsett": 1.0}})


def test_from_config_refuses_a_plain_function() -> None:
    with pytest.raises(ConfigError, match="is not a step: decorate the function with @step"):
        FunctionStep.from_config({"type": f"{__name__}._plain", "params": {}})
    with pytest.raises(ConfigError, match="is not a BaseStep class"):
        BaseStep.from_config({"type": f"{__name__}._plain", "params": {}})


def _plain() -> int:
    return 1


def test_equality_hash_and_repr() -> None:
    assert add == add.clone()
    assert hash(add) == hash(add.clone())
    assert add != add.clone().set_params(offset=2.0)
    assert add != stats
    assert repr(weighted) == "weighted(weights=None, mode='sum')"


def test_decorator_options() -> None:
    assert load.options == StepOptions(name="loader", enable_cache=False)
    assert load.default_name() == "loader"
    assert add.options == StepOptions()
    assert add.default_name() == "add"


def test_configure_copies_options_and_params() -> None:
    configured = add.clone().set_params(offset=3.0).configure(name="plus", enable_cache=False)
    assert configured.options == StepOptions(name="plus", enable_cache=False)
    assert configured.get_params() == {"offset": 3.0}
    assert add.options == StepOptions()
    assert configured.clone().options == configured.options


def test_with_backend_on_a_function_step() -> None:
    on_backends = add.with_backend(LocalProcessing()).with_backend(LocalTraining(device="cpu"))
    assert on_backends.options.processing == {
        "type": "zenml.backends.processing.local.LocalProcessing",
        "params": {"workers": 1},
    }
    assert on_backends.options.training == {
        "type": "zenml.backends.training.local.LocalTraining",
        "params": {"device": "cpu"},
    }
    assert add.options.processing is None


def test_non_jsonable_default_is_refused_at_decoration() -> None:
    def takes_tuple(x: int, shape: tuple[int, int] = (1, 2)) -> int:
        return x

    with pytest.raises(ConfigError, match="parameter 'shape' of takes_tuple must be JSON-able, but value is a tuple"):
        step(takes_tuple)


def test_wrongly_typed_default_is_refused_at_decoration() -> None:
    def bad_default(x: int, rate: float = "fast") -> int:  # type: ignore[assignment]
        return x

    with pytest.raises(ConfigError, match="parameter 'rate' of bad_default must be float"):
        step(bad_default)


def test_var_arguments_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"step function varargs takes \*xs; declare each input as a named argument"):
        varargs.signature()


def test_calling_outside_a_pipeline_is_a_graph_error() -> None:
    with pytest.raises(GraphError, match="step add was called outside a @pipeline function"):
        add(x=1.0)
