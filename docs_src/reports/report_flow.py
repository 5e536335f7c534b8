"""Reports: a classification pipeline run twice (two learning rates), then the HTML report of the second run."""

import csv
import random

from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.evaluator import ClassificationEvaluator
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit
from zenml.steps.trainer import PyTorchFeedForwardTrainer


def write_csv(path: str = "orders.csv", rows: int = 400) -> None:
    """Orders that are returned when they are large and cheap (with some noise)."""
    rng = random.Random(1)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["items", "price", "channel", "returned"])
        for _ in range(rows):
            items, price = rng.randint(1, 10), rng.uniform(5, 100)
            returned = items * 10 - price + rng.gauss(0, 8) > 0
            writer.writerow([items, round(price, 2), rng.choice(["web", "shop"]), "yes" if returned else "no"])


# --8<-- [start:pipeline]
pipeline = SimplePipeline(name="returns")
pipeline.add_datasource(CSVDatasource(path="orders.csv"))
pipeline.add_split(RandomSplit(ratios={"train": 0.7, "eval": 0.3}, seed=5))
pipeline.add_preprocessor(StandardPreprocessor(labels=["returned"]))
pipeline.add_trainer(
    PyTorchFeedForwardTrainer(hidden_layers=[16], epochs=10, batch_size=64, lr=0.003, metrics=["accuracy"])
)
pipeline.add_evaluator(ClassificationEvaluator(label="returned", metrics=["accuracy", "auc"], slices=["channel"]))
# --8<-- [end:pipeline]

# --8<-- [start:main]
if __name__ == "__main__":
    write_csv()
    first = pipeline.run()
    print(f"run {first.id} completed")
    second = pipeline.run(params={"trainer": {"lr": 0.02}})  # the data steps come from the cache
    print(f"run {second.id} completed")
    report = second.report("report.html")  # one file: opens offline in any browser
    print(f"report: {report.name}, {report.stat().st_size // 1_000_000} MB")
# --8<-- [end:main]
