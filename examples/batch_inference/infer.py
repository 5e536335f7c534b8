"""Predict the new orders (``data/new.csv``) with the latest model trained by ``train.py``.

``BatchInferencePipeline`` applies the training run's fitted transform and model to the new data;
both are recorded as inputs of its ``inference`` step, so the predictions' lineage leads back to
the training run. Run from this folder after ``python train.py``: ``python infer.py``.
"""

from __future__ import annotations

from orders import returned

from zenml.datasources import CSVDatasource
from zenml.pipelines import BatchInferencePipeline
from zenml.repository import Repository

if __name__ == "__main__":
    trained = next(run for run in Repository().runs(pipeline="orders_model") if run.status == "completed")
    inference = BatchInferencePipeline(model_run=trained.id, datasource=CSVDatasource(path="data/new.csv"))
    run = inference.run()
    predicted = run.steps["inference"].outputs["output"].read().to_pandas()
    # the new orders carry no label, but the rule they were drawn from says what they should be
    agree = (predicted["prediction"] == 1) == [
        returned(i, p) for i, p in zip(predicted["items"], predicted["price"], strict=True)
    ]
    print(
        run.status,
        f"{len(predicted)} orders predicted with the model of run {trained.id}",
        f"agreement={agree.mean():.3f}",
    )
    print(predicted.head(3).to_string(index=False))
    lineage = run.steps["inference"].outputs["output"].lineage()
    sources = {
        f"{step.name} ({'training run' if step.run_id == trained.id else 'this run'})"
        for step in lineage.steps.values()
    }
    print("the predictions derive from:", ", ".join(sorted(sources)))
