"""Shared by the trainer examples: a small two-class table and the data part of the pipeline."""

import csv
import random

from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit


def write_csv(path: str = "orders.csv", rows: int = 600) -> None:
    """Orders that are returned when they are large and cheap (with some noise)."""
    rng = random.Random(1)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["items", "price", "channel", "returned"])
        for _ in range(rows):
            items, price = rng.randint(1, 10), rng.uniform(5, 100)
            returned = items * 10 - price + rng.gauss(0, 8) > 0
            writer.writerow([items, round(price, 2), rng.choice(["web", "shop"]), "yes" if returned else "no"])


def orders_pipeline(name: str) -> SimplePipeline:
    """CSV → split → preprocess; the trainer and evaluator are added by each example."""
    pipe = SimplePipeline(name=name)
    pipe.add_datasource(CSVDatasource(path="orders.csv"))
    pipe.add_split(RandomSplit(ratios={"train": 0.7, "eval": 0.3}, seed=5))
    pipe.add_preprocessor(StandardPreprocessor(labels=["returned"]))
    return pipe
