"""``SimplePipeline``: the fixed slots datasource → split → preprocessor → trainer → evaluator."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from zenml.exceptions import GraphError
from zenml.pipelines import SimplePipeline
from zenml.pipelines.simple import SLOTS
from zenml.steps import BaseStep, Metrics, step


class Splits(NamedTuple):
    train: list[float]
    test: list[float]


class Source(BaseStep):
    def __init__(self, n: int = 6) -> None:
        self.n = n

    def process(self) -> list[float]:
        return [float(i) for i in range(self.n)]


class EveryOther(BaseStep):
    def process(self, data: list[float]) -> Splits:
        return Splits(train=data[::2], test=data[1::2])


class Center(BaseStep):
    """Analyze on train, transform both (what a preprocessor does)."""

    def process(self, train: list[float], test: list[float]) -> Splits:
        mean = sum(train) / len(train)
        return Splits(train=[x - mean for x in train], test=[x - mean for x in test])


class FitMean(BaseStep):
    def process(self, train: list[float]) -> float:
        return sum(train) / len(train)


class Evaluate(BaseStep):
    def process(self, model: float, test: list[float]) -> Metrics:
        return Metrics(mae=sum(abs(x - model) for x in test) / len(test))


@step
def double(x: float) -> float:
    return 2 * x


@step
def two_inputs(a: float, b: float) -> float:
    return a + b


@step
def constant() -> float:
    return 1.0


def full_pipeline(name: str = "slots") -> SimplePipeline:
    # deliberately added in reverse slot order
    return (
        SimplePipeline(name=name)
        .add_evaluator(Evaluate())
        .add_trainer(FitMean())
        .add_preprocessor(Center())
        .add_split(EveryOther())
        .add_datasource(Source())
    )


def test_slots_run_in_fixed_order_whatever_the_add_order() -> None:
    assert SLOTS == ("datasource", "split", "preprocessor", "trainer", "evaluator", "deployer")
    assert full_pipeline().order() == list(SLOTS[:-1])  # no deployer in it
    assert list(full_pipeline().nodes()) == list(SLOTS[:-1])


def test_slots_are_auto_wired_by_output_name_and_single_previous_output() -> None:
    assert full_pipeline().resolved_inputs() == {
        "datasource": {},
        "split": {"data": "datasource.output"},  # the single output of the slot before
        "preprocessor": {"train": "split.train", "test": "split.test"},  # by name
        "trainer": {"train": "preprocessor.train"},  # by name, from the nearest earlier slot
        "evaluator": {"model": "trainer.output", "test": "preprocessor.test"},  # one unmatched: previous output
    }


def test_missing_slots_are_skipped() -> None:
    pipe = SimplePipeline(name="short").add_trainer(FitMean(), inputs={"train": "datasource"}).add_datasource(Source())
    assert pipe.order() == ["datasource", "trainer"]
    assert pipe.resolved_inputs()["trainer"] == {"train": "datasource.output"}


def test_explicit_inputs_through_add() -> None:
    pipe = (
        SimplePipeline(name="p")
        .add_datasource(Source())
        .add_split(EveryOther())
        .add_trainer(FitMean(), inputs={"train": "split.test"})
    )
    assert pipe.resolved_inputs()["trainer"] == {"train": "split.test"}


def test_auto_wiring_leaves_ambiguous_inputs_unconnected() -> None:
    pipe = SimplePipeline(name="p").add_datasource(constant).add_split(two_inputs)
    with pytest.raises(GraphError, match="input 'a' of step 'split' is not connected"):
        pipe.order()


def test_custom_steps_come_after_slots_and_wire_by_name() -> None:
    pipe = full_pipeline().add_step("doubled", double, inputs={"x": "trainer"})
    assert pipe.order() == [*SLOTS[:-1], "doubled"]
    assert pipe.resolved_inputs()["doubled"] == {"x": "trainer.output"}


def test_custom_step_can_feed_a_slot() -> None:
    pipe = SimplePipeline(name="p").add_step("raw", Source()).add_split(EveryOther(), inputs={"data": "raw"})
    assert pipe.order() == ["raw", "split"]


def test_filling_a_slot_twice_is_refused() -> None:
    pipe = SimplePipeline(name="p").add_split(EveryOther())
    with pytest.raises(GraphError, match="pipeline 'p' already has a split; a SimplePipeline has one of each slot"):
        pipe.add_split(EveryOther())


def test_slot_and_custom_names_cannot_clash() -> None:
    pipe = SimplePipeline(name="p").add_step("trainer", constant)
    with pytest.raises(GraphError, match="has a custom step named 'trainer'; rename it to use the slot"):
        pipe.add_trainer(FitMean())
    pipe = SimplePipeline(name="p").add_trainer(FitMean())
    with pytest.raises(GraphError, match="already has a step named 'trainer'"):
        pipe.add_step("trainer", constant)


def test_slots_refuse_non_steps() -> None:
    with pytest.raises(GraphError, match="add_datasource needs a step"):
        SimplePipeline(name="p").add_datasource(Source)  # type: ignore[arg-type]


def test_slots_hold_copies() -> None:
    source = Source(n=3)
    pipe = SimplePipeline(name="p").add_datasource(source)
    source.set_params(n=10)
    assert pipe.steps["datasource"] == Source(n=3)


def test_simple_pipeline_runs_its_slots(repo: object) -> None:
    run = full_pipeline(name="slots_run").run()
    assert run.status == "completed"
    # data 0..5 → train [0, 2, 4], test [1, 3, 5] → centred by the train mean 2
    assert run.steps["preprocessor"].outputs["test"].read() == [-1.0, 1.0, 3.0]
    assert run.steps["trainer"].outputs["output"].read() == 0.0
    assert run.metrics() == {"evaluator": {"mae": pytest.approx(5 / 3)}}
