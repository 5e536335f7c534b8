"""``execute_step``: the one function every orchestrator calls to run (or reuse) a step."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

from zenml.artifacts.store import StoredArtifact
from zenml.exceptions import ConfigError, StepError, ZenMLError, excerpt
from zenml.metadata.records import ArtifactRecord
from zenml.pipelines.spec import BackendSpec, RunSpec, StepSpec, parse_reference
from zenml.runtime.cache import cache_components, cache_key, code_hash, warn_uncacheable
from zenml.runtime.codehash import step_fingerprint
from zenml.runtime.data import serve_pinned
from zenml.runtime.deadline import StepTimeout, deadline
from zenml.runtime.events import NullListener, ProgressListener, RunListener, StepOutcome
from zenml.runtime.loading import add_code_paths, load_backend, load_step
from zenml.runtime.logcapture import StepLog, capture_output
from zenml.runtime.reuse import damaged_output, stored_artifact
from zenml.runtime.stores import Stores
from zenml.steps.base import BaseStep
from zenml.steps.context import Metrics, ProgressSink, StepContext, running
from zenml.steps.deployer import Deployment
from zenml.utils import collector
from zenml.utils.status import StepStatus

logger = logging.getLogger("zenml")
_ZENML_DIR = str(Path(__file__).resolve().parents[1])
#: How a step or run stopped by Ctrl-C (SIGINT) is recorded (error type ``KeyboardInterrupt``).
INTERRUPTED = "interrupted (Ctrl-C)"


def execute_step(
    spec: RunSpec,
    step_name: str,
    stores: Stores,
    *,
    listener: RunListener | None = None,
    use_cache: bool = True,
    single_attempt: bool = False,
) -> StepOutcome:
    """Run step ``step_name`` of ``spec``: rebuild it, resolve inputs, reuse the cache or execute it.

    The step run is recorded before anything runs and finished (completed, cached, failed or
    timed_out) afterwards, with outputs, lineage and metrics in one transaction. A failed or
    timed-out attempt is retried as the step's ``runtime`` says (``single_attempt``: the caller,
    e.g. Airflow, does the retrying). Each attempt's prints and log records are stored in the
    artifact store (``ArtifactStore.read_logs``).

    Raises:
        StepError: the last attempt raised, ran out of time or returned bad outputs (recorded).
        ConfigError: the spec names an unknown step or a type that cannot be rebuilt.
    """
    collector.resume()  # a ``zen`` process pauses it while starting up; user code runs with it on
    listener = listener or NullListener()
    step_spec = _step_spec(spec, step_name)
    add_code_paths(spec, stores.project_root)
    step = load_step(step_name, step_spec)
    inputs = _input_artifacts(spec, step_name, step_spec, stores)
    fingerprint = step_fingerprint(step, stores.project_root)
    if fingerprint.unhashable and use_cache and step_spec.enable_cache:
        warn_uncacheable(step_name, fingerprint)
    pin = spec.data_from.get(step_name)
    # a pinned source step never reads its source (it may have changed or be gone): its data is the pin's
    source = pin.version if pin is not None else step.source_version()
    hashes = {name: record.content_hash for name, record in inputs.items()}
    components = cache_components(step_spec, fingerprint, hashes, source)
    if pin is not None:  # keeps its key apart from executions that read the source with this code
        components["pinned"] = {"run": pin.run, "step": pin.step}
    training = trainer_signature(spec, step_name, step)
    if training:
        components["training"] = training
    attempt = _Attempt(spec, step_name, step, inputs, stores, components, code_hash(fingerprint), use_cache)
    # only a listener that shows progress gets it: otherwise a step's trackers cost it an addition
    attempt.progress_sink = listener.step_progress if isinstance(listener, ProgressListener) else None
    attempts = 1 if single_attempt else step_spec.runtime.retries + 1
    started = time.perf_counter()
    listener.step_started(step_name)
    for number in range(1, attempts + 1):
        try:
            status = attempt.run(number)
        except StepError as error:
            if number < attempts:
                delay = step_spec.runtime.delay_before(number + 1)
                logger.warning(
                    "step '%s' attempt %d of %d failed (%s: %s); retrying in %.3g s",
                    step_name, number, attempts, error.error_type, error.error_message, delay,
                )  # fmt: skip
                time.sleep(delay)
                continue
            # carried by the error too: a worker process's outcome reaches the orchestrator as this error
            error.attempts = number  # type: ignore[attr-defined]
            listener.step_finished(StepOutcome(step_name, error.status, time.perf_counter() - started, error, number))
            raise
        except BaseException:  # KeyboardInterrupt: recorded failed, then let through
            elapsed = time.perf_counter() - started
            listener.step_finished(StepOutcome(step_name, StepStatus.FAILED, elapsed, None, number))
            raise
        outcome = StepOutcome(step_name, status, time.perf_counter() - started, None, number)
        listener.step_finished(outcome)
        return outcome
    raise AssertionError("unreachable: the last attempt returns or raises")


class _Attempt:
    """One recorded execution of a step (a first try or a retry), with its log captured."""

    def __init__(
        self,
        spec: RunSpec,
        step_name: str,
        step: BaseStep,
        inputs: dict[str, ArtifactRecord],
        stores: Stores,
        components: dict[str, Any],
        code_digest: str,
        use_cache: bool,
    ) -> None:
        self.spec, self.step_name, self.step, self.inputs, self.stores = spec, step_name, step, inputs, stores
        self.components, self.code_digest, self.use_cache = components, code_digest, use_cache
        self.step_spec = spec.steps[step_name]
        self.progress_sink: ProgressSink | None = None
        self.warned: set[int] = set()  # damaged cached artifacts already reported by an earlier attempt

    def run(self, number: int) -> str:
        """Record, execute (or reuse) and finish the step once; return ``completed`` or ``cached``.

        Raises:
            StepError: the attempt failed or timed out (recorded so).
        """
        key = cache_key(self.components)
        step_run_id = self.stores.metadata.start_step(
            run_id=self.spec.run_id,
            name=self.step_name,
            type_=self.step_spec.type,
            params=self.step_spec.params,
            cache_key=key,
            code_hash=self.code_digest,
            cache_components=self.components,
        )
        label = f"{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S.%f}-attempt{number}"  # sorts by time
        with capture_output() as log:
            try:
                status = self._execute(step_run_id, key)
            except BaseException as exc:
                error = self._record_failure(step_run_id, exc, log)
                self._save_log(label, log)
                if isinstance(exc, KeyboardInterrupt):
                    raise  # Ctrl-C stops the whole run in this process (workers: see orchestrator.worker)
                # everything else, SystemExit and other BaseExceptions included, is this step's failure
                raise error from exc
        self._save_log(label, log)
        return status

    def _execute(self, step_run_id: int, key: str) -> str:
        if self.step_name in self.spec.data_from:  # pinned data is no cache: --no-cache serves it too
            return serve_pinned(self.spec, self.step_name, step_run_id, self.stores)
        if self.use_cache and self.step_spec.enable_cache and "uncacheable" not in self.components:
            status = _reuse_cached(self.step_name, step_run_id, key, self.inputs, self.stores, self.warned)
            if status is not None:
                return status
        return _run_and_record(
            self.spec, self.step_name, self.step, step_run_id, self.inputs, self.stores, self.progress_sink
        )

    def _record_failure(self, step_run_id: int, exc: BaseException, log: StepLog) -> StepError:
        error = as_step_error(self.step_name, exc, self.step_spec.runtime.timeout)
        log.write(_user_traceback(exc))
        self.stores.metadata.fail_step(
            step_run_id, status=error.status, error_type=error.error_type, error_message=error.error_message
        )
        return error

    def _save_log(self, label: str, log: StepLog) -> None:
        text = log.text()
        if not text:
            return
        try:
            self.stores.artifacts.save_log(self.spec.run_id, self.step_name, label, text)
        except Exception as exc:  # noqa: BLE001 -- a lost log must not turn a finished step into a failure
            logger.warning(
                "could not store the log of step '%s' in %s: %s", self.step_name, self.stores.artifacts.uri, exc
            )


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


def _reuse_cached(
    step_name: str, step_run_id: int, key: str, inputs: dict[str, ArtifactRecord], stores: Stores, warned: set[int]
) -> str | None:
    damaged: list[tuple[str, str, ArtifactRecord, str]] = []  # (run id, output, artifact, why), newest first
    for earlier, outputs in stores.metadata.find_cached(key):
        # checked before it is served: see zenml.runtime.reuse for what is checked and what is left to reads
        found = damaged_output(outputs, stores)
        if found is not None:
            damaged.append((earlier.run_id, *found))
            continue
        _report_damaged(step_name, damaged, f"using the outputs of run {earlier.run_id} instead", warned)
        stores.metadata.finish_step(
            step_run_id,
            status=StepStatus.CACHED,
            inputs={n: r.id for n, r in inputs.items()},
            outputs=outputs,
            metrics=stores.metadata.step_metrics(earlier.id),
            cached_from_id=earlier.id,
        )
        return StepStatus.CACHED
    _report_damaged(step_name, damaged, "running the step again", warned)
    return None


def _report_damaged(
    step_name: str, damaged: list[tuple[str, str, ArtifactRecord, str]], outcome: str, warned: set[int]
) -> None:
    """One warning line per step execution that passed over damaged cached outputs (not again on a retry)."""
    if not damaged or damaged[0][2].id in warned:
        return
    warned.add(damaged[0][2].id)
    run_id, output, record, why = damaged[0]
    more = f" ({len(damaged) - 1} older cached execution(s) are damaged too)" if len(damaged) > 1 else ""
    logger.warning(
        "step '%s': not using the cached output '%s' of run %s (artifact #%d at %s): it is %s; %s%s",
        step_name, output, run_id, record.id, record.uri, why, outcome, more,
    )  # fmt: skip


def _run_and_record(
    spec: RunSpec,
    step_name: str,
    step: BaseStep,
    step_run_id: int,
    inputs: dict[str, ArtifactRecord],
    stores: Stores,
    progress_sink: ProgressSink | None = None,
) -> str:
    step_spec = spec.steps[step_name]
    values = {
        name: stores.artifacts.load(stored_artifact(record), f"input '{name}' of step '{step_name}'")
        for name, record in inputs.items()
    }
    context = StepContext(
        step_name=step_name,
        run_id=spec.run_id,
        pipeline_name=spec.pipeline.name,
        processing=load_backend("processing", step_spec.processing or spec.backends.processing),
        training=load_backend("training", step_spec.training or spec.backends.training),
        scratch_factory=stores.artifacts.scratch_dir,
        progress_sink=progress_sink,
        spec_sha256_factory=spec.sha256,
    )
    try:
        with deadline(step_spec.runtime.timeout), running(context):
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
        status=StepStatus.COMPLETED,
        inputs={n: r.id for n, r in inputs.items()},
        outputs=stored,
        metrics=context.metrics,
        deployment=next((value for value in outputs.values() if isinstance(value, Deployment)), None),
    )
    return StepStatus.COMPLETED


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


def _user_traceback(exc: BaseException) -> str:
    """The traceback from the first frame outside zenml (the step's own code), for the step's log."""
    frame = exc.__traceback__
    while frame is not None and frame.tb_frame.f_code.co_filename.startswith(_ZENML_DIR):
        frame = frame.tb_next
    return "".join(traceback.format_exception(type(exc), exc, frame or exc.__traceback__))


def as_step_error(step_name: str, exc: BaseException, timeout: float | None = None) -> StepError:
    """The ``StepError`` recorded for whatever a step raised (``timeout``: the step's, for the message)."""
    if isinstance(exc, StepError):
        return exc
    if isinstance(exc, StepTimeout):
        return StepError(
            step_name,
            "StepTimeout",
            f"ran longer than its timeout of {timeout:g} s and was stopped; raise the step's timeout or make it faster",
            status=StepStatus.TIMED_OUT,
        )
    if isinstance(exc, ZenMLError):
        return StepError(step_name, type(exc).__name__, str(exc))
    if isinstance(exc, SystemExit):
        advice = "a step must return its outputs or raise an exception, never exit the process"
        return StepError(step_name, "SystemExit", f"the step called {exit_call(exc)}; {advice}")
    if isinstance(exc, KeyboardInterrupt):
        return StepError(step_name, "KeyboardInterrupt", INTERRUPTED)
    return StepError(step_name, type(exc).__name__, str(exc) or repr(exc))


def exit_call(exc: SystemExit) -> str:
    """``sys.exit(3)``: the call that raised ``exc``, for messages."""
    return f"sys.exit({'' if exc.code is None else excerpt(exc.code)})"


def backend_for(spec: RunSpec, step_name: str, kind: str) -> BackendSpec:
    """The backend spec of ``kind`` a step runs on (its own override, else the run's default)."""
    override: BackendSpec | None = getattr(spec.steps[step_name], kind)
    return override or getattr(spec.backends, kind)
