"""Renamed step names keep their old import paths for one release, with a warning naming the new path."""

from __future__ import annotations

import importlib

import pytest

from zenml.steps import FunctionStep, StepOptions, step
from zenml.steps import options as step_options
from zenml.utils.importing import import_object


@pytest.mark.parametrize("module", ["zenml.steps", "zenml.steps.function"])
def test_simple_step_is_function_step_with_a_warning(module: str) -> None:
    package = importlib.import_module(module)
    with pytest.warns(DeprecationWarning, match=rf"{module}\.SimpleStep is deprecated.*FunctionStep"):
        old = package.SimpleStep
    assert old is FunctionStep


def test_function_step_is_the_class_of_step_functions() -> None:
    @step
    def one() -> int:
        return 1

    assert type(one) is FunctionStep


def test_old_class_path_still_resolves_to_the_same_class() -> None:
    with pytest.warns(DeprecationWarning, match=r"use zenml\.steps\.function\.FunctionStep instead"):
        assert import_object("zenml.steps.function.SimpleStep") is FunctionStep


def test_importing_the_old_runtime_module_is_silent_and_its_names_warn() -> None:
    old = importlib.import_module("zenml.steps.runtime")  # importing the shim alone never warns
    for name in ("RuntimeSpec", "ResourcesSpec", "parse_memory", "runtime_from", "MAX_TIMEOUT", "RESOURCE_NAMES"):
        with pytest.warns(DeprecationWarning, match=rf"zenml\.steps\.runtime\.{name} is deprecated.*"
                          rf"use zenml\.steps\.options\.{name} instead"):  # fmt: skip
            assert getattr(old, name) is getattr(step_options, name)


def test_from_import_of_the_old_runtime_module_warns() -> None:
    with pytest.warns(DeprecationWarning, match=r"zenml\.steps\.options\.RuntimeSpec"):
        from zenml.steps.runtime import RuntimeSpec
    assert RuntimeSpec is step_options.RuntimeSpec


def test_unknown_names_are_attribute_errors() -> None:
    old = importlib.import_module("zenml.steps.runtime")
    with pytest.raises(AttributeError, match="module 'zenml.steps.runtime' has no attribute 'StepOptions'"):
        _ = old.StepOptions
    with pytest.raises(AttributeError, match="module 'zenml.steps' has no attribute 'Nope'"):
        _ = importlib.import_module("zenml.steps").Nope


def test_step_options_live_with_the_runtime_settings() -> None:
    assert StepOptions is step_options.StepOptions
    assert StepOptions().runtime == step_options.RuntimeSpec()
