"""A deployer in a run: the gate on the evaluator's metrics, the exported bundle, the record and ``zen models list``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from serving_helpers import raw_rows

from zenml.serving import load_bundle

ZEN = str(Path(sys.executable).parent / "zen")


def zen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ZEN, *args], cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "TERM": "dumb", "COLUMNS": "250"}, check=False)


def run_id_of(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("Run ")).split()[1]


def test_a_run_that_meets_the_gate_deploys_its_bundle_and_zen_models_list_shows_it(serving_project: Path) -> None:
    ran = zen("run", "serving_flows.py:cancer_gated", cwd=serving_project)
    assert ran.returncode == 0, ran.stderr
    run_id = run_id_of(ran.stdout)
    folder = serving_project / "deployed" / "cancer_gated"
    bundle = load_bundle(str(folder))
    assert bundle.provenance["run_id"] == run_id and bundle.provenance["pipeline"] == "cancer_gated"
    assert bundle.provenance["metrics"]["accuracy"] >= 0.9 and len(bundle.provenance["spec_sha256"]) == 64
    assert bundle.predict(raw_rows(serving_project, "cancer", 3)).num_rows == 3

    listed = zen("models", "list", cwd=serving_project)
    assert listed.returncode == 0, listed.stderr
    line = next(line for line in listed.stdout.splitlines() if run_id in line)
    assert "cancer_gated" in line and "accuracy=0.9" in line and str(folder) in line
    document = json.loads(zen("models", "list", "--json", "--pipeline", "cancer_gated", cwd=serving_project).stdout)
    [entry] = [d for d in document["deployments"] if d["run"] == run_id]
    assert entry["deployed"] is True and entry["uri"] == str(folder) and entry["step"] == "deployer"
    assert entry["gate"] == {"min_metrics": {"accuracy": 0.9}, "max_metrics": {}, "passed": True}
    assert list(entry["metrics"])[:1] == ["accuracy"] and entry["reason"] is None
    shown = zen("runs", "show", run_id, cwd=serving_project)
    assert "deployed" in shown.stdout and "1.0" in shown.stdout


def test_a_run_that_misses_the_gate_completes_without_deploying_and_says_so(serving_project: Path) -> None:
    ran = zen("run", "serving_flows.py:cancer_held_back", cwd=serving_project)
    assert ran.returncode == 0, ran.stderr
    assert "not deployed: accuracy 0." in ran.stdout + ran.stderr and "is not at least 0.999" in ran.stdout + ran.stderr
    assert not (serving_project / "held").exists()
    document = json.loads(zen("models", "list", "--json", "-p", "cancer_held", cwd=serving_project).stdout)
    [entry] = document["deployments"]
    assert entry["deployed"] is False and entry["uri"] is None and entry["gate"]["passed"] is False
    assert entry["reason"].startswith("accuracy 0.") and entry["reason"].endswith("is not at least 0.999")
    listed = zen("models", "list", "-p", "cancer_held", cwd=serving_project).stdout
    assert "not deployed: accuracy" in listed
    assert "No deployments" in zen("models", "list", "--deployed", "-p", "cancer_held", cwd=serving_project).stdout


def test_a_gate_on_a_metric_the_evaluator_does_not_compute_names_it(serving_project: Path) -> None:
    ran = zen("run", "serving_flows.py:cancer_misnamed", cwd=serving_project)
    assert ran.returncode == 2  # refused when the pipeline compiles: nothing is recorded
    assert ("LocalDeployer min_metrics names metric 'acuracy'; did you mean 'accuracy'?, which evaluator 'evaluator' "
            "(ClassificationEvaluator) never computes") in ran.stderr
    assert "cancer_misnamed" not in zen("runs", "list", cwd=serving_project).stdout


def test_a_deployer_in_a_decorated_pipeline_keeps_one_bundle_per_run(serving_project: Path) -> None:
    first = zen("run", "serving_flows.py:cancer_decorated", cwd=serving_project)
    assert first.returncode == 0, first.stderr
    second = zen("run", "serving_flows.py:cancer_decorated", cwd=serving_project)
    assert second.returncode == 0, second.stderr
    runs = [run_id_of(first.stdout), run_id_of(second.stdout)]
    # the deployer runs again although every other step is served from the cache: deploying is an effect
    assert sorted(os.listdir(serving_project / "decorated")) == sorted(runs)
    document = json.loads(zen("models", "list", "--json", "-p", "cancer_decorated", cwd=serving_project).stdout)
    assert [entry["run"] for entry in document["deployments"]] == runs[::-1]
