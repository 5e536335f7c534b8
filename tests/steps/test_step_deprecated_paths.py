"""Renamed step names keep their old import paths for one release, with a warning naming the new path."""

from __future__ import annotations

import importlib

import pytest

from zenml.steps import StepOptions
from zenml.steps import options as step_options


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


def test_step_options_live_with_the_runtime_settings() -> None:
    assert StepOptions is step_options.StepOptions
    assert StepOptions().runtime == step_options.RuntimeSpec()
