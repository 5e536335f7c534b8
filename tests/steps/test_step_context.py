"""``StepContext``: what a step may ask for at run time, and metric validation."""

from __future__ import annotations

import logging
import math
import os

import pytest

from zenml.exceptions import StepError
from zenml.steps import Metrics, StepContext


@pytest.fixture
def context() -> StepContext:
    return StepContext(step_name="trainer", run_id="run-1", pipeline_name="pipe")


def test_log_metric_records_floats(context: StepContext) -> None:
    context.log_metric("accuracy", 0.9)
    context.log_metric("epochs", 3)
    context.log_metric("val/loss-1.x", -0.5)
    assert context.metrics == {"accuracy": 0.9, "epochs": 3.0, "val/loss-1.x": -0.5}
    assert isinstance(context.metrics["epochs"], float)


def test_log_metric_overwrites_by_name(context: StepContext) -> None:
    context.log_metric("loss", 1.0)
    context.log_metric("loss", 0.5)
    assert context.metrics == {"loss": 0.5}


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, True, "0.5", None, [1.0]])
def test_log_metric_refuses_non_finite_or_non_numbers(context: StepContext, value: object) -> None:
    with pytest.raises(StepError, match="must be a finite number") as info:
        context.log_metric("m", value)  # type: ignore[arg-type]
    assert info.value.step == "trainer"
    assert context.metrics == {}


@pytest.mark.parametrize("name", ["", "has space", "semi;colon", "x" * 201, "quote'"])
def test_log_metric_refuses_odd_names(context: StepContext, name: str) -> None:
    with pytest.raises(StepError, match="metric name"):
        context.log_metric(name, 1.0)


def test_logger_is_named_after_the_step(context: StepContext) -> None:
    assert context.logger is logging.getLogger("zenml.step.trainer")


def test_new_path_is_fresh_inside_one_scratch_folder(context: StepContext) -> None:
    first = context.new_path("dataset")
    second = context.new_path("dataset")
    try:
        assert first != second
        assert os.path.dirname(first) == os.path.dirname(second) == context.scratch_dir
        assert os.path.basename(first).startswith("dataset-")
        assert not os.path.exists(first)
    finally:
        os.rmdir(str(context.scratch_dir))


def test_metrics_is_a_dict_output() -> None:
    metrics = Metrics(accuracy=0.5)
    assert isinstance(metrics, dict)
    assert metrics == {"accuracy": 0.5}
