"""What ``zen run`` and ``zen runs resume`` report when a run ends: the summary line and the ``--json`` document."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zenml.exceptions import StepError, ZenMLError
from zenml.utils.status import RunStatus, StepStatus
from zenml.utils.text import plural

if TYPE_CHECKING:
    from zenml.history.runs import PipelineRun
    from zenml.metadata.records import StepRunRecord
    from zenml.runtime.events import RunListener, StepOutcome

#: Bumped when a field of the ``--json`` document changes meaning or disappears (adding one does not).
JSON_FORMAT_VERSION = 1

_SUMMARY_ORDER = (StepStatus.COMPLETED, StepStatus.CACHED, StepStatus.FAILED, StepStatus.TIMED_OUT, StepStatus.SKIPPED)


@dataclass(frozen=True)
class StepReport:
    """How one step of the run ended."""

    name: str
    status: str
    duration: float
    attempts: int
    cached_from: str | None = None
    error_type: str | None = None
    error_message: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``{name, status, duration, attempts, cached_from, error}`` (``None`` where it does not apply)."""
        error = None if self.error_type is None else {"type": self.error_type, "message": self.error_message}
        return {
            "name": self.name,
            "status": self.status,
            "duration": round(self.duration, 3),
            "attempts": self.attempts,
            "cached_from": self.cached_from,
            "error": error,
        }


@dataclass(frozen=True)
class RunReport:
    """A finished run as ``zen run`` reports it: from the metadata store plus the listener's outcomes."""

    run: PipelineRun
    steps: list[StepReport]
    compare_data_with: str | None = None

    @classmethod
    def of(
        cls, run: PipelineRun, outcomes: Mapping[str, StepOutcome], *, compare_data_with: str | None = None
    ) -> RunReport:
        """Every step of the run's spec: recorded steps as recorded, the others ``skipped`` (never started).

        ``compare_data_with``: the run whose data versions ``data_notes`` compares with (a replay
        under ``--refresh-data``); by default a datasource is compared with its previous read.
        """
        if run.status == RunStatus.DEPLOYED:  # a schedule's template: its executions are runs of their own
            return cls(run, [])
        records = {record.name: record for record in run.stores.metadata.step_runs(run.id)}
        names = list(records) + [name for name in run.spec.steps if name not in records]
        steps = [_step_report(name, records.get(name), outcomes.get(name), run) for name in names]
        return cls(run, steps, compare_data_with)

    def data_notes(self) -> list[str]:
        """A line per datasource worth noting (``datasource: pinned to data version … (run …)``, a new version)."""
        from zenml.runtime.data import data_notes

        if self.run.status == RunStatus.DEPLOYED:
            return []
        return data_notes(
            self.run.stores, self.run.id, self.run.pipeline, self.run.spec, compare_with=self.compare_data_with
        )

    def counts(self) -> Counter[str]:
        """Steps per status."""
        return Counter(step.status for step in self.steps)

    def summary(self) -> str:
        """``3 steps (1 completed, 2 cached)``: the step count, then each status that occurred, in a fixed order.

        Statuses that did not occur are left out, so a run of completed steps still ends in
        ``(2 completed)`` as before the step count was added.
        """
        counts = self.counts()
        parts = [f"{counts[status]} {status.replace('_', ' ')}" for status in _SUMMARY_ORDER if counts[status]]
        parts += [f"{count} {status}" for status, count in counts.items() if status not in _SUMMARY_ORDER]
        return f"{plural(len(self.steps), 'step')} ({', '.join(parts)})" if parts else "0 steps"

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document (see ``docs/cli.md``)."""
        record = self.run.record
        spec_path = Path(record.spec_path)
        if not spec_path.is_absolute():
            spec_path = self.run.stores.project_root / spec_path
        error = None
        if record.error_type is not None:
            error = {"step": record.error_step, "type": record.error_type, "message": record.error_message}
        return {
            "format_version": JSON_FORMAT_VERSION,
            "run_id": record.id,
            "pipeline": record.pipeline,
            "status": record.status,
            "spec": {"path": str(spec_path), "sha256": record.spec_sha256},
            "duration": None if record.duration is None else round(record.duration, 3),
            "steps": [step.to_json() for step in self.steps],
            "counts": dict(self.counts()),
            "metrics": self.run.metrics(),
            "data": self.data_notes(),
            "error": error,
        }


def _step_report(name: str, record: StepRunRecord | None, outcome: StepOutcome | None, run: PipelineRun) -> StepReport:
    if record is None:  # a failure stopped the run (or a step it depends on) before this step started
        return StepReport(name, StepStatus.SKIPPED.value, 0.0, attempts=0)
    cached_from = None
    if record.cached_from_id is not None:
        cached_from = run.stores.metadata.step_run(record.cached_from_id).run_id
    # the listener's duration spans every attempt and retry delay; the record holds the last attempt only
    duration = outcome.duration if outcome is not None else (record.duration or 0.0)
    return StepReport(
        name,
        record.status,
        duration,
        attempts=_attempts(outcome),
        cached_from=cached_from,
        error_type=record.error_type,
        error_message=record.error_message,
    )


def _attempts(outcome: StepOutcome | None) -> int:
    """Executions of the step in this run: 1 when the listener did not hear of it (done before a resume)."""
    if outcome is None:
        return 1
    # a worker process's failure reaches the orchestrator as its error, which carries the count
    carried = getattr(outcome.error, "attempts", None)
    return carried if isinstance(carried, int) else outcome.attempts


def error_document(exc: BaseException) -> dict[str, Any]:
    """The ``--json`` document when no run can be reported (bad input, a usage error: nothing was recorded)."""
    error: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, StepError):
        error = {"step": exc.step, "type": exc.error_type, "message": exc.error_message}
    return {"format_version": JSON_FORMAT_VERSION, "run_id": None, "status": "error", "error": error}


def report_interrupted(run: PipelineRun | None) -> None:
    """Say that Ctrl-C stopped the run, and how to finish it (the CLI then exits 130)."""
    from zenml.cli.output import error

    if run is None:
        error("interrupted (Ctrl-C)")
        return
    error(f"interrupted (Ctrl-C); run {run.id} was recorded as {run.status}; finish it with 'zen runs resume {run.id}'")


def report_as_json(
    start: Callable[[RunListener], PipelineRun],
    recorded_run: Callable[[BaseException], PipelineRun | None],
    compare_data_with: Callable[[], str | None] = lambda: None,
) -> None:
    """``--json``: run ``start`` with no display, then print the run as one JSON document; on failure too.

    Everything the run prints goes to stderr. When ``start`` raises, the document describes the run
    ``recorded_run`` finds for the error (a failed run) or, when nothing was recorded, the error;
    then the error is re-raised for the CLI to print and exit 1 or 2. After Ctrl-C, the document
    describes the interrupted run (none when it had not started), and the CLI exits 130.
    """
    from zenml.cli.output import print_json, stdout_to_stderr
    from zenml.cli.progress import StepOutcomes

    outcomes = StepOutcomes()
    try:
        with stdout_to_stderr():
            result = start(outcomes)
    except ZenMLError as error:
        failed = recorded_run(error)
        print_json(RunReport.of(failed, outcomes.outcomes).to_json() if failed else error_document(error))
        raise
    except KeyboardInterrupt as interrupt:  # Ctrl-C: the run as recorded, if it started; then exit 130
        stopped = recorded_run(interrupt)
        if stopped is not None:
            print_json(RunReport.of(stopped, outcomes.outcomes).to_json())
        report_interrupted(stopped)
        raise
    print_json(RunReport.of(result, outcomes.outcomes, compare_data_with=compare_data_with()).to_json())
