"""The shortest end-to-end check: a two-step pipeline runs, records and caches."""

from __future__ import annotations

from zenml import BaseStep, pipeline, step


class Scale(BaseStep):
    def __init__(self, factor: float = 1.0):
        self.factor = factor

    def process(self, x: float) -> float:
        return x * self.factor


@step
def load() -> float:
    return 3.0


@pipeline
def scaled() -> None:
    Scale(factor=2.0)(x=load())


def test_run_records_outputs_and_caches(repo: object) -> None:
    first = scaled.run()
    assert first.status == "completed"
    assert first.steps["scale"].outputs["output"].read() == 6.0
    second = scaled.run()
    assert [s.status for s in second.steps.values()] == ["cached", "cached"]
