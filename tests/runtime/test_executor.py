"""``execute_step``: records completed, cached and failed steps with outputs, lineage and metrics."""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest

from zenml import BaseStep, Metrics, StepContext, pipeline, step
from zenml.backends.processing.local import LocalProcessing
from zenml.backends.training.local import LocalTraining
from zenml.engine import compile_pipeline, run_pipeline, write_spec
from zenml.exceptions import ConfigError, StepError
from zenml.pipelines.spec import RunSpec
from zenml.repository import Repository
from zenml.runtime import StepOutcome, Stores, execute_step
from zenml.runtime.cache import CACHE_FORMAT_VERSION

# -- steps and pipelines (module level, so they can be rebuilt from the spec) -------------------------


@step
def numbers(count: int = 4) -> list[int]:
    return list(range(count))


@step
def total(values: list[int], context: StepContext) -> int:
    context.log_metric("n_values", len(values))
    context.log_metric("mean", sum(values) / len(values))
    return sum(values)


class Power(BaseStep):
    def __init__(self, exponent: int = 2):
        self.exponent = exponent

    def process(self, x: int) -> np.ndarray:
        return np.array([x**self.exponent], dtype=np.int64)


@pipeline
def arithmetic() -> None:
    Power(exponent=3)(x=total(numbers()))


@step
def fragile(values: list[int], fail: bool = True) -> int:
    if fail:
        raise ValueError(f"cannot handle {len(values)} values")
    return len(values)


@step
def after_fragile(x: int) -> int:
    return x + 1


@pipeline
def breaking() -> None:
    after_fragile(fragile(numbers()))


@step
def mislabelled() -> int:
    return "not an int"  # type: ignore[return-value]


@pipeline
def lying() -> None:
    mislabelled()


class Scores(NamedTuple):
    metrics: Metrics
    best: float


@step
def evaluate() -> Scores:
    return Scores(Metrics(accuracy=0.9, loss=0.25), 0.9)


@pipeline
def evaluation() -> None:
    evaluate()


@step
def bad_metric(context: StepContext) -> int:
    context.log_metric("nan", float("nan"))
    return 0


@pipeline
def bad_metrics() -> None:
    bad_metric()


@step
def backend_report(context: StepContext) -> dict[str, Any]:
    return {
        "processing": type(context.processing).__name__,
        "workers": context.processing.workers,
        "training": type(context.training).__name__,
        "device": context.training.device,
        "step": context.step_name,
        "run": context.run_id,
        "pipeline": context.pipeline_name,
    }


@pipeline
def default_backends() -> None:
    backend_report()


@pipeline
def overridden_backends() -> None:
    backend_report.with_backend(LocalProcessing(workers=3)).with_backend(LocalTraining(device="cpu"))()


class Pair(NamedTuple):
    first: int
    second: object


@step
def two_outputs() -> Pair:
    # the second output has no materializer until the flag file exists (the "fixed" code)
    return Pair(1, [2] if Path("FIXED").exists() else {2})


@pipeline
def half_published() -> None:
    two_outputs()


# -- helpers -------------------------------------------------------------------------------------------


def _prepare(flow: Any, repository: Repository) -> tuple[RunSpec, Stores]:
    """Compile, persist and record a run without orchestrating it, as a worker would find it."""
    spec, repository, stack = compile_pipeline(flow, repository=repository)
    stores = repository.stores(stack)
    path = write_spec(spec, repository)
    stores.metadata.create_run(
        run_id=spec.run_id, pipeline=spec.pipeline.name, spec_path=str(path), spec_sha256=spec.sha256(),
        orchestrator="local", created_at=spec.created_at.timestamp(), git=None,
    )
    return spec, stores


class RecordingListener:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def step_started(self, name: str) -> None:
        self.events.append(("started", name))

    def step_finished(self, outcome: StepOutcome) -> None:
        self.events.append((outcome.status, outcome.name))


# -- executing -----------------------------------------------------------------------------------------


def test_execute_step_records_outputs_lineage_and_metrics(repo: Repository) -> None:
    spec, stores = _prepare(arithmetic, repo)
    listener = RecordingListener()
    started = time.perf_counter()
    outcomes = [execute_step(spec, name, stores, listener=listener) for name in ("numbers", "total", "power")]
    elapsed = time.perf_counter() - started
    assert [(o.name, o.status, o.error) for o in outcomes] == [
        ("numbers", "completed", None), ("total", "completed", None), ("power", "completed", None)]
    assert all(o.duration >= 0 for o in outcomes) and sum(o.duration for o in outcomes) <= elapsed
    assert listener.events == [("started", "numbers"), ("completed", "numbers"), ("started", "total"),
                               ("completed", "total"), ("started", "power"), ("completed", "power")]

    records = {s.name: s for s in stores.metadata.step_runs(spec.run_id)}
    assert {name: r.status for name, r in records.items()} == {n: "completed" for n in ("numbers", "total", "power")}
    assert records["numbers"].params == {"count": 4}
    assert records["power"].params == {"exponent": 3}
    assert records["power"].type.endswith("Power")
    version = f"v{CACHE_FORMAT_VERSION}:"
    assert all(r.cache_key and r.cache_key.startswith(version) and r.code_hash for r in records.values())
    assert records["power"].cache_components["outputs"] == {"output": "npy"}

    outputs = stores.metadata.run_outputs(spec.run_id)
    assert set(outputs) == {("numbers", "output"), ("total", "output"), ("power", "output")}
    assert outputs[("power", "output")].uri.endswith(f"{spec.run_id}/power/output")
    assert outputs[("power", "output")].format == "npy"
    assert stores.metadata.step_artifacts(records["total"].id, "input") == {"values": outputs[("numbers", "output")]}
    assert stores.metadata.step_artifacts(records["power"].id, "input") == {"x": outputs[("total", "output")]}
    assert stores.metadata.metrics(spec.run_id) == {"total": {"n_values": 4.0, "mean": 1.5}}

    run = repo.run(spec.run_id)
    assert run.steps["numbers"].output() == [0, 1, 2, 3]
    assert run.steps["total"].output() == 6
    np.testing.assert_array_equal(run.steps["power"].output(), np.array([216]))


def test_a_cache_hit_carries_the_source_metrics(repo: Repository) -> None:
    first = run_pipeline(arithmetic)
    second = run_pipeline(arithmetic)
    assert second.steps["total"].status == "cached"
    assert second.metrics() == first.metrics() == {"total": {"n_values": 4.0, "mean": 1.5}}


def test_a_step_whose_inputs_are_not_produced_yet_cannot_start(repo: Repository) -> None:
    spec, stores = _prepare(arithmetic, repo)
    with pytest.raises(ConfigError, match=r"step 'total' cannot start.*'numbers.output'.*run 'numbers' first"):
        execute_step(spec, "total", stores)
    assert stores.metadata.step_runs(spec.run_id) == []


def test_an_unknown_step_name_is_a_config_error(repo: Repository) -> None:
    spec, stores = _prepare(arithmetic, repo)
    with pytest.raises(ConfigError, match=r"has no step 'nope' \(steps: numbers, total, power\)"):
        execute_step(spec, "nope", stores)


def test_executing_a_step_again_in_the_same_run_replaces_the_attempt(repo: Repository) -> None:
    spec, stores = _prepare(arithmetic, repo)
    assert execute_step(spec, "numbers", stores).status == "completed"
    first_uri = stores.metadata.run_outputs(spec.run_id)[("numbers", "output")].uri
    assert execute_step(spec, "numbers", stores).status == "completed"  # a retried worker
    [record] = stores.metadata.step_runs(spec.run_id)
    assert record.status == "completed"
    outputs = stores.metadata.run_outputs(spec.run_id)
    assert list(outputs) == [("numbers", "output")]
    assert repo.run(spec.run_id).steps["numbers"].output() == [0, 1, 2, 3]
    assert Path(first_uri).is_dir(), "a published artifact is never replaced"


def test_resume_reruns_a_step_that_failed_after_publishing_an_output(repo: Repository, tmp_path: Path) -> None:
    from zenml.engine import resume_run

    with pytest.raises(StepError, match="no materializer stores values of type builtins.set"):
        run_pipeline(half_published)
    [failed] = repo.runs()
    assert failed.steps["two_outputs"].status == "failed"
    (tmp_path / "FIXED").write_text("1")
    resumed = resume_run(failed.id)
    assert resumed.status == "completed"
    assert resumed.steps["two_outputs"].outputs["first"].read() == 1
    assert resumed.steps["two_outputs"].outputs["second"].read() == [2]


def test_raising_step_fails_the_run_and_stops_later_steps(repo: Repository) -> None:
    with pytest.raises(StepError, match=r"step 'fragile' failed: ValueError: cannot handle 4 values") as info:
        run_pipeline(breaking)
    error = info.value
    assert (error.step, error.error_type, error.error_message) == ("fragile", "ValueError", "cannot handle 4 values")
    run = repo.run(error.run_id)  # type: ignore[attr-defined]
    assert run.status == "failed"
    assert (run.record.error_step, run.record.error_type, run.record.error_message) == (
        "fragile", "ValueError", "cannot handle 4 values")
    assert run.error == "step 'fragile' failed: ValueError: cannot handle 4 values"
    assert {name: s.status for name, s in run.steps.items()} == {
        "numbers": "completed",
        "fragile": "failed",
        "after_fragile": "skipped",
    }
    assert run.steps["fragile"].error == "ValueError: cannot handle 4 values"
    assert run.steps["fragile"].outputs == {}
    assert run.record.ended_at is not None
    fragile_folder = Path(repo.stores().artifacts.storage.root) / run.id / "fragile"
    assert not fragile_folder.exists()


def test_output_not_matching_its_annotation_is_a_step_error(repo: Repository) -> None:
    with pytest.raises(StepError, match=r"step 'mislabelled' failed: TypeError: output 'output' is annotated int"):
        run_pipeline(lying)
    [run] = repo.runs()
    assert run.status == "failed"
    step_record = run.steps["mislabelled"]
    assert step_record.status == "failed"
    assert step_record.record.error_type == "TypeError"
    assert "returned str" in (step_record.record.error_message or "")
    assert step_record.outputs == {}


def test_metrics_output_is_stored_as_metrics_and_as_an_artifact(repo: Repository) -> None:
    run = run_pipeline(evaluation)
    assert run.metrics() == {"evaluate": {"accuracy": 0.9, "loss": 0.25}}
    assert run.steps["evaluate"].outputs["metrics"].read() == {"accuracy": 0.9, "loss": 0.25}
    assert run.steps["evaluate"].outputs["best"].read() == 0.9


def test_invalid_metric_fails_the_step(repo: Repository) -> None:
    with pytest.raises(StepError, match=r"metric 'nan' must be a finite number"):
        run_pipeline(bad_metrics)
    [run] = repo.runs()
    assert run.steps["bad_metric"].status == "failed"
    assert run.metrics() == {}


def test_steps_get_the_run_default_backends(repo: Repository) -> None:
    run = run_pipeline(default_backends)
    report = run.steps["backend_report"].output()
    assert report == {
        "processing": "LocalProcessing", "workers": 1, "training": "LocalTraining", "device": "auto",
        "step": "backend_report", "run": run.id, "pipeline": "default_backends",
    }


def test_run_level_backend_options_reach_the_step_context(repo: Repository) -> None:
    run = run_pipeline(default_backends, backend_options={"processing": {"workers": 2}, "training": {"device": "cpu"}})
    report = run.steps["backend_report"].output()
    assert (report["workers"], report["device"]) == (2, "cpu")
    assert run.spec.backends.processing.params == {"workers": 2}


def test_per_step_backend_override_reaches_the_step_context(repo: Repository) -> None:
    run = run_pipeline(overridden_backends)
    report = run.steps["backend_report"].output()
    assert (report["processing"], report["workers"], report["training"], report["device"]) == (
        "LocalProcessing", 3, "LocalTraining", "cpu")
    step_spec = run.spec.steps["backend_report"]
    assert step_spec.processing is not None and step_spec.processing.name == "local"
    assert step_spec.processing.params == {"workers": 3}
    assert step_spec.training is not None and step_spec.training.params == {"device": "cpu"}
    assert run.spec.backends.processing.params == {}


def test_scratch_folders_are_removed_after_each_step(repo: Repository) -> None:
    run_pipeline(arithmetic)
    staging = Path(repo.stores().artifacts.storage.root) / ".staging"
    assert not staging.exists() or list(staging.iterdir()) == []


def test_a_run_on_a_memory_artifact_store(repo: Repository) -> None:
    import fsspec

    bucket = f"zen-exec-{uuid.uuid4().hex[:8]}"
    repo.register_stack("mem", artifact_store=f"memory://{bucket}")
    try:
        run = run_pipeline(arithmetic, stack="mem", repository=repo)
        assert run.status == "completed"
        output = run.steps["power"].outputs["output"]
        assert output.uri.startswith("memory://") and output.uri.endswith(f"{run.id}/power/output")
        np.testing.assert_array_equal(output.read(), np.array([216]))
        again = run_pipeline(arithmetic, stack="mem", repository=repo)
        assert {s.status for s in again.steps.values()} == {"cached"}
        assert not (repo.root / ".zen" / "artifacts" / run.id).exists()
    finally:
        filesystem = fsspec.filesystem("memory")
        if filesystem.exists(f"/{bucket}"):
            filesystem.rm(f"/{bucket}", recursive=True)


def test_deleted_step_output_folder_is_reported_on_read(repo: Repository) -> None:
    run = run_pipeline(arithmetic)
    artifact = run.steps["total"].outputs["output"]
    shutil.rmtree(artifact.uri)
    from zenml.exceptions import ArtifactError

    with pytest.raises(ArtifactError, match=rf"artifact {artifact.id} is missing"):
        artifact.read()
