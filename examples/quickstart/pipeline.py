"""Quickstart: breast-cancer classification with the TensorFlow feed-forward trainer.

The data is scikit-learn's bundled breast-cancer dataset, written to ``data/breast_cancer.csv``
by ``write_csv()``. Run from this folder: ``zen init``, then ``python pipeline.py`` (or, once the
CSV exists, ``zen run pipeline.py:quickstart``). The run ends by deploying the model bundle to
``models/quickstart``, which ``zen serve --pipeline quickstart`` serves over HTTP.
"""

from __future__ import annotations

from pathlib import Path

from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.deployer import LocalDeployer
from zenml.steps.evaluator import ClassificationEvaluator
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit
from zenml.steps.trainer import TensorflowFeedForwardTrainer

DATA = Path(__file__).parent / "data" / "breast_cancer.csv"


def write_csv(path: Path = DATA) -> Path:
    """The bundled dataset as CSV: 30 numeric features and the 0/1 ``malignant`` label."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "malignant"})
    frame["malignant"] = 1 - frame["malignant"]  # scikit-learn codes benign as 1
    frame.columns = [column.replace(" ", "_") for column in frame.columns]
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


quickstart = SimplePipeline(name="quickstart")
quickstart.add_datasource(CSVDatasource(path="data/breast_cancer.csv"))
quickstart.add_split(RandomSplit(ratios={"train": 0.7, "eval": 0.2, "test": 0.1}, seed=42))
quickstart.add_preprocessor(StandardPreprocessor(labels=["malignant"]))
quickstart.add_trainer(
    TensorflowFeedForwardTrainer(
        hidden_layers=[32, 16],
        epochs=30,
        batch_size=32,
        lr=1e-3,
        loss="binary_crossentropy",
        last_activation="sigmoid",
        seed=7,
    )
)
quickstart.add_evaluator(
    ClassificationEvaluator(label="malignant", metrics=["accuracy", "auc", "f1", "log_loss"], slices=["mean_radius"])
)
# the model bundle (transform + Keras model + schema + provenance) goes to models/quickstart if accuracy ≥ 0.9;
# `zen serve --pipeline quickstart` then answers predictions over HTTP
quickstart.add_deployer(LocalDeployer(target="models/quickstart", min_metrics={"accuracy": 0.9}))

if __name__ == "__main__":
    write_csv()
    run = quickstart.run()
    print(run.status, " ".join(f"{name}={value:.3f}" for name, value in run.metrics()["evaluator"].items()))
