"""Specs recorded before ``SimpleStep`` became ``FunctionStep`` still load, replay and keep their cache keys."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from zenml.repository import Repository

ZEN = str(Path(sys.executable).parent / "zen")

#: the flow a spec below was recorded from, unchanged (its functions' source is part of the cache keys)
FLOW = """\
from zenml import step, pipeline

@step
def load() -> float:
    return 3.0

@step
def double(x: float, factor: float = 2.0) -> float:
    return x * factor

@pipeline
def probe():
    double(x=load())
"""

#: ``zen run flow_before_rename.py:probe`` as written by zenml before the rename, verbatim
SPEC_BEFORE_RENAME = """\
spec_version: 1
run_id: 20261205-144646-4598c138
pipeline:
  name: probe
  type: flow_before_rename.probe
created_at: '2026-12-05T14:46:46.127247Z'
git: null
environment:
  python: 3.11.7
  zenml: 0.1.0
  packages:
    zenml: 0.1.0
code_paths:
- .
stack:
  name: default
  artifact_store: .zen/artifacts
  metadata_store: sqlite:///.zen/metadata.db
backends:
  orchestrator:
    name: local
    type: zenml.backends.orchestrator.local.LocalOrchestrator
    params: {}
  processing:
    name: local
    type: zenml.backends.processing.local.LocalProcessing
    params: {}
  training:
    name: local
    type: zenml.backends.training.local.LocalTraining
    params: {}
failure_policy: stop
enable_cache: true
steps:
  load:
    type: flow_before_rename.load
    params: {}
    inputs: {}
    outputs:
      output: json
    enable_cache: true
    processing: null
    training: null
    runtime:
      retries: 0
      retry_delay: 0.0
      retry_backoff: 1.0
      timeout: null
      resources:
        cpu: null
        memory: null
        gpu: null
  double:
    type: flow_before_rename.double
    params:
      factor: 2.0
    inputs:
      x: load.output
    outputs:
      output: json
    enable_cache: true
    processing: null
    training: null
    runtime:
      retries: 0
      retry_delay: 0.0
      retry_backoff: 1.0
      timeout: null
      resources:
        cpu: null
        memory: null
        gpu: null
"""

#: the cache keys that run recorded; the same code, parameters and inputs must give the same keys
KEYS_BEFORE_RENAME = {
    "load": "v2:4db62474d260e396039c77cbbaa22ac0ed7ed97ed2cf0f39e1048b54a3411ce5",
    "double": "v2:38a11503c7a055dfd9fae5c5573dc956623a340e736f1f314b0c963939a0d38a",
}


def test_spec_recorded_before_the_rename_replays_with_the_same_cache_keys(repo: Repository, tmp_path: Path) -> None:
    (tmp_path / "flow_before_rename.py").write_text(FLOW)
    (tmp_path / "old.yaml").write_text(SPEC_BEFORE_RENAME)
    result = subprocess.run(
        [ZEN, "run", "old.yaml", "--json"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr + result.stdout
    document = json.loads(result.stdout)
    assert document["status"] == "completed"
    run = repo.run(document["run_id"])
    assert {name: view.type for name, view in run.steps.items()} == {
        "load": "flow_before_rename.load",
        "double": "flow_before_rename.double",
    }
    assert {name: view.record.cache_key for name, view in run.steps.items()} == KEYS_BEFORE_RENAME, (
        "a @step function's cache key changed for unchanged code: the step class's name or path must not "
        "enter the key (a bump of CACHE_FORMAT_VERSION is the only legitimate reason)"
    )
