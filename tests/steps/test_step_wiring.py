"""Output handles: what calling a step inside ``@pipeline`` returns."""

from __future__ import annotations

import pytest

from zenml.steps import OutputHandle
from zenml.steps.wiring import StepOutputs, active_builder


def test_handle_reference() -> None:
    assert OutputHandle("split", "train", list).reference == "split.train"


def test_step_outputs_by_attribute_name_and_order() -> None:
    train = OutputHandle("split", "train", list)
    test = OutputHandle("split", "test", list)
    outputs = StepOutputs({"train": train, "test": test})
    assert outputs.train is train
    assert outputs["test"] is test
    assert list(outputs) == [train, test]
    first, second = outputs
    assert (first, second) == (train, test)
    assert len(outputs) == 2


def test_missing_output_attribute_lists_the_outputs() -> None:
    outputs = StepOutputs({"train": OutputHandle("split", "train", list)})
    with pytest.raises(AttributeError, match=r"step has no output 'tset' \(outputs: train\)"):
        _ = outputs.tset


def test_no_builder_is_active_outside_pipelines() -> None:
    assert active_builder.get() is None
