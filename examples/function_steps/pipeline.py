"""Function steps: a small @step/@pipeline DAG that fits a line to noisy data and scores it.

Run it from this folder with ``zen init`` then ``zen run pipeline.py:function_steps``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from zenml import StepContext, pipeline, step


class Split(NamedTuple):
    """Training and evaluation points, each an (n, 2) array of x, y."""

    train: np.ndarray
    eval: np.ndarray


@step
def generate(n: int = 200, slope: float = 2.5, noise: float = 0.1, seed: int = 7) -> np.ndarray:
    """Noisy points on the line y = slope * x + 1."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    return np.column_stack([x, slope * x + 1 + rng.normal(0, noise, n)])


@step
def split(points: np.ndarray, eval_fraction: float = 0.25) -> Split:
    """The last ``eval_fraction`` of the points are held out for evaluation."""
    cut = int(len(points) * (1 - eval_fraction))
    return Split(train=points[:cut], eval=points[cut:])


@step
def fit(train: np.ndarray) -> list[float]:
    """Least-squares slope and intercept."""
    slope, intercept = np.polyfit(train[:, 0], train[:, 1], deg=1)
    return [float(slope), float(intercept)]


@step
def evaluate(model: list[float], eval: np.ndarray, context: StepContext) -> dict[str, float]:
    """Mean squared error on the held-out points, also logged as a metric."""
    predictions = model[0] * eval[:, 0] + model[1]
    mse = float(np.mean((predictions - eval[:, 1]) ** 2))
    context.log_metric("mse", mse)
    return {"mse": mse, "slope": model[0]}


@pipeline
def function_steps() -> None:
    """generate → split → fit → evaluate."""
    data = split(generate())
    evaluate(fit(data.train), data.eval)


if __name__ == "__main__":
    run = function_steps.run()
    print(run.status, run.metrics())
