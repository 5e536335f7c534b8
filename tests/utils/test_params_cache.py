"""Signatures read once per class or function: each read still hands out the caller's own dicts."""

from __future__ import annotations

from zenml import BaseStep, step
from zenml.steps.signature import read_signature
from zenml.utils.params import Configurable, init_param_specs


class _Scale(Configurable):
    def __init__(self, factor: float = 1.0):
        self.factor = factor


def test_init_param_specs_are_the_callers_own() -> None:
    first = init_param_specs(_Scale)
    first.pop("factor")
    assert list(init_param_specs(_Scale)) == ["factor"]


def test_a_replaced_init_is_read_again() -> None:
    class Changing(Configurable):
        def __init__(self, a: int = 1):
            self.a = a

    assert list(init_param_specs(Changing)) == ["a"]

    def new_init(self: Changing, b: int = 2) -> None:
        self.b = b

    Changing.__init__ = new_init  # type: ignore[method-assign]
    assert list(init_param_specs(Changing)) == ["b"]


def test_step_signatures_are_the_callers_own() -> None:
    @step
    def add(x: float, y: float, offset: float = 1.0) -> float:
        return x + y + offset

    first = add.signature()
    first.inputs.pop("x")
    first.outputs.clear()
    again = add.clone().signature()
    assert list(again.inputs) == ["x", "y"] and list(again.outputs) == ["output"]
    assert add.param_specs() is not add.clone().param_specs()


def test_a_class_steps_signature_follows_its_process_method() -> None:
    class Double(BaseStep):
        def process(self, values: list[int]) -> list[int]:
            return [2 * v for v in values]

    assert list(Double().signature().inputs) == ["values"]
    sig = read_signature(Double.process, "Double.process", skip_first=True)
    assert read_signature(Double.process, "Double.process", skip_first=False).inputs.keys() == {"self", "values"}
    assert sig.inputs == {"values": list[int]}
