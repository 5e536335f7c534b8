"""Same numbers everywhere: ``BatchInferencePipeline`` and ``load_bundle(...).predict`` agree on the same rows,
for a scikit-learn, a (custom) PyTorch and a TensorFlow model.

Both transform the raw rows with the run's fitted transform and call the same model, so the values
are equal, not merely close. The bundle names classes (``prediction`` is ``"versicolor"`` where
batch inference writes the class index 1), gives every class's probability as
``probability_<class>`` (batch inference: ``proba_<i>`` for several classes; for two, ``score`` is
the positive class's probability) and makes ``score`` the probability of the predicted class.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv
import pytest
from serving_helpers import raw_rows

from zenml.datasources import CSVDatasource
from zenml.pipelines import BatchInferencePipeline
from zenml.serving import load_bundle

FAMILIES = [
    pytest.param("cancer_sklearn", "cancer", "target", id="sklearn-binary"),
    pytest.param(
        "iris_torch", "iris", "species", id="pytorch-multiclass",
        marks=[pytest.mark.torch, pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch")],
    ),
    pytest.param(
        "diabetes_tf", "diabetes", "target", id="tensorflow-regression",
        marks=[pytest.mark.tensorflow,
               pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="TensorFlow")],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("flow", "data", "label"), FAMILIES)
def test_batch_inference_and_the_bundle_return_the_same_predictions(
    trained: Callable[[str], Any], in_project: Path, flow: str, data: str, label: str
) -> None:
    run = trained(flow)
    rows = [{k: v for k, v in row.items() if k != label} for row in raw_rows(in_project, data, 60)]
    pyarrow.csv.write_csv(pa.Table.from_pylist(rows), str(in_project / f"new_{data}.csv"))
    source = CSVDatasource(path=f"new_{data}.csv")
    inferred = BatchInferencePipeline(model_run=run.id, datasource=source, name=f"infer_{data}").run()
    batch = inferred.steps["inference"].outputs["output"].read().to_pandas()
    bundle = load_bundle(run.id)
    served = bundle.predict(rows).to_pydict()

    assert len(batch) == len(served["prediction"]) == 60
    if bundle.task == "regression":
        assert np.array_equal(np.asarray(served["prediction"]), batch.prediction.to_numpy())
        assert np.array_equal(np.asarray(served["score"]), batch.score.to_numpy())
        return
    classes = bundle.classes or []
    assert served["prediction"] == [classes[i] for i in batch.prediction]
    if bundle.task == "binary":
        positive = batch.score.to_numpy()
        assert np.array_equal(np.asarray(served[f"probability_{classes[1]}"]), positive)
        assert np.array_equal(np.asarray(served["score"]), np.where(batch.prediction == 1, positive, 1 - positive))
    else:
        for index, name in enumerate(classes):
            assert np.array_equal(np.asarray(served[f"probability_{name}"]), batch[f"proba_{index}"].to_numpy())
        assert np.array_equal(np.asarray(served["score"]), batch.score.to_numpy())
