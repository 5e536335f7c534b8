"""``execute_step``: the one function every orchestrator calls to run (or reuse) a step."""

from __future__ import annotations

import shutil
import time
import uuid
from typing import Any

from zenml.artifacts.store import StoredArtifact
from zenml.exceptions import ArtifactError, ConfigError, StepError, ZenMLError
from zenml.metadata.records import ArtifactRecord
from zenml.pipelines.spec import BackendSpec, RunSpec, StepSpec, parse_reference
from zenml.runtime.cache import cache_components, cache_key, code_hash
from zenml.runtime.codehash import code_fingerprint
from zenml.runtime.events import NullListener, RunListener, StepOutcome
from zenml.runtime.loading import add_code_paths, load_backend, load_step
from zenml.runtime.stores import Stores
from zenml.steps.base import BaseStep
from zenml.steps.context import Metrics, StepContext


def execute_step(
    spec: RunSpec, step_name: str, stores: Stores, *, listener: RunListener | None = None, use_cache: bool = True
) -> StepOutcome:
    """Run step ``step_name`` of ``spec``: rebuild it, resolve inputs, reuse the cache or execute it.

    The step run is recorded before anything runs and finished (completed, cached or failed)
    afterwards, with outputs, lineage and metrics in one transaction.

    Raises:
        StepError: the step raised or returned bad outputs (the step run is recorded failed).
        ConfigError: the spec names an unknown step or a type that cannot be rebuilt.
    """
    listener = listener or NullListener()
    step_spec = _step_spec(spec, step_name)
    add_code_paths(spec, stores.project_root)
    step = load_step(step_name, step_spec)
    inputs = _input_artifacts(spec, step_name, step_spec, stores)
    fingerprint = code_fingerprint(step, stores.project_root)
    components = cache_components(
        step_spec, fingerprint, {name: rec.content_hash for name, rec in inputs.items()}, step.source_version()
    )
    training = trainer_signature(spec, step_name, step)
    if training:
        components["training"] = training
    key = cache_key(components)
    started = time.perf_counter()
    step_run_id = stores.metadata.start_step(
        run_id=spec.run_id,
        name=step_name,
        type_=step_spec.type,
        params=step_spec.params,
        cache_key=key,
        code_hash=code_hash(fingerprint),
        cache_components=components,
    )
    listener.step_started(step_name)
    try:
        status = _reuse_cached(step_run_id, key, inputs, stores) if use_cache and step_spec.enable_cache else None
        if status is None:
            status = _run_and_record(spec, step_name, step, step_run_id, inputs, stores)
    except BaseException as exc:
        error = _as_step_error(step_name, exc)
        stores.metadata.fail_step(
            step_run_id, status="failed", error_type=error.error_type, error_message=error.error_message
        )
        outcome = StepOutcome(step_name, "failed", time.perf_counter() - started, error)
        listener.step_finished(outcome)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise error from exc
    outcome = StepOutcome(step_name, status, time.perf_counter() - started)
    listener.step_finished(outcome)
    return outcome


def trainer_signature(spec: RunSpec, step_name: str, step: BaseStep) -> dict[str, Any]:
    """For trainer steps, what of the training backend changes the model (e.g. the DDP world size)."""
    from zenml.steps.trainer.base import BaseTrainerStep

    if not isinstance(step, BaseTrainerStep):
        return {}
    backend = load_backend("training", backend_for(spec, step_name, "training"))
    signature: dict[str, Any] = getattr(backend, "result_signature", dict)()
    return signature


def _step_spec(spec: RunSpec, step_name: str) -> StepSpec:
    if step_name not in spec.steps:
        raise ConfigError(f"run spec {spec.run_id} has no step '{step_name}' (steps: {', '.join(spec.steps)})")
    return spec.steps[step_name]


def _input_artifacts(spec: RunSpec, step_name: str, step_spec: StepSpec, stores: Stores) -> dict[str, ArtifactRecord]:
    if not step_spec.inputs:
        return {}
    return resolve_inputs(spec, step_name, step_spec, stores)


def resolve_inputs(spec: RunSpec, step_name: str, step_spec: StepSpec, stores: Stores) -> dict[str, ArtifactRecord]:
    """The artifacts a step's inputs name: outputs of this run, or (``run:ID/step.output``) of another."""
    produced: dict[str, dict[tuple[str, str], ArtifactRecord]] = {}
    inputs: dict[str, ArtifactRecord] = {}
    for input_name, reference in step_spec.inputs.items():
        run_id, source, output = parse_reference(reference)
        run_id = stores.metadata.get_run(run_id).id if run_id else spec.run_id
        if run_id not in produced:
            needed = [parse_reference(ref)[1] for ref in step_spec.inputs.values()]
            produced[run_id] = stores.metadata.run_outputs(run_id, needed)
        if (source, output) not in produced[run_id]:
            hint = f"run '{source}' first" if run_id == spec.run_id else f"run {run_id} has no such output"
            raise ConfigError(
                f"step '{step_name}' cannot start: its input '{input_name}' needs '{source}.{output}' of run "
                f"{run_id}, which does not exist (yet); {hint}"
            )
        inputs[input_name] = produced[run_id][(source, output)]
    return inputs


def _reuse_cached(step_run_id: int, key: str, inputs: dict[str, ArtifactRecord], stores: Stores) -> str | None:
    for earlier, outputs in stores.metadata.find_cached(key):
        try:
            for name, record in outputs.items():
                stores.artifacts.check_present(_stored(record), f"cached output '{name}'")
        except ArtifactError:
            continue  # its artifacts were deleted: try an older execution, else run the step
        stores.metadata.finish_step(
            step_run_id,
            status="cached",
            inputs={n: r.id for n, r in inputs.items()},
            outputs=outputs,
            metrics=stores.metadata.step_metrics(earlier.id),
            cached_from_id=earlier.id,
        )
        return "cached"
    return None


def _run_and_record(
    spec: RunSpec, step_name: str, step: BaseStep, step_run_id: int, inputs: dict[str, ArtifactRecord], stores: Stores
) -> str:
    step_spec = spec.steps[step_name]
    values = {
        name: stores.artifacts.load(_stored(record), f"input '{name}' of step '{step_name}'")
        for name, record in inputs.items()
    }
    context = StepContext(
        step_name=step_name,
        run_id=spec.run_id,
        pipeline_name=spec.pipeline.name,
        processing=load_backend("processing", step_spec.processing or spec.backends.processing),
        training=load_backend("training", step_spec.training or spec.backends.training),
        scratch_factory=stores.artifacts.scratch_dir,
    )
    try:
        outputs = step.execute(values, context)
        _log_metrics_output(outputs, context)
        stored = {
            name: _save_output(stores, spec, step_name, name, value, step_spec) for name, value in outputs.items()
        }
    finally:
        if context.scratch_dir is not None:
            shutil.rmtree(context.scratch_dir, ignore_errors=True)
    stores.metadata.finish_step(
        step_run_id,
        status="completed",
        inputs={n: r.id for n, r in inputs.items()},
        outputs=stored,
        metrics=context.metrics,
    )
    return "completed"


def _log_metrics_output(outputs: dict[str, Any], context: StepContext) -> None:
    """A ``Metrics`` output, or an output named ``metrics``, is also recorded as the step's metrics."""
    for name, value in outputs.items():
        if isinstance(value, Metrics) or (name == "metrics" and isinstance(value, dict)):
            for metric, number in value.items():
                if isinstance(number, (int, float)) and not isinstance(number, bool):
                    context.log_metric(str(metric), number)


def _save_output(
    stores: Stores, spec: RunSpec, step_name: str, output: str, value: Any, step_spec: StepSpec
) -> StoredArtifact:
    materializer = stores.artifacts.materializers.for_value(value)
    declared = step_spec.outputs.get(output, "auto")
    if declared not in ("auto", materializer.format):
        raise StepError(
            step_name,
            "TypeError",
            f"output '{output}' is declared as format '{declared}' but the value is stored as "
            f"'{materializer.format}' ({type(value).__name__})",
        )
    segments: tuple[str, ...] = (spec.run_id, step_name, output)
    if stores.artifacts.is_present(stores.artifacts.storage.uri_of(stores.artifacts.artifact_path(*segments))):
        # An earlier attempt of this step in this run (a resumed run, a retried worker) published
        # it; artifacts are immutable and may be read already, so this attempt writes beside it.
        segments = (spec.run_id, step_name, f"attempt-{uuid.uuid4().hex[:12]}", output)
    return stores.artifacts.save(value, segments, materializer)


def _stored(record: ArtifactRecord) -> StoredArtifact:
    return StoredArtifact(
        uri=record.uri,
        format=record.format,
        materializer=record.materializer,
        data_type=record.data_type,
        content_hash=record.content_hash,
        size=record.size,
    )


def _as_step_error(step_name: str, exc: BaseException) -> StepError:
    if isinstance(exc, StepError):
        return exc
    if isinstance(exc, ZenMLError):
        return StepError(step_name, type(exc).__name__, str(exc))
    return StepError(step_name, type(exc).__name__, str(exc) or repr(exc))


def backend_for(spec: RunSpec, step_name: str, kind: str) -> BackendSpec:
    """The backend spec of ``kind`` a step runs on (its own override, else the run's default)."""
    override: BackendSpec | None = getattr(spec.steps[step_name], kind)
    return override or getattr(spec.backends, kind)
