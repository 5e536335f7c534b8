"""A custom PyTorch trainer: subclass ``PyTorchBaseTrainer``, build the network in ``model_fn``, add hooks.

The data is a synthetic orders table written to ``data/orders.csv`` by ``write_csv()``. Run from
this folder: ``zen init``, then ``python pipeline.py``.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import torch

from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.evaluator import ClassificationEvaluator
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit
from zenml.steps.trainer import PyTorchBaseTrainer

DATA = Path(__file__).parent / "data" / "orders.csv"


def write_csv(path: Path = DATA, rows: int = 800, seed: int = 1) -> Path:
    """Orders that come back when they are large and cheap (with some noise)."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        handle.write("items,price,channel,returned\n")
        for _ in range(rows):
            items, price = rng.randint(1, 10), rng.uniform(5, 100)
            returned = items * 10 - price + rng.gauss(0, 8) > 0
            handle.write(f"{items},{price:.2f},{rng.choice(['web', 'shop'])},{'yes' if returned else 'no'}\n")
    return path


class Residual(torch.nn.Module):
    """input → hidden → hidden + skip connection → logits."""

    def __init__(self, n_features: int, width: int, n_outputs: int) -> None:
        super().__init__()
        self.inner = torch.nn.Linear(n_features, width)
        self.hidden = torch.nn.Linear(width, width)
        self.out = torch.nn.Linear(width, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.inner(x))
        return self.out(h + torch.relu(self.hidden(h)))


class ResidualTrainer(PyTorchBaseTrainer):
    """A residual MLP trained with gradient clipping; ``width`` and ``max_grad_norm`` are its own parameters.

    Everything else — batching, the default loss and optimizer, evaluation per epoch, history,
    predictions, saving as TorchScript, DDP on ``--training torch`` — comes from the base class.
    """

    def __init__(
        self,
        width: int = 16,
        max_grad_norm: float = 1.0,
        epochs: int = 10,
        lr: float = 0.01,
        batch_size: int = 32,
        seed: int = 0,
    ) -> None:
        super().__init__(epochs=epochs, lr=lr, batch_size=batch_size, seed=seed)
        self.width = width
        self.max_grad_norm = max_grad_norm

    def model_fn(self, n_features: int, n_outputs: int) -> torch.nn.Module:
        return Residual(n_features, self.width, n_outputs)

    def train_step(self, *, model: Any, features: Any, labels: Any, loss_fn: Any, optimizer: Any) -> float:
        # the default step plus clipping: a hook replaces one piece of the loop, not the loop
        optimizer.zero_grad()
        loss = loss_fn(model(features), labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), self.max_grad_norm)
        optimizer.step()
        return float(loss.detach())

    def on_epoch_end(self, *, epoch: int, logs: dict[str, float], model: Any) -> None:
        if epoch % 5 == 0:
            print(f"epoch {epoch}: loss {logs['loss']:.3f}, eval accuracy {logs['eval_accuracy']:.3f}")


orders = SimplePipeline(name="orders_custom_trainer")
orders.add_datasource(CSVDatasource(path="data/orders.csv"))
orders.add_split(RandomSplit(ratios={"train": 0.7, "eval": 0.3}, seed=5))
orders.add_preprocessor(StandardPreprocessor(labels=["returned"]))
orders.add_trainer(ResidualTrainer(width=16, epochs=10))
orders.add_evaluator(ClassificationEvaluator(label="returned", metrics=["accuracy", "auc"]))

if __name__ == "__main__":
    write_csv()
    run = orders.run()
    metrics = run.metrics()["evaluator"]
    print(run.status, f"accuracy={metrics['accuracy']:.3f}", f"auc={metrics['auc']:.3f}")
    model = run.steps["trainer"].outputs["model"].read()  # a TorchScript program: no ResidualTrainer needed
    print("reloaded model predicts", model.predict_arrays(torch.zeros(4, 3).numpy()).shape[0], "rows")
