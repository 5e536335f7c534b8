"""The pipelines the report tests run: real data steps, a small NumPy trainer, a quality gate, a held step.

The trainer is a plain ``BaseTrainerStep`` subclass (gradient descent on a linear model in NumPy), so
the suite needs no deep-learning framework and stays fast; the reports find its outputs by their type,
as for any trainer. A module of its own (not a conftest) so parallel-orchestrator workers import it
by name.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from zenml import step
from zenml.datasources import CSVDatasource
from zenml.pipelines import BasePipeline, SimplePipeline
from zenml.steps.evaluator import ClassificationEvaluator, RegressionEvaluator
from zenml.steps.evaluator.base import EvaluationReport
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit
from zenml.steps.statistics import StatisticsStep
from zenml.steps.trainer import BaseTrainerStep, TrainedModel, TrainingData

ROWS = 240
FEATURES = ["x1", "x2", "x3", "kind"]

#: the held step of the in-progress run waits for RELEASE; STARTED tells the test it is running
STARTED = threading.Event()
RELEASE = threading.Event()


def write_table(path: Path, rows: int = ROWS, seed: int = 0) -> Path:
    """``label`` (yes/no) separable in ``x1 - x2``; ``target`` = ``3 x1 - 2 x2 + 0.5 x3`` plus noise."""
    rng = np.random.default_rng(seed)
    x1, x2, x3 = rng.normal(size=(3, rows))
    kind = rng.choice(["p", "q"], rows)
    label = np.where(x1 - x2 + rng.normal(0, 0.3, rows) > 0, "yes", "no")
    target = 3 * x1 - 2 * x2 + 0.5 * x3 + rng.normal(0, 0.2, rows)
    lines = ["x1,x2,x3,kind,label,target"]
    lines += [f"{a:.5f},{b:.5f},{c:.5f},{k},{y},{t:.5f}" for a, b, c, k, y, t in zip(x1, x2, x3, kind, label, target)]
    path.write_text("\n".join(lines) + "\n")
    return path


class LinearModel(TrainedModel):
    """Weights and bias in ``weights.npz``; a sigmoid on top for binary classification."""

    framework = "numpy"

    def predict_arrays(self, features: np.ndarray) -> np.ndarray:
        with np.load(os.path.join(self.path, "weights.npz")) as state:
            raw = features @ state["w"] + state["b"]
        if self.meta["task"] == "regression":
            return raw.reshape(-1, 1)
        positive = 1 / (1 + np.exp(-raw))
        return np.column_stack([1 - positive, positive])


class NumpyLinearTrainer(BaseTrainerStep):
    """Full-batch gradient descent on a linear model: logistic for a binary label, least squares otherwise."""

    def __init__(self, epochs: int = 10, lr: float = 0.5, split_mapping: dict[str, str] | None = None) -> None:
        self.epochs = epochs
        self.lr = lr
        self.split_mapping = split_mapping

    def model_class(self) -> type[TrainedModel]:
        return LinearModel

    def train(self, training: TrainingData, context: Any, workdir: str) -> dict[str, list[float]]:
        x, y = training.arrays["train"]
        w, b = np.zeros(x.shape[1]), 0.0
        history: dict[str, list[float]] = {"epoch": []}
        for epoch in range(1, self.epochs + 1):
            error = self._predict(x, w, b, training.task) - y
            w, b = w - self.lr * x.T @ error / len(y), b - self.lr * float(error.mean())
            history["epoch"].append(float(epoch))
            for split, prefix in (("train", ""), ("eval", "eval_")):
                if split in training.arrays:
                    for name, value in self._scores(*training.arrays[split], w, b, training.task).items():
                        history.setdefault(prefix + name, []).append(value)
        if context.is_primary:
            folder = os.path.join(workdir, "model")
            os.makedirs(folder)
            np.savez(os.path.join(folder, "weights.npz"), w=w, b=np.array(b))
            self.save_meta(folder, training)
        return history

    @staticmethod
    def _predict(x: np.ndarray, w: np.ndarray, b: float, task: str) -> np.ndarray:
        raw = x @ w + b
        return raw if task == "regression" else 1 / (1 + np.exp(-raw))

    def _scores(self, x: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, task: str) -> dict[str, float]:
        predicted = self._predict(x, w, b, task)
        if task == "regression":
            return {"loss": float(np.mean((predicted - y) ** 2)), "mae": float(np.mean(np.abs(predicted - y)))}
        clipped = np.clip(predicted, 1e-9, 1 - 1e-9)
        loss = -np.mean(y * np.log(clipped) + (1 - y) * np.log(1 - clipped))
        return {"loss": float(loss), "accuracy": float(np.mean((predicted >= 0.5) == y))}


@step
def gate(report: EvaluationReport, minimum: float = 0.5) -> float:
    """Refuse a model whose primary accuracy is below ``minimum`` (prints what it checks)."""
    primary = report["primary"]
    accuracy = report["splits"][primary]["metrics"]["accuracy"]
    print(f"checking the {primary} split ({report['splits'][primary]['rows']} rows)")
    print(f"accuracy {accuracy:.4f}, required {minimum:.4f}")
    print(json.dumps(report["splits"][primary]["metrics"], sort_keys=True))
    if accuracy < minimum:
        raise ValueError(f"accuracy {accuracy:.4f} is below the required {minimum:.4f}; the model is not released")
    return float(accuracy)


def classification(data: Path, epochs: int = 8, lr: float = 0.5) -> SimplePipeline:
    """CSV → split (+ a raw-data profile beside it) → standardise → train → evaluate → gate."""
    pipeline = SimplePipeline(name="report_classify")
    pipeline.add_datasource(CSVDatasource(path=str(data)))
    pipeline.add_split(RandomSplit(ratios={"train": 0.7, "eval": 0.3}, seed=3))
    pipeline.add_preprocessor(StandardPreprocessor(features=FEATURES, labels=["label"]))
    pipeline.add_trainer(NumpyLinearTrainer(epochs=epochs, lr=lr))
    pipeline.add_evaluator(ClassificationEvaluator(label="label", metrics=["accuracy", "auc"], slices=["kind"]))
    pipeline.add_step("profile", StatisticsStep(), inputs={"data": "datasource"})
    pipeline.add_step("gate", gate, inputs={"report": "evaluator.report"})
    return pipeline


def regression(data: Path) -> SimplePipeline:
    """The same data, regressing ``target``."""
    pipeline = SimplePipeline(name="report_regress")
    pipeline.add_datasource(CSVDatasource(path=str(data)))
    pipeline.add_split(RandomSplit(ratios={"train": 0.7, "eval": 0.3}, seed=3))
    pipeline.add_preprocessor(StandardPreprocessor(features=["x1", "x2", "x3"], labels=["target"]))
    pipeline.add_trainer(NumpyLinearTrainer(epochs=6, lr=0.3))
    pipeline.add_evaluator(RegressionEvaluator(label="target"))
    return pipeline


@step
def numbers() -> list[int]:
    return [1, 2, 3]


@step
def hold(values: list[int]) -> int:
    """Run until the test releases it (at most two minutes, so a broken test cannot hang the suite)."""
    print("holding until the test releases the run")
    STARTED.set()
    RELEASE.wait(timeout=120)
    return sum(values)


@step
def after(total: int) -> int:
    return total * 2


def held() -> BasePipeline:
    """numbers → hold (blocks) → after: a run that stays in progress while the tests look at it."""
    return (
        BasePipeline("report_held")
        .add_step("numbers", numbers)
        .add_step("hold", hold, inputs={"values": "numbers"})
        .add_step("after", after, inputs={"total": "hold"})
    )
