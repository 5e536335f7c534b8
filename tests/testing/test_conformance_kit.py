"""``zenml.testing``: the step conformance kit passes good steps, names the check a bad step fails."""

from __future__ import annotations

import inspect
from typing import Any, NamedTuple

import pytest

from zenml.exceptions import ConfigError
from zenml.steps import BaseStep, StepContext, step
from zenml.steps.catalog import shipped_steps
from zenml.testing import STEP_CHECKS, check_step, parametrize_with_checks
from zenml.utils.importing import import_object


class Scale(BaseStep):
    def __init__(self, factor: float = 1.0, columns: list[str] | None = None) -> None:
        self.factor = factor
        self.columns = columns

    def process(self, x: float) -> float:
        return x * self.factor


class Splits(NamedTuple):
    train: list[float]
    test: list[float]


class EveryNth(BaseStep):
    def __init__(self, every: int = 3, weights: dict[str, float] | None = None) -> None:
        self.every = every
        self.weights = weights

    def process(self, values: list[float], context: StepContext) -> Splits:
        test = values[:: self.every]
        context.log_metric("test_fraction", len(test) / len(values))
        return Splits(train=[v for i, v in enumerate(values) if i % self.every], test=test)


class NeedsPath(BaseStep):
    def __init__(self, path: str, limit: int = 10) -> None:
        self.path = path
        self.limit = limit

    def process(self) -> list[str]:
        return [self.path] * self.limit


@step
def numbers(n: int = 4, names: list[str] | None = None) -> list[float]:
    return [float(i) for i in range(n)]


@step
def fit_mean(train: list[float]) -> float:
    return sum(train) / len(train)


# -- steps that break the contract -----------------------------------------------------------------


class DoublesParam(BaseStep):
    """Stores a transformed parameter: clone and round trips drift."""

    def __init__(self, rate: float = 1.0) -> None:
        self.rate = rate * 2

    def process(self) -> float:
        return self.rate


class DefaultsToList(BaseStep):
    """Stores ``[]`` for ``None``: only the default construction check can see it."""

    def __init__(self, columns: list[str] | None = None) -> None:
        self.columns = list(columns or [])

    def process(self) -> int:
        return len(self.columns)


class StoresTuple(BaseStep):
    """Stores a tuple (not JSON-able)."""

    def __init__(self, shape: list[int] | None = None) -> None:
        self.shape = tuple(shape or (1, 1))

    def process(self) -> int:
        return len(self.shape)


class SwallowsUnknown(BaseStep):
    """Accepts any parameter name silently, like legacy ``**kwargs`` capture."""

    def __init__(self, rate: float = 1.0) -> None:
        self.rate = rate

    def check_params(self, params: dict[str, Any]) -> None:
        return None

    def process(self) -> float:
        return self.rate


class RenamesParam(BaseStep):
    def __init__(self, k: int = 5) -> None:
        self.neighbours = k

    def process(self) -> int:
        return self.neighbours


GOOD_STEPS = [
    Scale(),
    Scale(factor=2.5, columns=["a", "b"]),
    EveryNth(every=2, weights={"x": 0.5}),
    NeedsPath(path="a.csv"),
    numbers,
    numbers.clone().set_params(n=7, names=["z"]),
    fit_mean,
]


@pytest.mark.parametrize("good", GOOD_STEPS, ids=repr)
def test_check_step_passes_good_steps(good: BaseStep) -> None:
    before = good.get_params()
    check_step(good)
    assert good.get_params() == before  # checking never changes the step


@pytest.mark.parametrize(
    ("bad", "check", "detail"),
    [
        (DoublesParam(rate=1.0), "check_clone_is_equal_and_independent", "clone()"),
        (DefaultsToList(), "check_default_construction", "stores [] for 'columns', but the declared default is None"),
        (StoresTuple(), "check_params_are_jsonable", "parameter 'shape' is not JSON-able"),
        (SwallowsUnknown(), "check_unknown_parameter_rejected", "did not raise ConfigError"),
    ],
    ids=["transformed-param", "transformed-default", "tuple-param", "swallows-unknown"],
)
def test_check_step_names_the_failing_check(bad: BaseStep, check: str, detail: str) -> None:
    with pytest.raises(AssertionError) as info:
        check_step(bad)
    message = str(info.value)
    assert message.startswith(f"{bad.display_name()} fails {check}: ")
    assert detail in message


def test_param_not_stored_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="takes 'k' but does not store it as self.k"):
        check_step(RenamesParam())


def test_checks_are_a_public_table() -> None:
    names = [check.__name__ for check in STEP_CHECKS]
    assert len(names) == len(set(names))
    assert {"check_config_round_trip", "check_yaml_round_trip", "check_clone_is_equal_and_independent"} <= set(names)
    for check in STEP_CHECKS:
        assert inspect.getdoc(check)


@parametrize_with_checks([Scale(factor=3.0), EveryNth(), numbers, fit_mean])
def test_examples_pass_every_check(step: BaseStep, check: Any) -> None:
    check(step)


def test_parametrize_with_checks_makes_one_case_per_step_and_check() -> None:
    mark = parametrize_with_checks([Scale(), numbers])
    assert mark.args[0] == ("step", "check")
    pairs = mark.args[1]
    assert len(pairs) == 2 * len(STEP_CHECKS)
    assert mark.kwargs["ids"][0] == f"Scale-{STEP_CHECKS[0].__name__}"
    assert mark.kwargs["ids"][-1] == f"numbers-{STEP_CHECKS[-1].__name__}"


# -- every shipped step ---------------------------------------------------------------------------

SHIPPED = shipped_steps()


def _default_construction(cls: type[BaseStep]) -> BaseStep | None:
    specs = cls.__new__(cls).param_specs().values()  # the declared parameters (none for no __init__)
    if any(spec.default is inspect.Parameter.empty for spec in specs):
        return None
    return cls()


@pytest.mark.parametrize("path", sorted(SHIPPED))
def test_shipped_step_classes_pass_the_kit(path: str) -> None:
    cls = SHIPPED[path]
    instance = _default_construction(cls)
    if instance is None:
        pytest.skip(f"{path} has required parameters; its own tests run the kit with example values")
    check_step(instance)


def test_shipped_steps_are_step_classes() -> None:
    for path, cls in SHIPPED.items():
        assert issubclass(cls, BaseStep), path
        assert import_object(path) is cls
