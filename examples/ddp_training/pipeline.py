"""PyTorch DDP on the CPU: the trainer step runs on 2 processes (gloo) through ``TorchDistributedTraining``.

The data is a synthetic orders table written to ``data/orders.csv`` by ``write_csv()``. Run from
this folder: ``zen init``, then ``python pipeline.py``; or, once the CSV exists,
``zen run pipeline.py:orders --training torch --backend-opt training.nproc_per_node=2``.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path
from typing import Any

from zenml.backends.training import TorchDistributedTraining
from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.evaluator import ClassificationEvaluator
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit
from zenml.steps.trainer import PyTorchFeedForwardTrainer

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


class RankReportingTrainer(PyTorchFeedForwardTrainer):
    """The feed-forward trainer, saying from each process which rank it is and how many rows it trains on.

    It lives in this script, so every rank imports ``pipeline`` again: hence the ``__main__`` guard below.
    """

    def on_train_start(self, *, model: Any, training: Any, context: Any) -> None:
        rows = len(training.arrays["train"][0])
        line = (
            f"rank {context.rank}/{context.world_size} (pid {os.getpid()}): "
            f"a 1/{context.world_size} shard of {rows} training rows each epoch\n"
        )
        # one write with its newline: the ranks share a pipe, and print()'s separate "\n" interleaved
        sys.stdout.write(line)
        sys.stdout.flush()


orders = SimplePipeline(name="orders_ddp")
orders.add_datasource(CSVDatasource(path="data/orders.csv"))
orders.add_split(RandomSplit(ratios={"train": 0.7, "eval": 0.3}, seed=5))
orders.add_preprocessor(StandardPreprocessor(labels=["returned"]))
orders.add_trainer(
    RankReportingTrainer(hidden_layers=[16], epochs=10, lr=0.01, batch_size=32, last_activation="sigmoid", seed=3)
)
orders.add_evaluator(ClassificationEvaluator(label="returned", metrics=["accuracy", "auc"]))

if __name__ == "__main__":
    write_csv()
    run = orders.run(training=TorchDistributedTraining(nproc_per_node=2, backend="gloo"))
    training = run.spec.backends.training
    metrics = run.metrics()["evaluator"]
    print(
        run.status,
        f"on {training.name} x{training.params['nproc_per_node']}",
        f"accuracy={metrics['accuracy']:.3f}",
        f"auc={metrics['auc']:.3f}",
    )
