"""Steps for the writing-steps guide: a class step with two outputs, function steps and metrics."""

# --8<-- [start:class_step]
from typing import NamedTuple

from zenml import BaseStep, Metrics, StepContext, pipeline, step


class Split(NamedTuple):
    """The outputs of ``EveryNthSplit``: one output per field, named ``train`` and ``test``."""

    train: list[float]
    test: list[float]


class EveryNthSplit(BaseStep):
    """Hold out every ``every``-th value for testing."""

    def __init__(self, every: int = 4, label: str = "split"):
        self.every = every  # every parameter is stored unchanged, under its own name
        self.label = label

    def process(self, values: list[float], context: StepContext) -> Split:
        """``values`` is the one input; ``context`` is filled in by zenml and is not an input."""
        test = values[:: self.every]
        train = [v for i, v in enumerate(values) if i % self.every]
        context.logger.info("%s: %d train / %d test values", self.label, len(train), len(test))
        context.log_metric("test_fraction", len(test) / len(values))
        return Split(train=train, test=test)


# --8<-- [end:class_step]


# --8<-- [start:function_steps]
@step
def numbers(n: int = 20, offset: float = 0.0) -> list[float]:
    """Arguments with defaults (``n``, ``offset``) are parameters."""
    return [i + offset for i in range(n)]


@step
def fit_mean(train: list[float]) -> float:
    """An argument without a default (``train``) is an input."""
    return sum(train) / len(train)


@step
def score(mean: float, test: list[float]) -> Metrics:
    """A ``Metrics`` return value is stored like a dict and also recorded as the step's metrics."""
    mse = sum((v - mean) ** 2 for v in test) / len(test)
    return Metrics(mse=mse, n_test=len(test))


# --8<-- [end:function_steps]


# --8<-- [start:pipeline]
@pipeline
def mean_model() -> None:
    """The DAG numbers → split → fit_mean → score."""
    data = EveryNthSplit(every=4)(numbers(n=40))  # a literal for a function step sets a parameter
    score(fit_mean(data.train), data.test)  # several outputs: by attribute (or unpack them)


if __name__ == "__main__":
    run = mean_model.run()
    print(run.status, list(run.steps))
    print(run.metrics())
# --8<-- [end:pipeline]
