"""What runs record never names a base class, so the ``Base<Role>`` renames orphan no stored run.

Recorded per run: the run spec (step and backend types), each step's cache key, its components and
code hash, and per artifact its materializer class path and data type. All name the concrete class
(the user's step, the user's materializer), and zenml's own code is not fingerprinted: a spec
recorded before ``Materializer`` became ``BaseMaterializer``, whose flow still subclasses the old
name, replays with the same cache keys and code hashes, and its artifacts load through the
recorded materializer path.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.repository import Repository
from zenml.steps.preprocessor import BasePreprocessorStep
from zenml.steps.split import BaseSplitStep

ZEN = str(Path(sys.executable).parent / "zen")

#: a base class's name, old or new; ``JSONMaterializer`` or ``RandomSplit`` do not match
BASE_NAME = re.compile(r"\b(?:Base)?(?:SplitStep|PreprocessorStep|EvaluatorStep|DeployerStep|Materializer)\b")

#: the flow the spec below was recorded from, unchanged: it still subclasses the old name
FLOW = """\
import json

from zenml import pipeline, step
from zenml.artifacts import Materializer, register_materializer


class Point:
    def __init__(self, x: float, y: float) -> None:
        self.x, self.y = x, y


@register_materializer
class PointMaterializer(Materializer):
    format = "point"
    type_names = ("flow_before_rename.Point",)

    def save(self, value, folder):
        with folder.open("point.json", "w") as handle:
            json.dump([value.x, value.y], handle)

    def load(self, folder):
        with folder.open("point.json", "r") as handle:
            return Point(*json.load(handle))


@step
def make() -> Point:
    return Point(3.0, 4.0)


@step
def norm(p: Point) -> float:
    return (p.x**2 + p.y**2) ** 0.5


@pipeline
def probe():
    norm(p=make())
"""

_RUNTIME = """\
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

#: ``zen run flow_before_rename.py:probe`` as written by zenml before the rename, verbatim
SPEC_BEFORE_RENAME = f"""\
spec_version: 1
run_id: 20261205-150624-6e2af0fb
pipeline:
  name: probe
  type: flow_before_rename.probe
created_at: '2026-12-05T15:06:24.950804Z'
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
    params: {{}}
  processing:
    name: local
    type: zenml.backends.processing.local.LocalProcessing
    params: {{}}
  training:
    name: local
    type: zenml.backends.training.local.LocalTraining
    params: {{}}
failure_policy: stop
enable_cache: true
steps:
  make:
    type: flow_before_rename.make
    params: {{}}
    inputs: {{}}
    outputs:
      output: point
{_RUNTIME}  norm:
    type: flow_before_rename.norm
    params: {{}}
    inputs:
      p: make.output
    outputs:
      output: json
{_RUNTIME}"""

#: what that run recorded: cache key, code hash and each output's materializer
RECORDED_BEFORE_RENAME = {
    "make": (
        "v2:1e8ee58dfd9bcd4ded4caf967b0b30c168ad4bafc785fcf25f344788fa683f07",
        "f73e3ce1c2e8832d6c1238af4f8202fd3aa0b113f5185a8e5df342f965b4fc2c",
        {"output": "flow_before_rename.PointMaterializer"},
    ),
    "norm": (
        "v2:b744f16467e4e14379b59b59f65d5b27dc38cb3088db84347e91a8d39cb88d52",
        "075495ef7a850b716cb255a4c197af50372de3b9438a5ad8d554f70881f1378d",
        {"output": "zenml.artifacts.materializers.JSONMaterializer"},
    ),
}


def test_a_spec_recorded_before_the_rename_replays_with_the_same_records(repo: Repository, tmp_path: Path) -> None:
    (tmp_path / "flow_before_rename.py").write_text(FLOW)
    (tmp_path / "old.yaml").write_text(SPEC_BEFORE_RENAME)
    env = {**os.environ, "PYTHONWARNINGS": "always::DeprecationWarning"}  # shown, as a user's own test run shows it
    result = subprocess.run(
        [ZEN, "run", "old.yaml", "--json"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "zenml.artifacts.BaseMaterializer" in result.stderr  # the flow's old import warned, naming the new one
    run = repo.run(json.loads(result.stdout)["run_id"])
    recorded = {
        name: (
            view.record.cache_key,
            view.record.code_hash,
            {o: a.record.materializer for o, a in view.outputs.items()},
        )
        for name, view in run.steps.items()
    }
    assert recorded == RECORDED_BEFORE_RENAME, (
        "a step's cache key, code hash or recorded materializer changed for unchanged user code: a base "
        "class's name must not enter what a run records"
    )
    assert run.steps["norm"].outputs["output"].read() == 5.0


# -- a run with the user's own split and preprocessor ------------------------------------------------


class EvenOddSplit(BaseSplitStep):
    """Even ids train, odd ids evaluate."""

    def split_names(self) -> list[str]:
        return ["train", "eval"]

    def required_columns(self) -> list[str]:
        return ["id"]

    def partition_fn(self, batch: pa.RecordBatch) -> np.ndarray:
        return np.asarray(batch.column("id")) % 2


class Total:
    """Sum of ``x`` (the analyzer of ``Shift``)."""

    def create(self) -> float:
        return 0.0

    def add(self, accumulator: float, batch: pa.RecordBatch) -> float:
        return accumulator + (pc.sum(batch.column("x")).as_py() or 0.0)

    def merge(self, accumulators: Sequence[float]) -> float:
        return sum(accumulators)

    def extract(self, accumulator: float) -> dict[str, Any]:
        return {"total": accumulator}


class Shift(BasePreprocessorStep):
    """Subtracts the training total from ``x``."""

    def analyzer(self, schema: pa.Schema) -> Total:
        return Total()

    def transform_batch(self, batch: pa.RecordBatch, state: dict[str, Any]) -> pa.RecordBatch:
        return pa.RecordBatch.from_arrays([pc.subtract(batch.column("x"), state["total"])], names=["x"])


def test_no_record_of_a_run_names_a_base_class(repo: Repository, tmp_path: Path) -> None:
    (tmp_path / "rows.csv").write_text("id,x\n" + "".join(f"{i},{i * 1.5}\n" for i in range(20)))
    pipeline = (
        SimplePipeline(name="bases")
        .add_datasource(CSVDatasource(path=str(tmp_path / "rows.csv")))
        .add_split(EvenOddSplit())
        .add_preprocessor(Shift())
    )
    run = pipeline.run()
    assert run.status == "completed"
    records: list[Any] = [run.spec.to_yaml()]
    for view in run.steps.values():
        records += [view.type, view.record.cache_key, view.record.code_hash, view.record.cache_components]
        records += [(a.record.materializer, a.record.data_type) for a in view.outputs.values()]
    transform = run.steps["preprocessor"].outputs["transform"].read()
    records.append(dict(transform))
    assert transform["preprocessor"]["type"] == f"{__name__}.Shift"
    named = sorted({match for record in records for match in BASE_NAME.findall(json.dumps(record, default=str))})
    assert named == [], f"a run recorded base-class names {named}; renaming a base would orphan such records"
