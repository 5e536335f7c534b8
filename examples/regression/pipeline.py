"""Diabetes progression regression with the PyTorch feed-forward trainer.

The data is scikit-learn's bundled diabetes dataset, written to ``data/diabetes.csv`` by
``write_csv()``. Run from this folder: ``zen init``, then ``python pipeline.py``.
"""

from __future__ import annotations

from pathlib import Path

from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.evaluator import RegressionEvaluator
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit
from zenml.steps.trainer import PyTorchFeedForwardTrainer

DATA = Path(__file__).parent / "data" / "diabetes.csv"


def write_csv(path: Path = DATA) -> Path:
    """The bundled dataset as CSV: 10 numeric features and the ``progression`` target."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True, scaled=False).frame.rename(columns={"target": "progression"})
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


diabetes = SimplePipeline(name="diabetes_regression")
diabetes.add_datasource(CSVDatasource(path="data/diabetes.csv"))
diabetes.add_split(RandomSplit(ratios={"train": 0.8, "eval": 0.2}, seed=3))
diabetes.add_preprocessor(StandardPreprocessor(labels=["progression"]))
diabetes.add_trainer(
    PyTorchFeedForwardTrainer(
        hidden_layers=[32], epochs=50, batch_size=32, lr=1e-2, last_activation="linear", loss="mse", seed=1
    )
)
diabetes.add_evaluator(RegressionEvaluator(label="progression", metrics=["mae", "rmse", "r2"], slices=["sex"]))

if __name__ == "__main__":
    write_csv()
    run = diabetes.run()
    print(run.status, " ".join(f"{name}={value:.3f}" for name, value in run.metrics()["evaluator"].items()))
