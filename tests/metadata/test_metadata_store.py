"""``SQLMetadataStore`` on SQLite, MariaDB and PostgreSQL: one module, the same assertions everywhere."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from zenml.artifacts import StoredArtifact
from zenml.exceptions import MetadataStoreError
from zenml.metadata import ArtifactRecord, SQLMetadataStore
from zenml.metadata.schema import HEAD_REVISION

pytestmark = pytest.mark.services

TABLES = {"alembic_version", "pipelines", "runs", "step_runs", "artifacts", "events", "metrics", "deployments"}


@pytest.fixture
def store(metadata_url: str) -> Iterator[SQLMetadataStore]:
    opened = SQLMetadataStore(metadata_url)
    yield opened
    opened.close()


def _exited_pid() -> int:
    probe = subprocess.Popen(["true"])
    probe.wait()
    return probe.pid


def _artifact(name: str, content: str = "a", size: int = 10) -> StoredArtifact:
    return StoredArtifact(
        uri=f"/store/{name}",
        format="json",
        materializer="zenml.artifacts.materializers.JSONMaterializer",
        data_type="builtins.int",
        content_hash=f"blake3:{content * 64}"[: len("blake3:") + 64],
        size=size,
    )


def _run(store: SQLMetadataStore, run_id: str, pipeline: str = "pipe", created_at: float | None = None,
         git: dict[str, Any] | None = None) -> None:
    store.create_run(
        run_id=run_id,
        pipeline=pipeline,
        spec_path=f"pipelines/{pipeline}/{run_id}.yaml",
        spec_sha256="f" * 64,
        orchestrator="local",
        created_at=created_at if created_at is not None else time.time(),
        git=git,
    )


def _step(store: SQLMetadataStore, run_id: str, name: str, key: str | None = "k1", **params: Any) -> int:
    return store.start_step(
        run_id=run_id, name=name, type_=f"flows.{name}", params=params, cache_key=key, code_hash="c" * 64,
        cache_components={"type": f"flows.{name}", "params": params},
    )


def test_schema_is_created_on_first_open(metadata_url: str) -> None:
    engine = sa.create_engine(metadata_url)
    try:
        with engine.connect() as connection:
            assert not TABLES & set(sa.inspect(connection).get_table_names())
        SQLMetadataStore(metadata_url).close()
        with engine.connect() as connection:
            assert TABLES <= set(sa.inspect(connection).get_table_names())
            assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == HEAD_REVISION
        reopened = SQLMetadataStore(metadata_url)  # a second open finds the schema at head
        assert reopened.runs() == []
        assert reopened.pipelines() == []
        reopened.close()
    finally:
        engine.dispose()


def test_run_lifecycle_is_recorded(store: SQLMetadataStore) -> None:
    created = 1_700_000_000.123456
    _run(store, "20240101-000000-aaaa", created_at=created,
         git={"commit": "ab" * 20, "dirty": True, "diff_sha256": "d" * 64})
    run = store.get_run("20240101-000000-aaaa")
    assert run.status == "running"
    assert run.pipeline == "pipe"
    assert run.created_at == created
    assert run.spec_path == "pipelines/pipe/20240101-000000-aaaa.yaml"
    assert (run.git_commit, run.git_dirty, run.git_diff_sha256) == ("ab" * 20, True, "d" * 64)
    assert run.started_at is not None and run.ended_at is None and run.duration is None
    assert run.pid is not None and run.host

    message = "ValueError: " + "boom " * 5000  # long messages fit (TEXT on every engine)
    store.set_run_status(run.id, "failed", error_step="train", error_type="ValueError", error_message=message)
    failed = store.get_run(run.id)
    assert (failed.status, failed.error_step, failed.error_type, failed.error_message) == (
        "failed", "train", "ValueError", message)
    assert failed.ended_at is not None and failed.started_at == run.started_at and failed.duration is not None
    assert 0 <= failed.duration <= time.time() - failed.started_at  # it ended before now

    store.set_run_status(run.id, "running")
    assert store.get_run(run.id).ended_at is None
    store.set_run_status(run.id, "completed")
    done = store.get_run(run.id)
    assert (done.status, done.error_type, done.error_step) == ("completed", None, None)

    _run(store, "r-nogit", git=None)
    no_git = store.get_run("r-nogit")
    assert (no_git.git_commit, no_git.git_dirty, no_git.git_diff_sha256) == (None, None, None)


def test_steps_outputs_lineage_and_metrics(store: SQLMetadataStore) -> None:
    _run(store, "run-1")
    load_id = _step(store, "run-1", "load", key="key-load", rows=3, note="ünïcode")
    [running] = store.step_runs("run-1")
    assert (running.status, running.ended_at, running.params) == ("running", None, {"rows": 3, "note": "ünïcode"})
    assert running.cache_components == {"type": "flows.load", "params": {"rows": 3, "note": "ünïcode"}}
    ids = store.finish_step(load_id, status="completed", inputs={}, outputs={"output": _artifact("load", "1", 42)},
                            metrics={"rows": 3})
    train_id = _step(store, "run-1", "train", key="key-train")
    train_ids = store.finish_step(
        train_id,
        status="completed",
        inputs={"data": ids["output"]},
        outputs={"model": _artifact("model", "2"), "history": _artifact("history", "3")},
        metrics={"accuracy": 0.875, "loss": 1e-12},
    )

    steps = store.step_runs("run-1")
    assert [s.name for s in steps] == ["load", "train"]
    assert all(s.status == "completed" and s.duration is not None for s in steps)
    assert store.step_run(train_id).name == "train"

    load_outputs = store.step_artifacts(load_id, "output")
    assert list(load_outputs) == ["output"]
    record = load_outputs["output"]
    assert (record.uri, record.size, record.content_hash, record.producer_id) == (
        "/store/load", 42, "blake3:" + "1" * 64, load_id)
    assert store.step_artifacts(train_id, "input") == {"data": record}
    assert set(store.step_artifacts(train_id, "output")) == {"model", "history"}
    assert store.artifact(ids["output"]) == record

    assert store.run_outputs("run-1") == {
        ("load", "output"): record,
        ("train", "model"): store.artifact(train_ids["model"]),
        ("train", "history"): store.artifact(train_ids["history"]),
    }
    listed = store.artifacts(run_id="run-1")
    assert [(r.id, run, step, name) for r, run, step, name in listed][0][0] == max(train_ids.values())
    assert {(step, name) for _r, _run, step, name in listed} == {("load", "output"), ("train", "model"),
                                                                  ("train", "history")}
    assert len(store.artifacts(limit=1)) == 1

    events = store.events_of_artifact(ids["output"])
    assert [(e.step_run_id, e.kind, e.name) for e in events] == [(load_id, "output", "output"),
                                                                 (train_id, "input", "data")]

    assert store.metrics("run-1") == {"load": {"rows": 3.0}, "train": {"accuracy": 0.875, "loss": 1e-12}}
    assert store.step_metrics(train_id) == {"accuracy": 0.875, "loss": 1e-12}
    assert store.metric_by_run("accuracy") == {"run-1": 0.875}

    artifacts, step_runs, edges = store.lineage(train_ids["model"])
    assert set(artifacts) == {train_ids["model"], ids["output"]}
    assert set(step_runs) == {train_id, load_id}
    assert (train_id, ids["output"], "input", "data") in [(e.step_run_id, e.artifact_id, e.kind, e.name) for e in edges]


def test_failed_step_records_error_and_hides_outputs(store: SQLMetadataStore) -> None:
    _run(store, "run-f")
    step_id = _step(store, "run-f", "explode")
    store.fail_step(step_id, status="failed", error_type="ZeroDivisionError", error_message="division by zero")
    record = store.step_run(step_id)
    assert (record.status, record.error_type, record.error_message) == (
        "failed", "ZeroDivisionError", "division by zero")
    assert record.ended_at is not None
    assert store.run_outputs("run-f") == {}
    assert store.find_cached("k1") == []


def test_restarting_a_step_replaces_the_earlier_attempt(store: SQLMetadataStore) -> None:
    _run(store, "run-r")
    upstream = _step(store, "run-r", "up", key="up")
    up_ids = store.finish_step(upstream, status="completed", inputs={}, outputs={"output": _artifact("up")},
                               metrics={})
    first = _step(store, "run-r", "flaky", key="old-key", attempt=1)
    store.finish_step(first, status="completed", inputs={"x": up_ids["output"]},
                      outputs={"output": _artifact("flaky-1", "4")}, metrics={"m": 1.0})
    store.fail_step(first, status="failed", error_type="RuntimeError", error_message="first try")

    second = _step(store, "run-r", "flaky", key="new-key", attempt=2)
    assert second == first
    records = [s for s in store.step_runs("run-r") if s.name == "flaky"]
    assert len(records) == 1
    retried = records[0]
    assert (retried.status, retried.cache_key, retried.params) == ("running", "new-key", {"attempt": 2})
    assert (retried.error_type, retried.error_message, retried.ended_at, retried.cached_from_id) == (
        None, None, None, None)
    assert store.step_artifacts(second, "input") == {}
    assert store.step_artifacts(second, "output") == {}
    assert store.step_metrics(second) == {}
    store.finish_step(second, status="completed", inputs={"x": up_ids["output"]},
                      outputs={"output": _artifact("flaky-2", "5")}, metrics={"m": 2.0})
    assert store.run_outputs("run-r")[("flaky", "output")].uri == "/store/flaky-2"
    assert store.metrics("run-r") == {"flaky": {"m": 2.0}}


def test_find_cached_returns_completed_executions_newest_first(store: SQLMetadataStore) -> None:
    for index in range(3):
        _run(store, f"run-{index}")
        step_id = _step(store, f"run-{index}", "square", key="shared-key")
        store.finish_step(step_id, status="completed", inputs={}, outputs={"output": _artifact(f"sq-{index}")},
                          metrics={"n": float(index)})
    _run(store, "run-other")
    other = _step(store, "run-other", "square", key="other-key")
    store.finish_step(other, status="completed", inputs={}, outputs={"output": _artifact("other")}, metrics={})

    found = store.find_cached("shared-key")
    assert [record.run_id for record, _outputs in found] == ["run-2", "run-1", "run-0"]
    assert [outputs["output"].uri for _record, outputs in found] == ["/store/sq-2", "/store/sq-1", "/store/sq-0"]
    assert len(store.find_cached("shared-key", limit=2)) == 2
    assert store.find_cached("missing-key") == []

    # a cache hit links the earlier artifact: no new artifact row, a pointer to the source
    source, outputs = found[0]
    _run(store, "run-hit")
    hit = _step(store, "run-hit", "square", key="shared-key")
    store.finish_step(hit, status="cached", inputs={}, outputs=outputs, metrics={"n": 2.0},
                      cached_from_id=source.id)
    record = store.step_run(hit)
    assert (record.status, record.cached_from_id) == ("cached", source.id)
    assert store.run_outputs("run-hit") == {("square", "output"): outputs["output"]}
    assert [r.run_id for r, _o in store.find_cached("shared-key")] == ["run-2", "run-1", "run-0"]
    assert len(store.artifacts()) == 4
    assert isinstance(outputs["output"], ArtifactRecord)
    assert [e.kind for e in store.events_of_artifact(outputs["output"].id)] == ["output", "output"]


def test_find_cached_outputs_are_exactly_each_executions_step_artifacts(store: SQLMetadataStore) -> None:
    # find_cached fetches executions and outputs in one query: the limit counts executions, not
    # output rows; an execution without outputs still comes back; inputs are never outputs
    _run(store, "run-up")
    upstream = _step(store, "run-up", "up", key="up")
    up_ids = store.finish_step(upstream, status="completed", inputs={}, outputs={"output": _artifact("up")},
                               metrics={})
    for index in range(3):
        _run(store, f"run-{index}")
        many = _step(store, f"run-{index}", "many", key="many-key")
        outputs = {name: _artifact(f"{name}-{index}") for name in ("zeta", "alpha", "mid")}
        store.finish_step(many, status="completed", inputs={"x": up_ids["output"]}, outputs=outputs, metrics={})
        none = _step(store, f"run-{index}", "none", key="none-key")
        store.finish_step(none, status="completed", inputs={"x": up_ids["output"]}, outputs={}, metrics={})

    found = store.find_cached("many-key", limit=2)
    assert [record.run_id for record, _outputs in found] == ["run-2", "run-1"]
    for record, outputs in found:
        assert record == store.step_run(record.id)
        assert outputs == store.step_artifacts(record.id, "output")
        assert list(outputs) == ["zeta", "alpha", "mid"]  # in the order the step wrote them
    empty = store.find_cached("none-key")
    assert [(record.run_id, outputs) for record, outputs in empty] == [("run-2", {}), ("run-1", {}), ("run-0", {})]


def test_runs_ordering_and_filtering(store: SQLMetadataStore) -> None:
    base = 1_700_000_000.0
    _run(store, "a-1", pipeline="alpha", created_at=base + 1)
    _run(store, "b-1", pipeline="beta", created_at=base + 2)
    _run(store, "a-2", pipeline="alpha", created_at=base + 3)
    _run(store, "a-3", pipeline="alpha", created_at=base + 3)  # same time: id breaks the tie
    store.set_run_status("a-1", "failed", error_type="X", error_message="y")
    store.set_run_status("b-1", "completed")

    assert [r.id for r in store.runs()] == ["a-3", "a-2", "b-1", "a-1"]
    assert [r.id for r in store.runs(pipeline="alpha")] == ["a-3", "a-2", "a-1"]
    assert [r.id for r in store.runs(pipeline="alpha", limit=2)] == ["a-3", "a-2"]
    assert [r.id for r in store.runs(status="failed")] == ["a-1"]
    assert [r.id for r in store.runs(pipeline="beta", status="completed")] == ["b-1"]
    assert store.runs(pipeline="gamma") == []

    pipelines = store.pipelines()
    assert [(p.name, p.run_count, p.last_run_at) for p in pipelines] == [("alpha", 3, base + 3), ("beta", 1, base + 2)]
    assert all(p.created_at > 0 for p in pipelines)


def test_get_run_by_unique_prefix(store: SQLMetadataStore) -> None:
    _run(store, "20240101-120000-abcd1234")
    _run(store, "20240101-120000-abff0000")
    _run(store, "x_y-1")
    _run(store, "xzy-2")
    assert store.get_run("20240101-120000-abc").id == "20240101-120000-abcd1234"
    assert store.get_run("20240101-120000-abff0000").id == "20240101-120000-abff0000"
    # LIKE wildcards in the prefix are taken literally
    assert store.get_run("x_").id == "x_y-1"
    assert store.get_run("xz").id == "xzy-2"
    with pytest.raises(MetadataStoreError, match=r"prefix '20240101-120000-ab' matches several runs"):
        store.get_run("20240101-120000-ab")
    with pytest.raises(MetadataStoreError, match=r"no run 'nothing-like-this'.*zen runs list"):
        store.get_run("nothing-like-this")
    with pytest.raises(MetadataStoreError, match="no run '%'"):
        store.get_run("%")


def test_missing_records_and_duplicates_are_metadata_store_errors(store: SQLMetadataStore) -> None:
    with pytest.raises(MetadataStoreError, match="no step run with id 999"):
        store.step_run(999)
    with pytest.raises(MetadataStoreError, match=r"no artifact with id 999.*zen artifacts list"):
        store.artifact(999)
    assert store.step_runs("nope") == []
    assert store.metrics("nope") == {}
    _run(store, "dup")
    with pytest.raises(MetadataStoreError, match="IntegrityError"):
        _run(store, "dup")
    assert [r.id for r in store.runs()] == ["dup"]
    assert [(p.name, p.run_count) for p in store.pipelines()] == [("pipe", 1)]


def test_dead_runs_are_reaped_as_crashed(store: SQLMetadataStore) -> None:
    _run(store, "alive")
    _run(store, "finished")
    store.set_run_status("finished", "completed")
    assert store.reap_dead_runs() == []  # this process is alive and just beat
    assert store.reap_dead_runs(stale_after=-1.0) == ["alive"]  # a heartbeat older than the limit
    crashed = store.get_run("alive")
    assert (crashed.status, crashed.error_type) == ("crashed", "Crashed")
    assert crashed.ended_at is not None
    assert store.get_run("finished").status == "completed"


def test_reaping_a_dead_run_crashes_its_unfinished_steps_only(store: SQLMetadataStore) -> None:
    _run(store, "dead")
    done = _step(store, "dead", "done")
    store.finish_step(done, status="completed", inputs={}, outputs={"out": _artifact("done")}, metrics={})
    failed = _step(store, "dead", "failed")
    store.fail_step(failed, status="failed", error_type="ValueError", error_message="bad")
    _step(store, "dead", "mid")  # the step the killed process was running
    _run(store, "other")
    _step(store, "other", "live")  # another run's running step is not touched

    with store.engine.begin() as connection:  # "dead" was owned by a process that has exited
        connection.execute(sa.text("UPDATE runs SET pid = :pid WHERE id = 'dead'"), {"pid": _exited_pid()})
    assert store.reap_dead_runs() == ["dead"]
    assert store.get_run("other").status == "running"
    steps = {(s.run_id, s.name): s for run in ("dead", "other") for s in store.step_runs(run)}
    assert steps["dead", "done"].status == "completed" and steps["dead", "done"].error_type is None
    assert (steps["dead", "failed"].status, steps["dead", "failed"].error_type) == ("failed", "ValueError")
    crashed = steps["dead", "mid"]
    assert (crashed.status, crashed.error_type) == ("crashed", "Crashed")
    assert crashed.error_message == "the process running it died (killed, or its machine stopped)"
    assert crashed.ended_at is not None and crashed.ended_at == store.get_run("dead").ended_at
    assert [s.status for s in store.step_runs("other")] == ["running"]


def test_runs_by_metric_sorts_and_limits_in_the_database(store: SQLMetadataStore) -> None:
    # run id -> (pipeline, created_at, [values logged by its steps in order]); the last step's value counts
    runs = {
        "r-old": ("pipe", 1.0, [0.5]),
        "r-mid": ("pipe", 2.0, [0.9, 0.7]),  # 0.7: logged by its later step
        "r-new": ("pipe", 3.0, [0.5]),  # ties r-old: the newer run first
        "r-other": ("other", 4.0, [0.99]),
        "r-none": ("pipe", 5.0, []),  # never logged it: not listed
    }
    for run_id, (pipeline, created, values) in runs.items():
        _run(store, run_id, pipeline=pipeline, created_at=created)
        for index, value in enumerate(values):
            step_id = _step(store, run_id, f"s{index}")
            store.finish_step(step_id, status="completed", inputs={}, outputs={}, metrics={"accuracy": value})
    assert [(r.id, v) for r, v in store.runs_by_metric("accuracy")] == [
        ("r-other", 0.99), ("r-mid", 0.7), ("r-new", 0.5), ("r-old", 0.5)]
    assert [r.id for r, _ in store.runs_by_metric("accuracy", ascending=True)] == ["r-new", "r-old", "r-mid", "r-other"]
    assert [r.id for r, _ in store.runs_by_metric("accuracy", pipeline="pipe", limit=2)] == ["r-mid", "r-new"]
    assert store.runs_by_metric("loss") == []
    # the same values as metric_by_run, which the list's metric columns show
    assert {r.id: v for r, v in store.runs_by_metric("accuracy")} == store.metric_by_run("accuracy")


def test_deployments_are_recorded_with_the_step_and_listed_newest_first(store: SQLMetadataStore) -> None:
    _run(store, "r1", pipeline="cancer")
    _run(store, "r2", pipeline="cancer")
    _run(store, "r3", pipeline="iris")
    gate = {"min_metrics": {"accuracy": 0.9}, "max_metrics": {}, "passed": True}
    for run_id, deployed in (("r1", True), ("r2", False), ("r3", True)):
        step = _step(store, run_id, "deployer", key=None)
        store.finish_step(step, status="completed", inputs={}, outputs={}, metrics={"deployed": float(deployed)},
                          deployment={"deployed": deployed, "uri": f"/models/{run_id}" if deployed else None,
                                      "gate": {**gate, "passed": deployed}, "metrics": {"accuracy": 0.95, "auc": 0.99},
                                      "reason": None if deployed else "accuracy 0.85 is not at least 0.9"})
    listed = store.deployments()
    assert [(d.run_id, d.pipeline, d.step, d.deployed, d.uri) for d in listed] == [
        ("r3", "iris", "deployer", True, "/models/r3"),
        ("r2", "cancer", "deployer", False, None),
        ("r1", "cancer", "deployer", True, "/models/r1"),
    ]
    assert listed[1].reason == "accuracy 0.85 is not at least 0.9" and listed[1].gate["passed"] is False
    assert list(listed[0].metrics) == ["accuracy", "auc"]  # the evaluator's order
    assert [d.run_id for d in store.deployments(pipeline="cancer", deployed_only=True)] == ["r1"]
    assert [d.run_id for d in store.deployments(limit=1)] == ["r3"]
    # a new attempt of the step starts afresh: its earlier deployment row goes with its other records
    _step(store, "r1", "deployer", key=None)
    assert [d.run_id for d in store.deployments(pipeline="cancer")] == ["r2"]
