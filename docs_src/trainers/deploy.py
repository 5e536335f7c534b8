"""Deploying a model: a gated deployer exports a bundle that scores raw rows without the project or the store."""

import os

from data import orders_pipeline, write_csv
from zenml_sklearn import SklearnTrainer

from zenml.serving import load_bundle
from zenml.steps.deployer import LocalDeployer
from zenml.steps.evaluator import ClassificationEvaluator

pipeline = orders_pipeline("orders_deployed")
pipeline.add_trainer(SklearnTrainer(estimator="sklearn.linear_model.LogisticRegression"))
pipeline.add_evaluator(ClassificationEvaluator(label="returned", metrics=["accuracy", "auc"]))
pipeline.add_deployer(LocalDeployer(target="models/{pipeline}", min_metrics={"accuracy": 0.8}))

if __name__ == "__main__":
    write_csv()
    run = pipeline.run()
    deployment = run.steps["deployer"].output()
    print("deployed:", deployment["deployed"], "bundle:", sorted(os.listdir(deployment["uri"])))

    bundle = load_bundle("models/orders_deployed")  # a folder, an fsspec URL, or a run id
    print("task:", bundle.task, bundle.classes, "label:", bundle.label)
    print("needs:", bundle.input_schema.names)
    rows = [{"items": 9, "price": 20.0, "channel": "web"}, {"items": 1, "price": 90.0, "channel": "shop"}]
    scored = bundle.predict(rows)  # no label needed; a pandas DataFrame or an Arrow table work too
    print("predictions:", scored.column("prediction").to_pylist())
    print("columns:", scored.column_names)
