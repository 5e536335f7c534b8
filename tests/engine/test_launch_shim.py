"""``zenml.launch`` still serves the engine's names for one release, each with a warning naming ``zenml.engine``."""

from __future__ import annotations

import importlib

import pytest

import zenml.engine


@pytest.mark.parametrize(("old", "new"), [("run_pipeline", "run_pipeline"), ("exec_step", "run_worker_step")])
def test_old_names_still_work_and_warn(old: str, new: str) -> None:
    launch = importlib.import_module("zenml.launch")  # importing the shim itself is cheap and silent
    with pytest.warns(DeprecationWarning, match=rf"zenml.launch is deprecated; import {new} from zenml.engine"):
        assert getattr(launch, old) is getattr(zenml.engine, new)


def test_every_old_name_is_served() -> None:
    launch = importlib.import_module("zenml.launch")
    for name in launch.__all__:
        with pytest.warns(DeprecationWarning):
            assert getattr(launch, name) is not None


def test_an_unknown_name_is_an_attribute_error() -> None:
    launch = importlib.import_module("zenml.launch")
    with pytest.raises(AttributeError, match="module 'zenml.launch' has no attribute 'nope'"):
        _ = launch.nope
