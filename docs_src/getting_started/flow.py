"""The getting-started pipeline: two function steps and a class step, wired by a @pipeline."""

from zenml import BaseStep, StepContext, pipeline, step


@step
def load(n: int = 5) -> list[float]:
    """Make ``n`` numbers. ``n`` has a default, so it is a parameter."""
    return [float(i) for i in range(n)]


class Scale(BaseStep):
    """Multiply every number by ``factor``."""

    def __init__(self, factor: float = 1.0):
        self.factor = factor

    def process(self, numbers: list[float], context: StepContext) -> list[float]:
        """``numbers`` is an input; the return annotation declares the single output ``output``."""
        context.log_metric("factor", self.factor)
        return [x * self.factor for x in numbers]


@step
def total(numbers: list[float]) -> float:
    """Add the numbers up. ``numbers`` has no default, so it is an input."""
    return sum(numbers)


@pipeline
def scaled() -> None:
    """The DAG load → scale → total: calling a step on another step's output wires them."""
    total(Scale(factor=2.0)(load()))


if __name__ == "__main__":
    run = scaled.run()
    print(run.status, run.steps["total"].output())
