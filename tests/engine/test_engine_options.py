"""Run options are typed once (``RunOptions`` …) and checked at run time as Python checks keywords."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_helpers import numbers, untouched

from zenml.engine import (
    BackendChoices,
    PlanOptions,
    RerunOptions,
    RunOptions,
    option_names,
    plan_pipeline,
    rerun_spec,
    run_pipeline,
)
from zenml.repository import Repository


def test_option_names_keep_the_documented_order() -> None:
    assert option_names(RunOptions) == [
        "orchestrator", "processing", "training", "backend_options", "params", "stack", "enable_cache", "listener",
        "repository", "failure_policy", "data_from"]
    assert option_names(PlanOptions) == ["params", "stack", "enable_cache", "repository", "data_from"]
    assert set(option_names(RerunOptions)) == set(RunOptions.__annotations__) - {"params"} | {"refresh_data"}


def test_backend_choices_come_from_the_options() -> None:
    workers = {"processing": {"workers": 2}}
    options: RunOptions = {"orchestrator": "local", "training": "local", "backend_options": workers}
    assert BackendChoices.from_options(options) == BackendChoices("local", None, "local", workers)
    assert BackendChoices.from_options({}) == BackendChoices()


def test_an_unknown_keyword_is_a_type_error_before_anything_is_written(repo: Repository) -> None:
    with pytest.raises(TypeError, match=r"^run_pipeline\(\) got an unexpected keyword argument 'orchestrater'$"):
        run_pipeline(numbers, orchestrater="local")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"^plan_pipeline\(\) got an unexpected keyword argument 'orchestrator'$"):
        plan_pipeline(numbers, orchestrator="local")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"^rerun_spec\(\) got an unexpected keyword argument 'params'$"):
        rerun_spec(Path("spec.yaml"), params={})  # type: ignore[call-arg]
    untouched(repo)
