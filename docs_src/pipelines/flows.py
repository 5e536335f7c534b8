"""The pipelines guide: one DAG built with @pipeline and with SimplePipeline's slots."""

# --8<-- [start:steps]
from typing import NamedTuple

from zenml import BaseStep, Metrics, pipeline, step
from zenml.pipelines import SimplePipeline


class Halves(NamedTuple):
    """Two outputs, ``train`` and ``eval``."""

    train: list[float]
    eval: list[float]


@step
def load(n: int = 8) -> list[float]:
    """The data: 0, 1, ..., n-1."""
    return [float(i) for i in range(n)]


@step
def halve(data: list[float]) -> Halves:
    """First half for training, second half for evaluation."""
    cut = len(data) // 2
    return Halves(train=data[:cut], eval=data[cut:])


class Normalise(BaseStep):
    """Divide both splits by ``scale``."""

    def __init__(self, scale: float = 1.0):
        self.scale = scale

    def process(self, train: list[float], eval: list[float]) -> Halves:
        """Inputs ``train`` and ``eval``; outputs ``train`` and ``eval``."""
        return Halves(train=[v / self.scale for v in train], eval=[v / self.scale for v in eval])


@step
def fit(train: list[float]) -> float:
    """The 'model' is the mean of the training values."""
    return sum(train) / len(train)


@step
def evaluate(model: float, eval: list[float]) -> Metrics:
    """Mean absolute error of the model on the evaluation split."""
    return Metrics(mae=sum(abs(v - model) for v in eval) / len(eval))


@step
def report(metrics: dict[str, float], threshold: float = 0.5) -> str:
    """A verdict on the metrics."""
    return "good" if metrics["mae"] < threshold else "needs work"


# --8<-- [end:steps]


# --8<-- [start:decorated]
@pipeline
def decorated() -> None:
    """Calling steps on other steps' outputs wires the DAG."""
    split = halve(load(n=8))
    train, eval_ = Normalise(scale=10.0)(split.train, split.eval)  # outputs unpack in order
    metrics = evaluate(fit(train), eval_)
    report(metrics)


# --8<-- [end:decorated]


# --8<-- [start:simple]
slots = SimplePipeline(name="slots")
slots.add_evaluator(evaluate)  # slots may be filled in any order; they run in slot order
slots.add_datasource(load)
slots.add_split(halve)
slots.add_preprocessor(Normalise(scale=10.0))
slots.add_trainer(fit)
slots.add_step("report", report, inputs={"metrics": "evaluator"})  # "step" or "step.output"
# --8<-- [end:simple]


# --8<-- [start:main]
if __name__ == "__main__":
    print(decorated.order())
    print(slots.order())
    for name, node in slots.nodes().items():
        print(f"  {name}: {node.inputs}")
    run = slots.run()
    print(run.status, run.metrics(), run.steps["report"].output())
    run = decorated.run(params={"normalise": {"scale": 2.0}, "report": {"threshold": 1.0}})
    print(run.status, run.metrics(), run.steps["report"].output())
# --8<-- [end:main]
