"""The step conformance checks: the parameter contract, config round trips and a readable signature."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import yaml

from zenml.exceptions import ConfigError
from zenml.steps.base import BaseStep
from zenml.utils.importing import import_object
from zenml.utils.jsonable import find_non_jsonable
from zenml.utils.plainyaml import PlainDumper, load_yaml

StepCheck = Callable[[BaseStep], None]


def check_params_are_init_arguments(step: BaseStep) -> None:
    """``get_params()`` returns exactly the declared parameters, each stored under its own name."""
    params = step.get_params()
    declared = list(step.param_specs())
    assert list(params) == declared, f"get_params() keys {list(params)} != declared parameters {declared}"


def check_params_are_jsonable(step: BaseStep) -> None:
    """Every parameter value is plain JSON data and matches its annotation."""
    for name, value in step.get_params().items():
        problem = find_non_jsonable(value)
        assert problem is None, f"parameter '{name}' is not JSON-able: {problem}"
    step.validate()


def check_clone_is_equal_and_independent(step: BaseStep) -> None:
    """``clone()`` is equal, a different object, and does not share mutable parameter values."""
    twin = step.clone()
    assert twin == step, f"clone() {twin!r} != original {step!r}"
    assert twin is not step, "clone() returned the same object"
    for name, value in step.get_params().items():
        if isinstance(value, (list, dict)):
            assert getattr(twin, name, twin.get_params()[name]) is not getattr(step, name, None), (
                f"clone() shares the mutable parameter '{name}'"
            )


def check_config_round_trip(step: BaseStep) -> None:
    """``from_config(to_config(s)) == s`` and the config's ``type`` imports back to the step's definition."""
    config = step.to_config()
    assert set(config) == {"type", "params"}, f"to_config() keys {sorted(config)} != ['params', 'type']"
    import_object(config["type"])
    rebuilt = BaseStep.from_config(copy.deepcopy(config))
    assert rebuilt == step, f"from_config(to_config()) gave {rebuilt!r}, expected {step!r}"


def check_yaml_round_trip(step: BaseStep) -> None:
    """The config survives YAML (what the run spec stores) unchanged."""
    config = step.to_config()
    loaded = load_yaml(yaml.dump(config, Dumper=PlainDumper))
    assert loaded == config, f"YAML round trip changed the config: {loaded} != {config}"
    assert BaseStep.from_config(loaded) == step


def check_unknown_parameter_rejected(step: BaseStep) -> None:
    """``set_params`` with an unknown name raises ``ConfigError`` and changes nothing."""
    before = step.get_params()
    try:
        step.clone().set_params(zen_no_such_parameter=1)
    except ConfigError:
        pass
    else:
        raise AssertionError("set_params(zen_no_such_parameter=1) did not raise ConfigError")
    assert step.get_params() == before


def check_signature(step: BaseStep) -> None:
    """``process`` declares named inputs and outputs that the engine can wire."""
    signature = step.signature()
    for name in [*signature.inputs, *signature.outputs]:
        assert name.isidentifier(), f"input/output name {name!r} is not an identifier"


def check_default_construction(step: BaseStep) -> None:
    """A class whose parameters all have defaults can be built with no arguments."""
    if not isinstance(type(step), type) or type(step).__name__ == "FunctionStep":
        return
    specs = step.param_specs()
    if all(spec.default is not inspect.Parameter.empty for spec in specs.values()):
        built = type(step)()
        assert list(built.get_params()) == list(specs)
        # Parameters are stored unchanged, so a default-built step holds exactly the declared defaults
        # (catches ``self.x = x or []``, which clone and round trips cannot see).
        for name, value in built.get_params().items():
            assert value == specs[name].default, (
                f"{type(step).__name__}() stores {value!r} for '{name}', but the declared default is "
                f"{specs[name].default!r}; store parameters unchanged and transform them in process()"
            )


STEP_CHECKS: tuple[StepCheck, ...] = (
    check_params_are_init_arguments,
    check_params_are_jsonable,
    check_clone_is_equal_and_independent,
    check_config_round_trip,
    check_yaml_round_trip,
    check_unknown_parameter_rejected,
    check_signature,
    check_default_construction,
)
"""Every conformance check, in the order ``check_step`` runs them; each takes a step and raises ``AssertionError``."""


def check_step(step: BaseStep) -> None:
    """Run every conformance check on ``step``; raise ``AssertionError`` naming the first that fails."""
    for check in STEP_CHECKS:
        try:
            check(step)
        except AssertionError as exc:
            raise AssertionError(f"{step.display_name()} fails {check.__name__}: {exc}") from exc


def parametrize_with_checks(steps: Sequence[BaseStep]) -> Any:
    """A ``pytest.mark.parametrize`` over (step, check) pairs; the test receives ``step`` and ``check``.

    Examples:
        >>> @parametrize_with_checks([Scale(factor=2.0)])  # doctest: +SKIP
        ... def test_conformance(step, check):
        ...     check(step)
    """
    try:
        import pytest
    except ImportError as exc:
        raise ConfigError("parametrize_with_checks needs pytest: pip install 'zenml[testing]'") from exc

    pairs = [(step, check) for step in steps for check in STEP_CHECKS]
    ids = [f"{step.display_name()}-{check.__name__}" for step, check in pairs]
    return pytest.mark.parametrize(("step", "check"), pairs, ids=ids)
