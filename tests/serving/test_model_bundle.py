"""A model bundle scores raw rows (with or without the label) from its folder alone, for every trainer family."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from serving_helpers import raw_rows

from zenml.exceptions import ArtifactError, ConfigError
from zenml.serving import ModelBundle, export_bundle, load_bundle

needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs PyTorch")
needs_tf = pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="needs TensorFlow")

SCORE_IN_SUBPROCESS = """
import json, sys
from zenml.serving import load_bundle
bundle = load_bundle(sys.argv[1])
table = bundle.predict(json.loads(sys.argv[2]))
project = sorted(m for m in sys.modules if m.split(".")[0] == "serving_flows")
print(json.dumps({"columns": table.to_pydict(), "modules": project}))
"""


def test_a_sklearn_bundle_scores_rows_with_and_without_the_label(
    trained: Callable[[str], Any], in_project: Path, tmp_path: Path
) -> None:
    run = trained("cancer_sklearn")
    uri = export_bundle(run, str(tmp_path / "cancer"))
    assert sorted(os.listdir(uri)) == ["bundle.json", "model", "transform.json"]
    assert "estimator.skops" in os.listdir(Path(uri) / "model")
    assert not [name for name in os.listdir(Path(uri) / "model") if name.endswith((".pkl", ".pickle"))]
    bundle = load_bundle(uri)
    assert (bundle.task, bundle.classes, bundle.label) == ("binary", ["0", "1"], "target")
    assert "target" not in bundle.input_schema.names and len(bundle.input_schema) == 30
    assert bundle.input_schema.field("mean_radius").type == pa.float64()
    provenance = bundle.provenance
    assert provenance["run_id"] == run.id and provenance["pipeline"] == "cancer_sklearn"
    assert provenance["spec_sha256"] == run.record.spec_sha256 and provenance["framework"] == "sklearn"
    assert provenance["metrics"] == run.metrics()["evaluator"] and provenance["metrics"]["accuracy"] > 0.9

    rows = raw_rows(in_project, "cancer")
    with_label = bundle.predict(rows)
    without = bundle.predict([{k: v for k, v in row.items() if k != "target"} for row in rows])
    assert with_label.equals(without)
    assert with_label.column_names == ["prediction", "score", "probability_0", "probability_1"]
    predicted = with_label.to_pydict()
    assert set(predicted["prediction"]) <= {"0", "1"}
    accuracy = sum(p == str(row["target"]) for p, row in zip(predicted["prediction"], rows, strict=True)) / len(rows)
    assert accuracy > 0.85
    for p, s, p0, p1 in zip(*(predicted[c] for c in with_label.column_names), strict=True):
        assert s == (p1 if p == "1" else p0) and abs(p0 + p1 - 1) < 1e-9
    frame = pa.Table.from_pylist(rows).to_pandas()
    assert bundle.predict(frame).equals(with_label) and bundle.predict(pa.Table.from_pylist(rows)).equals(with_label)
    assert bundle.predict([]).num_rows == 0


def test_bad_rows_name_the_column_and_the_fix(trained: Callable[[str], Any], tmp_path: Path, in_project: Path) -> None:
    bundle = load_bundle(export_bundle(trained("cancer_sklearn"), str(tmp_path / "b")))
    row = raw_rows(in_project, "cancer", 1)[0]
    misspelled = {("mean_radus" if k == "mean_radius" else k): v for k, v in row.items()}
    with pytest.raises(ConfigError, match="rows lack column 'mean_radius'; is 'mean_radus' a misspelling of it"):
        bundle.predict([misspelled])
    with pytest.raises(ConfigError, match="column 'mean_texture' holds text \\(string\\), but the model needs numbers"):
        bundle.check_rows([{**row, "mean_texture": "12.5"}])
    with pytest.raises(ConfigError, match="rows must be a pyarrow Table, a list of dicts or a pandas DataFrame"):
        bundle.predict("mean_radius=1")
    converted = bundle.check_rows([{**row, "mean_radius": 14}])  # an integer is a number
    assert converted.schema == bundle.input_schema and converted.column("mean_radius").to_pylist() == [14.0]


def test_a_run_id_is_exported_once_and_an_fsspec_url_works(trained: Callable[[str], Any], in_project: Path) -> None:
    run = trained("cancer_sklearn")
    bundle = load_bundle(run.id[:-4])  # a unique prefix
    assert Path(bundle.path) == in_project / ".zen" / "bundles" / run.id
    assert load_bundle(run.id).path == bundle.path
    uri = export_bundle(run, "memory://bundles/cancer")
    rows = raw_rows(in_project, "cancer", 5)
    assert uri == "memory://bundles/cancer" and load_bundle(uri).predict(rows).equals(bundle.predict(rows))
    with pytest.raises(ConfigError, match="is not a model bundle"):
        load_bundle("memory://bundles/nothing")


def test_a_folder_that_is_no_bundle_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a model bundle \\(no bundle.json\\)"):
        load_bundle(str(tmp_path))


def score_elsewhere(bundle: str, rows: list[dict[str, Any]], cwd: Path) -> dict[str, Any]:
    """Score rows in a fresh interpreter, in a folder with no repository and without the project on the path."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", SCORE_IN_SUBPROCESS, bundle, json.dumps(rows)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.mark.torch
@needs_torch
def test_a_custom_pytorch_trainer_bundle_loads_without_the_project(
    trained: Callable[[str], Any], in_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    run = trained("iris_torch")
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    uri = export_bundle(run, str(elsewhere / "iris"))
    assert {"model.pt", "weights.pt"} <= set(os.listdir(Path(uri) / "model"))
    rows = raw_rows(in_project, "iris", 150)[::10]
    scored = score_elsewhere(uri, rows, elsewhere)
    assert scored["modules"] == []  # the project's module holding IrisNet was never imported
    here = ModelBundle(uri).predict(rows).to_pydict()
    assert scored["columns"] == here
    assert set(here) == {"prediction", "score", "probability_setosa", "probability_versicolor", "probability_virginica"}
    assert sum(p == row["species"] for p, row in zip(here["prediction"], rows, strict=True)) >= 12


@pytest.mark.tensorflow
@needs_tf
def test_a_tensorflow_regression_bundle_scores_values(
    trained: Callable[[str], Any], in_project: Path, tmp_path: Path
) -> None:
    uri = export_bundle(trained("diabetes_tf"), str(tmp_path / "diabetes"))
    assert "model.keras" in os.listdir(Path(uri) / "model")
    bundle = load_bundle(uri)
    assert (bundle.task, bundle.classes) == ("regression", None)
    predicted = bundle.predict(raw_rows(in_project, "diabetes", 10))
    assert predicted.column_names == ["prediction", "score"] and predicted.column("prediction").type == pa.float64()
    assert predicted.column("prediction").equals(predicted.column("score"))


def test_a_column_of_mixed_types_is_named(trained: Callable[[str], Any], in_project: Path, tmp_path: Path) -> None:
    bundle = load_bundle(export_bundle(trained("cancer_sklearn"), str(tmp_path / "b")))
    rows = raw_rows(in_project, "cancer", 2)
    rows[1]["mean_area"] = "large"
    with pytest.raises(ConfigError, match="column 'mean_area' mixes values of types float, str; give it values of one"):
        bundle.predict(rows)


def test_a_damaged_bundle_fails_when_loaded_naming_the_file(trained: Callable[[str], Any], tmp_path: Path) -> None:
    uri = export_bundle(trained("cancer_sklearn"), str(tmp_path / "b"))
    (Path(uri) / "model" / "estimator.skops").write_bytes(b"not a skops file")
    with pytest.raises(ArtifactError, match="the model in .* cannot score"):
        load_bundle(uri)
    (Path(uri) / "bundle.json").write_text("{")
    with pytest.raises(ArtifactError, match="bundle.json is not valid JSON"):
        load_bundle(uri)
    (Path(uri) / "bundle.json").write_text('{"bundle_version": 1, "task": "binary"}')
    with pytest.raises(ArtifactError, match="bundle.json lacks 'label'; export the bundle again"):
        load_bundle(uri)
    (Path(uri) / "bundle.json").write_text('{"bundle_version": 7}')
    with pytest.raises(ArtifactError, match="layout version 7; this zenml reads up to 1: upgrade zenml"):
        load_bundle(uri)
