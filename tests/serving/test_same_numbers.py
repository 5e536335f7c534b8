"""Same numbers everywhere: BatchInferencePipeline, ``load_bundle(...).predict`` and ``POST /predict`` agree
bit for bit on the same rows, for a scikit-learn, a (custom) PyTorch and a TensorFlow trainer."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from serve_helpers import Server
from serving_helpers import raw_rows

from zenml.datasources import CSVDatasource
from zenml.pipelines import BatchInferencePipeline
from zenml.serving import load_bundle

ROWS = 20
CASES = [
    pytest.param("cancer_sklearn", "cancer", "target", id="sklearn"),
    pytest.param("iris_torch", "iris", "species", id="pytorch", marks=pytest.mark.torch),
    pytest.param("diabetes_tf", "diabetes", "target", id="tensorflow", marks=pytest.mark.tensorflow),
]


def _without_label(root: Path, data: str, label: str) -> Path:
    """The first rows of the project CSV, the label column dropped, the other values' text unchanged."""
    reader = csv.DictReader(io.StringIO((root / f"{data}.csv").read_text()))
    names = [name for name in reader.fieldnames or [] if name != label]
    out = io.StringIO()
    writer = csv.DictWriter(out, names, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row, _ in zip(reader, range(ROWS), strict=False):
        writer.writerow(row)
    path = root / f"{data}_new.csv"
    path.write_text(out.getvalue())
    return path


@pytest.mark.parametrize(("flow", "data", "label"), CASES)
def test_batch_inference_bundle_and_http_agree(
    flow: str, data: str, label: str, trained: Callable[[str], Any], in_project: Path
) -> None:
    run = trained(flow)
    new = _without_label(in_project, data, label)
    batch = BatchInferencePipeline(model_run=run.id, datasource=CSVDatasource(path=str(new))).run()
    batch_columns = batch.steps["inference"].outputs["output"].read().to_pandas()
    rows = [{k: v for k, v in row.items() if k != label} for row in raw_rows(in_project, data, ROWS)]
    bundle = load_bundle(run.id)
    in_process = bundle.predict(rows).to_pydict()
    with Server(in_project, run.id, "--no-access-log") as server:
        answer = httpx.post(f"{server.url}/predict", json={"rows": rows}, timeout=120)
    assert answer.status_code == 200, answer.text
    served = answer.json()["predictions"]
    if bundle.classes is None:  # regression: the value itself
        batch_predictions = [float(value) for value in batch_columns["prediction"]]
    else:  # the pipeline's output holds class indices; the bundle names the classes
        batch_predictions = [bundle.classes[int(index)] for index in batch_columns["prediction"]]
    assert in_process["prediction"] == batch_predictions == [row["prediction"] for row in served]
    assert in_process["score"] == [float(s) for s in batch_columns["score"]] == [row["score"] for row in served]
    for name in bundle.classes or []:
        assert in_process[f"probability_{name}"] == [row[f"probability_{name}"] for row in served]
