"""Replays are pinned to the data their run read; --refresh-data reads anew; --data-from runs new code on old data.

Driven through ``zen`` as a subprocess, on scikit-learn's diabetes data, with the metadata store on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sklearn", reason="the replay tests fit a scikit-learn model")

pytestmark = pytest.mark.slow  # a dozen `zen` processes per store engine

ZEN = str(Path(sys.executable).parent / "zen")

FLOW = """
from pathlib import Path

from sklearn.linear_model import LinearRegression

from zenml import StepContext, step
from zenml.artifacts.dataset import Dataset
from zenml.datasources import CSVDatasource
from zenml.pipelines import BasePipeline


@step
def fit(data: Dataset, context: StepContext) -> float:
    if Path("FAIL").exists():
        raise RuntimeError("the FAIL flag is set")
    frame = data.to_pandas()
    features, target = frame.drop(columns=["target"]).to_numpy(), frame["target"].to_numpy()
    r2 = float(LinearRegression(fit_intercept=FIT_INTERCEPT).fit(features, target).score(features, target))
    context.log_metric("rows", len(frame))
    context.log_metric("r2", r2)
    return r2


FIT_INTERCEPT = True
diabetes = BasePipeline("diabetes").add_step("datasource", CSVDatasource(path="data.csv")).add_step(
    "fit", fit, inputs={"data": "datasource"}
)
"""


def write_rows(path: Path, rows: int) -> None:
    """The first ``rows`` rows of scikit-learn's diabetes data as a CSV with a header."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame.head(rows)
    frame.to_csv(path, index=False)


def zen(cwd: Path, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([ZEN, *args], cwd=cwd, capture_output=True, text=True, timeout=180)
    assert result.returncode == expect, result.stderr + result.stdout
    return result


def run_json(cwd: Path, *args: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(zen(cwd, "run", *args, "--json").stdout)
    return document


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.services)])
def project(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with the flow and 100 rows of data; its metadata store on SQLite or PostgreSQL."""
    if request.param == "postgres":
        monkeypatch.setenv("ZEN_METADATA_STORE", request.getfixturevalue("postgres_url"))
    (tmp_path / "flow_replay.py").write_text(FLOW)
    write_rows(tmp_path / "data.csv", 100)
    zen(tmp_path, "init", ".")
    return tmp_path


def _repository(project: Path) -> Any:
    from zenml.repository import Repository

    return Repository(project)


def test_replay_reads_the_data_of_its_run_until_refreshed(project: Path) -> None:
    first = run_json(project, "flow_replay.py:diabetes")
    original = first["metrics"]["fit"]
    assert original["rows"] == 100
    spec = f"pipelines/diabetes/{first['run_id']}.yaml"

    write_rows(project / "data.csv", 50)  # the source changed: a replay still reads the run's 100 rows
    changed = zen(project, "run", spec, "--no-cache")
    run_id = first["run_id"]
    assert "datasource: pinned to data version xxh3-128:" in changed.stdout
    assert f"(run {run_id})" in changed.stdout
    replayed = _repository(project).runs()[0]
    assert replayed.metrics()["fit"] == original  # recomputed (--no-cache) on the pinned data
    assert replayed.steps["fit"].status == "completed"
    assert replayed.spec.data_from["datasource"].run == run_id
    assert replayed.data_versions["datasource"].pinned_from == run_id

    (project / "data.csv").unlink()  # gone: still the run's data
    gone = run_json(project, spec, "--no-cache")
    assert gone["status"] == "completed" and gone["metrics"]["fit"] == original
    assert any(line.startswith("datasource: pinned to data version") for line in gone["data"])

    write_rows(project / "data.csv", 50)
    refreshed = zen(project, "run", spec, "--refresh-data")
    assert "datasource: new data version xxh3-128:" in refreshed.stdout
    assert f"(run {run_id} read xxh3-128:" in refreshed.stdout
    assert _repository(project).runs()[0].metrics()["fit"]["rows"] == 50


def test_a_gone_snapshot_is_an_error_offering_refresh_data(project: Path) -> None:
    first = run_json(project, "flow_replay.py:diabetes")
    snapshot = _repository(project).run(first["run_id"]).steps["datasource"].outputs["output"]
    shutil.rmtree(Path(snapshot.uri.removeprefix("file://")))
    spec = f"pipelines/diabetes/{first['run_id']}.yaml"

    refused = zen(project, "run", spec, expect=2)
    assert "is gone from the artifact store" in refused.stderr and "--refresh-data" in refused.stderr
    assert len(_repository(project).runs()) == 1  # nothing recorded; nothing read from the source instead

    refreshed = run_json(project, spec, "--refresh-data")
    assert refreshed["status"] == "completed" and refreshed["metrics"]["fit"]["rows"] == 100


def test_data_from_runs_changed_code_on_an_earlier_runs_data(project: Path) -> None:
    first = run_json(project, "flow_replay.py:diabetes")
    flow = project / "flow_replay.py"
    flow.write_text(flow.read_text().replace("FIT_INTERCEPT = True", "FIT_INTERCEPT = False"))
    write_rows(project / "data.csv", 50)

    result = zen(project, "run", "flow_replay.py:diabetes", "--data-from", first["run_id"][:15])
    assert "datasource: pinned to data version" in result.stdout and f"(run {first['run_id']})" in result.stdout
    run = _repository(project).runs()[0]
    metrics = run.metrics()["fit"]
    assert metrics["rows"] == 100  # the old data …
    assert metrics["r2"] != first["metrics"]["fit"]["r2"]  # … under the new code
    assert run.spec.data_from["datasource"].run == first["run_id"]
    model_input = run.steps["fit"].inputs["data"]
    assert model_input.id == _repository(project).run(first["run_id"]).steps["datasource"].outputs["output"].id
    lineage = zen(project, "artifacts", "show", str(run.steps["fit"].outputs["output"].id), "--lineage").stdout
    assert f"← {first['run_id']}/datasource" in lineage
    shown = zen(project, "runs", "show", run.id).stdout
    assert f"data: datasource pinned to the data of run {first['run_id']}, version xxh3-128:" in shown


def test_a_resumed_replay_finishes_on_the_pinned_data(project: Path) -> None:
    first = run_json(project, "flow_replay.py:diabetes")
    (project / "FAIL").write_text("1")
    write_rows(project / "data.csv", 50)
    failed = zen(project, "run", f"pipelines/diabetes/{first['run_id']}.yaml", "--no-cache", expect=1)
    replay_id = failed.stdout.split("Run ", 1)[1].split()[0]

    (project / "FAIL").unlink()
    (project / "data.csv").unlink()
    said = zen(project, "runs", "resume", replay_id).stdout
    assert "datasource: pinned to data version xxh3-128:" in said and f"(run {first['run_id']})" in said
    resumed = _repository(project).run(replay_id)
    assert resumed.status == "completed" and resumed.metrics()["fit"] == first["metrics"]["fit"]
    assert resumed.data_versions["datasource"].pinned_from == first["run_id"]
