"""Train a model on labelled orders (``data/train.csv``); ``infer.py`` then predicts new orders with it.

Run from this folder: ``zen init``, then ``python train.py`` and ``python infer.py``.
"""

from __future__ import annotations

from orders import DATA, write_csv

from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.evaluator import ClassificationEvaluator
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit
from zenml.steps.trainer import PyTorchFeedForwardTrainer

training = SimplePipeline(name="orders_model")
training.add_datasource(CSVDatasource(path="data/train.csv"))
training.add_split(RandomSplit(ratios={"train": 0.8, "eval": 0.2}, seed=5))
training.add_preprocessor(StandardPreprocessor(labels=["returned"]))
training.add_trainer(
    PyTorchFeedForwardTrainer(hidden_layers=[16], epochs=10, lr=0.01, batch_size=32, last_activation="sigmoid", seed=3)
)
training.add_evaluator(ClassificationEvaluator(label="returned", metrics=["accuracy"]))

if __name__ == "__main__":
    write_csv(DATA / "train.csv", rows=800, seed=1)
    write_csv(DATA / "new.csv", rows=300, seed=2, labelled=False)  # what arrives later, without labels
    run = training.run()
    print(run.status, "training run", run.id, f"accuracy={run.metrics()['evaluator']['accuracy']:.3f}")
