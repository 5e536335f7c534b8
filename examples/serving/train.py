"""Train a scikit-learn classifier on breast-cancer data and deploy its model bundle when accuracy ≥ 0.9.

Run from this folder after ``zen init``: ``python train.py``, then ``python client.py`` (or, by
hand, ``zen serve --pipeline serving`` and ``curl``; see README.md).
"""

from __future__ import annotations

from pathlib import Path

from zenml_sklearn import SklearnTrainer

from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.deployer import LocalDeployer
from zenml.steps.evaluator import ClassificationEvaluator
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit

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


serving = SimplePipeline(name="serving")
serving.add_datasource(CSVDatasource(path="data/breast_cancer.csv"))
serving.add_split(RandomSplit(ratios={"train": 0.8, "eval": 0.2}, seed=42))
serving.add_preprocessor(StandardPreprocessor(labels=["malignant"]))
serving.add_trainer(SklearnTrainer(estimator="sklearn.linear_model.LogisticRegression"))
serving.add_evaluator(ClassificationEvaluator(label="malignant", metrics=["accuracy", "auc"]))
serving.add_deployer(LocalDeployer(target="models/serving", min_metrics={"accuracy": 0.9}))

if __name__ == "__main__":
    write_csv()
    run = serving.run()
    metrics = run.metrics()["evaluator"]
    print(f"{run.status} run {run.id} accuracy={metrics['accuracy']:.3f} auc={metrics['auc']:.3f}")
