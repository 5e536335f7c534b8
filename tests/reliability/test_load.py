"""Load: sixteen processes running a 20-step pipeline on one store at once, and a store of 100,000 step runs.

Durations are printed (``pytest -s``) and recorded with ``record_property`` (``--junitxml``), never
asserted: the machine running the tests decides them. ``python -m benchmarks load`` holds the
100,000-step figures against their targets.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from zenml.testing.flows import chain_source

if TYPE_CHECKING:
    from zenml.artifacts.store import StoredArtifact
    from zenml.metadata import SQLMetadataStore
    from zenml.metadata.records import ArtifactRecord

RecordProperty = Callable[[str, object], None]  # pytest's record_property fixture

ZEN = str(Path(sys.executable).parent / "zen")
PROCESSES = 16
STEPS = 20
RUNS = 5_000  # x 20 steps = 100,000 step runs
# Sixteen interpreters on two shared cores take minutes, not seconds: a generous bound that still
# turns a hang into a failure.
WAIT_S = 540.0
RUN_ID = re.compile(r"^(\d{8}-\d{6}-[0-9a-f]{8})\b", re.MULTILINE)

FLOW = chain_source("load20", STEPS)

ENGINES = [
    "sqlite",
    pytest.param("mysql", marks=pytest.mark.services),
    pytest.param("postgres", marks=pytest.mark.services),
]


def _url(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if engine == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    return str(request.getfixturevalue("mysql_url" if engine == "mysql" else "postgres_url"))


def _count(store: SQLMetadataStore, sql: str) -> int:
    with store.engine.connect() as connection:
        return int(connection.exec_driver_sql(sql).scalar_one())


def _stored(record: ArtifactRecord) -> StoredArtifact:
    from zenml.artifacts.store import StoredArtifact

    return StoredArtifact(
        record.uri, record.format, record.materializer, record.data_type, record.content_hash, record.size
    )


# -- many writers at once -----------------------------------------------------------------------------


def _run_all_at_once(root: Path) -> tuple[list[subprocess.CompletedProcess[str]], float]:
    started = time.monotonic()
    processes = [
        subprocess.Popen(
            [ZEN, "run", "flow_load.py:load20", "--no-cache", "-q"],
            cwd=root,
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    results = []
    deadline = started + WAIT_S
    for process in processes:
        try:
            out, err = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for other in processes:
                other.kill()
            raise
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return results, time.monotonic() - started


@pytest.mark.slow
@pytest.mark.timeout(WAIT_S + 60)
@pytest.mark.parametrize("engine", ENGINES)
def test_sixteen_processes_twenty_steps_each_recorded_exactly_once(
    engine: str,
    repo: object,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    record_property: RecordProperty,
) -> None:
    from zenml.artifacts.store import ArtifactStore
    from zenml.metadata import SQLMetadataStore

    url = _url(engine, tmp_path, request)
    artifacts_root = tmp_path / "shared-artifacts"
    monkeypatch.setenv("ZEN_METADATA_STORE", url)
    monkeypatch.setenv("ZEN_ARTIFACT_STORE", str(artifacts_root))
    (tmp_path / "flow_load.py").write_text(FLOW)
    SQLMetadataStore(url).close()  # the schema first, as `zen init` does for a team store

    results, took = _run_all_at_once(tmp_path)

    failures = [r.stderr for r in results if r.returncode != 0]
    assert not failures, failures[0]
    output = "".join(r.stdout + r.stderr for r in results)
    assert "locked" not in output.lower(), output
    assert "Traceback" not in output, output
    store = SQLMetadataStore(url)
    try:
        runs = store.runs(pipeline="load20")
        assert len({run.id for run in runs}) == len(runs) == PROCESSES
        assert {run.status for run in runs} == {"completed"}
        assert _count(store, "SELECT COUNT(*) FROM runs") == PROCESSES
        assert _count(store, "SELECT COUNT(*) FROM step_runs") == PROCESSES * STEPS
        assert _count(store, "SELECT COUNT(*) FROM artifacts") == PROCESSES * STEPS
        assert _count(store, "SELECT COUNT(*) FROM events WHERE kind = 'output'") == PROCESSES * STEPS
        assert _count(store, "SELECT COUNT(*) FROM events WHERE kind = 'input'") == PROCESSES * (STEPS - 1)
        artifacts = ArtifactStore(str(artifacts_root))
        for run in runs:
            steps = store.step_runs(run.id)
            assert len({s.name for s in steps}) == len(steps) == STEPS
            assert {s.status for s in steps} == {"completed"}
            outputs = store.run_outputs(run.id)
            assert len(outputs) == STEPS
            for (step, _), record in outputs.items():
                artifacts.verify(_stored(record), f"output of {run.id}/{step}")
            assert artifacts.load(_stored(outputs[(f"bump_{STEPS - 1:02d}", "output")])) == float(STEPS - 1)
    finally:
        store.close()
    print(f"\n{engine}: {PROCESSES} processes x {STEPS} steps in {took:.1f} s ({PROCESSES * STEPS / took:.0f} steps/s)")
    record_property(f"{engine}_16x20_s", round(took, 2))


# -- a long history -----------------------------------------------------------------------------------


def _timed(what: str, timings: dict[str, float], command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    result = subprocess.run(command, cwd=cwd, env=dict(os.environ), capture_output=True, text=True, timeout=120)
    timings[what] = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.mark.parametrize(
    "engine",
    [
        "sqlite",
        pytest.param("mysql", marks=[pytest.mark.services, pytest.mark.slow]),
        pytest.param("postgres", marks=[pytest.mark.services, pytest.mark.slow]),
    ],
)
def test_hundred_thousand_step_runs_list_compare_and_lineage(
    engine: str,
    repo: object,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    record_property: RecordProperty,
) -> None:
    from zenml.repository import Repository
    from zenml.testing.history import METRIC, write_history

    if engine != "sqlite":
        monkeypatch.setenv("ZEN_METADATA_STORE", _url(engine, tmp_path, request))
    repository = Repository(tmp_path)
    metadata = repository.stores().metadata
    timings: dict[str, float] = {}
    started = time.monotonic()
    history = write_history(metadata, runs=RUNS, steps_per_run=STEPS)
    timings["write"] = time.monotonic() - started
    newest, previous = RUNS - 1, RUNS - 2  # run 4999 failed (every tenth does); 4998 completed
    ids = history.run_ids

    assert _count(metadata, "SELECT COUNT(*) FROM step_runs") == RUNS * STEPS == 100_000
    assert repository.pipelines()[0].run_count == RUNS
    assert len(metadata.runs(pipeline="history")) == RUNS
    assert len(metadata.runs(status="failed")) == RUNS // 10

    listing = _timed("zen runs list", timings, [ZEN, "runs", "list"], tmp_path)
    assert RUN_ID.findall(listing.stdout) == [ids[r] for r in range(newest, newest - 50, -1)]

    ranked = _timed("zen runs list --sort", timings, [ZEN, "runs", "list", "--sort", METRIC, "-n", "3"], tmp_path)
    completed = [r for r in range(RUNS) if not history.failed(r)]
    best = sorted(completed, key=history.accuracy, reverse=True)[:3]
    assert RUN_ID.findall(ranked.stdout) == [ids[r] for r in best]

    started = time.monotonic()
    comparison = repository.compare(ids[previous], ids[newest])
    timings["compare (API)"] = time.monotonic() - started
    steps = {step.name: step for step in comparison.steps}
    assert len(steps) == STEPS
    assert steps["step_00"].params == {"alpha": (history.alpha(previous), history.alpha(newest))}
    assert steps["step_01"].inputs == {"x": (history.content_hash(previous, 0), history.content_hash(newest, 0))}
    assert steps["step_19"].status == ("completed", "failed")
    assert comparison.metrics == {"step_19": {METRIC: (history.accuracy(previous), None)}}
    compared = _timed("zen runs compare", timings, [ZEN, "runs", "compare", ids[previous], ids[newest]], tmp_path)
    assert ids[previous] in compared.stdout and ids[newest] in compared.stdout

    middle = RUNS // 2  # an old run: the query must not depend on recency
    started = time.monotonic()
    final = repository.run(ids[middle]).steps["step_19"].outputs["output"]
    lineage = final.lineage()
    timings["lineage (API)"] = time.monotonic() - started
    assert final.id == history.artifact_id(middle, STEPS - 1)
    assert sorted(s.name for s in lineage.steps.values()) == [history.step_name(i) for i in range(STEPS)]
    assert set(lineage.artifacts) == {history.artifact_id(middle, i) for i in range(STEPS)}
    assert len(lineage.edges) == STEPS + (STEPS - 1)  # every output, every input
    producer = lineage.producer(final.id)
    assert producer is not None and producer.id == history.step_id(middle, STEPS - 1)
    assert lineage.inputs_of(producer.id) == {"x": history.artifact_id(middle, STEPS - 2)}
    assert lineage.artifacts[history.artifact_id(middle, 0)].content_hash == history.content_hash(middle, 0)

    print(f"\n{engine}, {RUNS * STEPS:,} step runs: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))
    for name, seconds in timings.items():
        record_property(f"{engine}_100k_{name}_s", round(seconds, 3))
