"""The artifact store on S3 (s3fs) against moto's standalone S3 server on 127.0.0.1."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from zenml import pipeline, step
from zenml.exceptions import ArtifactError

pytest.importorskip("s3fs", reason="S3 tests need the s3 extra: pip install 'zenml[s3]'")


@pytest.fixture
def s3_options(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Credentials and endpoint for the moto server, and a fresh bucket."""
    import s3fs

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    options: dict[str, object] = {"client_kwargs": {"endpoint_url": s3_endpoint}}
    filesystem = s3fs.S3FileSystem(**options)
    if not filesystem.exists("zen-bucket"):
        filesystem.mkdir("zen-bucket")
    return options


@step
def make_array(n: int = 1000) -> np.ndarray:
    return np.arange(n, dtype=np.float64)


@step
def total(values: np.ndarray) -> float:
    return float(values.sum())


@pipeline
def s3_pipeline() -> None:
    total(make_array())


def test_round_trip_and_manifest_written_last(s3_options: dict[str, object]) -> None:
    import s3fs

    from zenml.artifacts import ArtifactStore

    store = ArtifactStore("s3://zen-bucket/unit", options=s3_options)
    stored = store.save({"a": [1, 2]}, ("run", "step", "out"))
    assert stored.uri == "s3://zen-bucket/unit/run/step/out"
    assert store.load(stored) == {"a": [1, 2]}
    files = s3fs.S3FileSystem(**s3_options).find("zen-bucket/unit/run/step/out")
    assert sorted(Path(f).name for f in files) == [".zenml-artifact.json", "value.json"]
    assert not s3fs.S3FileSystem(**s3_options).find("zen-bucket/unit/.staging")


def test_tampered_object_is_an_artifact_error(s3_options: dict[str, object]) -> None:
    import s3fs

    from zenml.artifacts import ArtifactStore

    store = ArtifactStore("s3://zen-bucket/tamper", options=s3_options)
    stored = store.save(np.arange(5), ("run", "step", "out"))
    s3fs.S3FileSystem(**s3_options).pipe("zen-bucket/tamper/run/step/out/array.npy", b"not an array")
    with pytest.raises(ArtifactError, match="content hash"):
        store.load(stored, "output 'out'")


def test_pipeline_runs_with_its_artifacts_on_s3(s3_options: dict[str, object], repo: object,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZEN_ARTIFACT_STORE", "s3://zen-bucket/pipelines")
    monkeypatch.setenv("ZEN_ARTIFACT_STORE_OPTIONS", json.dumps(s3_options))
    run = s3_pipeline.run()
    assert run.status == "completed"
    assert run.steps["total"].outputs["output"].read() == float(sum(range(1000)))
    assert run.steps["make_array"].outputs["output"].uri.startswith("s3://zen-bucket/pipelines/")
    again = s3_pipeline.run()
    assert [s.status for s in again.steps.values()] == ["cached", "cached"]
    assert "testing-secret" not in Path(str(run.spec.stack.artifact_store)).as_posix()
    assert os.environ["AWS_SECRET_ACCESS_KEY"] not in run.spec.to_yaml()
