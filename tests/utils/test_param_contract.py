"""The parameter contract (``Configurable``): explicit keyword parameters, stored unchanged, JSON-able."""

from __future__ import annotations

from typing import Any, Literal, Optional

import pytest

from zenml.exceptions import ConfigError
from zenml.utils.params import Configurable, init_param_specs, suggest


class Model(Configurable):
    def __init__(
        self,
        rate: float = 0.1,
        epochs: int = 10,
        layers: list[int] | None = None,
        weights: dict[str, float] | None = None,
        activation: Literal["relu", "tanh"] = "relu",
        label: Optional[str] = None,  # noqa: UP045 -- the typing spelling must work too
    ) -> None:
        self.rate = rate
        self.epochs = epochs
        self.layers = layers
        self.weights = weights
        self.activation = activation
        self.label = label


class Required(Configurable):
    def __init__(self, path: str, retries: int = 3) -> None:
        self.path = path
        self.retries = retries


class NoParams(Configurable):
    pass


class Untyped(Configurable):
    def __init__(self, anything=None) -> None:  # no annotation on purpose
        self.anything = anything


class ForgetsParam(Configurable):
    def __init__(self, alpha: float = 1.0) -> None:
        self.learning_rate = alpha


class TakesArgs(Configurable):
    def __init__(self, *sizes: int) -> None:
        self.sizes = sizes


class TakesKwargs(Configurable):
    def __init__(self, rate: float = 0.1, **extra: Any) -> None:
        self.rate = rate
        self.extra = extra


class PositionalOnly(Configurable):
    def __init__(self, rate: float = 0.1, /) -> None:
        self.rate = rate


class OtherModel(Configurable):
    def __init__(self, rate: float = 0.1) -> None:
        self.rate = rate


# -- reading the parameters ------------------------------------------------------------------------


def test_param_specs_are_the_init_keyword_arguments_in_order() -> None:
    specs = init_param_specs(Model)
    assert list(specs) == ["rate", "epochs", "layers", "weights", "activation", "label"]
    assert specs["rate"].annotation is float
    assert specs["rate"].default == 0.1
    assert specs["layers"].annotation == list[int] | None


def test_class_without_init_has_no_params() -> None:
    assert NoParams().get_params() == {}
    assert NoParams().to_config()["params"] == {}


def test_get_params_returns_current_values() -> None:
    model = Model(rate=0.5, layers=[64, 32], label="y")
    assert model.get_params() == {
        "rate": 0.5,
        "epochs": 10,
        "layers": [64, 32],
        "weights": None,
        "activation": "relu",
        "label": "y",
    }


def test_get_params_is_a_deep_copy() -> None:
    model = Model(layers=[1, 2], weights={"a": 1.0})
    params = model.get_params()
    params["layers"].append(3)
    params["weights"]["b"] = 2.0
    assert model.layers == [1, 2]
    assert model.weights == {"a": 1.0}


@pytest.mark.parametrize("cls", [TakesArgs, TakesKwargs])
def test_var_arguments_in_init_are_refused(cls: type[Configurable]) -> None:
    with pytest.raises(ConfigError, match=r"takes \*.*explicit keyword arguments"):
        init_param_specs(cls)


def test_positional_only_argument_is_refused() -> None:
    with pytest.raises(ConfigError, match="positional-only 'rate'"):
        init_param_specs(PositionalOnly)


def test_parameter_not_stored_on_self_is_named() -> None:
    with pytest.raises(ConfigError, match=r"takes 'alpha' but does not store it as self\.alpha"):
        ForgetsParam().get_params()
    with pytest.raises(ConfigError, match="alpha"):
        ForgetsParam().to_config()


# -- setting and validating ------------------------------------------------------------------------


def test_set_params_applies_and_returns_self() -> None:
    model = Model()
    assert model.set_params(rate=0.2, layers=[8]) is model
    assert model.rate == 0.2
    assert model.layers == [8]


def test_set_params_copies_mutable_values() -> None:
    layers = [1, 2]
    model = Model().set_params(layers=layers)
    layers.append(3)
    assert model.layers == [1, 2]


def test_misspelled_parameter_suggests_the_right_one() -> None:
    model = Model()
    with pytest.raises(ConfigError, match=r"Model has no parameter 'epochz'; did you mean 'epochs'\?") as info:
        model.set_params(epochz=3)
    assert "parameters: rate, epochs, layers, weights, activation, label" in str(info.value)
    assert model.epochs == 10


def test_unknown_parameter_without_close_match_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as info:
        Required(path="x").set_params(zzzzzz=1)
    assert "did you mean" not in str(info.value)
    assert "(parameters: path, retries)" in str(info.value)


def test_unknown_parameter_of_class_without_params() -> None:
    with pytest.raises(ConfigError, match=r"parameters: none"):
        NoParams().set_params(x=1)


def test_rejected_set_params_changes_nothing() -> None:
    model = Model()
    with pytest.raises(ConfigError):
        model.set_params(rate=0.3, epochs="many")
    assert model.get_params() == Model().get_params()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("rate", 1),  # an int is a valid float
        ("rate", -2.5),
        ("epochs", 0),
        ("layers", []),
        ("layers", [1, 2, 3]),
        ("layers", None),
        ("weights", {"a": 1.0, "b": 2}),
        ("weights", {}),
        ("activation", "tanh"),
        ("label", None),
        ("label", "target"),
    ],
)
def test_values_of_the_declared_type_are_accepted(name: str, value: Any) -> None:
    model = Model().set_params(**{name: value})
    assert getattr(model, name) == value


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("rate", "0.1", "float"),
        ("rate", True, "float"),
        ("epochs", True, "int"),
        ("epochs", 1.0, "int"),
        ("epochs", None, "int"),
        ("layers", [1, "2"], "list[int] | None"),
        ("layers", 3, "list[int] | None"),
        ("weights", {"a": "x"}, "dict[str, float] | None"),
        ("weights", [1.0], "dict[str, float] | None"),
        ("activation", "sigmoid", "Literal['relu', 'tanh']"),
        ("label", 3, "Optional[str]"),
    ],
)
def test_wrong_type_names_the_parameter_and_expected_type(name: str, value: Any, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        Model().set_params(**{name: value})
    message = str(info.value)
    assert f"parameter '{name}' of Model must be {expected}" in message
    assert f"got {type(value).__name__}" in message


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ((1, 2), "tuple"),
        ({1, 2}, "set"),
        (object(), "object"),
        (float("nan"), "not finite"),
        (float("inf"), "not finite"),
        ([1, (2, 3)], "[1] is a tuple"),
        ({"a": {"b": float("nan")}}, "['a']['b'] is nan"),
        ({1: 2}, "non-string key 1"),
        (b"bytes", "bytes"),
    ],
)
def test_non_jsonable_values_are_refused_with_a_fix(value: Any, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        Untyped().set_params(anything=value)
    message = str(info.value)
    assert "parameter 'anything' of Untyped must be JSON-able" in message
    assert problem in message
    assert "pass plain values (numbers, strings, lists, dicts) and send data through inputs" in message


def test_untyped_parameter_accepts_any_json_value() -> None:
    value = {"a": [1, 2.5, None, True, "x", {"b": []}]}
    assert Untyped().set_params(anything=value).anything == value


def test_validate_checks_the_current_values() -> None:
    model = Model(epochs="ten")  # type: ignore[arg-type]  -- __init__ holds no logic, validate() finds it
    with pytest.raises(ConfigError, match="parameter 'epochs'"):
        model.validate()
    Model().validate()


# -- clone, equality and configs -------------------------------------------------------------------


def test_clone_is_equal_and_independent() -> None:
    model = Model(layers=[4, 2], weights={"w": 0.5})
    twin = model.clone()
    assert twin == model
    assert twin is not model
    assert type(twin) is Model
    twin.layers.append(1)
    twin.weights["v"] = 1.0
    assert model.layers == [4, 2]
    assert model.weights == {"w": 0.5}


def test_equality_and_hash_follow_the_params() -> None:
    assert Model(rate=0.2) == Model(rate=0.2)
    assert hash(Model(rate=0.2, layers=[1])) == hash(Model(rate=0.2, layers=[1]))
    assert Model(rate=0.2) != Model(rate=0.3)
    assert Model(rate=0.1) != OtherModel(rate=0.1)
    assert Model() != "Model()"
    assert len({Model(), Model(), Model(epochs=2)}) == 2


def test_repr_shows_the_params() -> None:
    assert repr(Required(path="a.csv")) == "Required(path='a.csv', retries=3)"


def test_to_config_names_the_class_and_its_params() -> None:
    config = Model(rate=0.5).to_config()
    assert config == {
        "type": f"{__name__}.Model",
        "params": {
            "rate": 0.5,
            "epochs": 10,
            "layers": None,
            "weights": None,
            "activation": "relu",
            "label": None,
        },
    }


@pytest.mark.parametrize(
    "obj",
    [
        Model(),
        Model(rate=2, layers=[3], weights={"x": 1.5}, activation="tanh", label="l"),
        Required(path="p"),
        NoParams(),
    ],
    ids=repr,
)
def test_from_config_of_to_config_is_equal(obj: Configurable) -> None:
    rebuilt = Configurable.from_config(obj.to_config())
    assert rebuilt == obj
    assert type(rebuilt) is type(obj)
    assert type(obj).from_config(obj.to_config()) == obj


def test_from_config_fills_defaults_for_missing_params() -> None:
    assert Model.from_config({"type": f"{__name__}.Model", "params": {"epochs": 3}}) == Model(epochs=3)
    assert Model.from_config({"type": f"{__name__}.Model"}) == Model()


def test_from_config_validates_params() -> None:
    with pytest.raises(ConfigError, match="did you mean 'epochs'"):
        Model.from_config({"type": f"{__name__}.Model", "params": {"epoch": 3}})
    with pytest.raises(ConfigError, match="parameter 'rate' of Model must be float"):
        Model.from_config({"type": f"{__name__}.Model", "params": {"rate": "fast"}})


def test_from_config_names_missing_required_params() -> None:
    with pytest.raises(ConfigError, match=r"Required needs parameter\(s\) path"):
        Configurable.from_config({"type": f"{__name__}.Required", "params": {}})


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"params": {}}, "needs 'type'"),
        ({"type": 3, "params": {}}, "needs 'type'"),
        ({"type": f"{__name__}.Model", "params": [1]}, "'params' \\(a mapping\\)"),
        ({"type": "no_such_module_zen.Model", "params": {}}, "cannot import module 'no_such_module_zen'"),
        ({"type": f"{__name__}.Nope", "params": {}}, "has no attribute 'Nope'"),
        ({"type": f"{__name__}.suggest", "params": {}}, "is not a Configurable class"),
    ],
)
def test_from_config_refuses_bad_configs(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Configurable.from_config(config)


def test_from_config_refuses_a_class_of_another_family() -> None:
    with pytest.raises(ConfigError, match="is not a Model class"):
        Model.from_config(OtherModel().to_config())


def test_suggest_finds_the_closest_name() -> None:
    assert suggest("ratio", ["ratios", "seed"]) == "; did you mean 'ratios'?"
    assert suggest("zzz", ["ratios", "seed"]) == ""
    assert suggest("x", []) == ""
