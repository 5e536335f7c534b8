"""Supervising ``airflow dags test``: its process tree and log, and the step records it leaves behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections import deque
from pathlib import Path

from zenml.exceptions import BackendError, StepError
from zenml.metadata.records import StepRunRecord
from zenml.pipelines.spec import RunSpec
from zenml.runtime.events import RunListener, StepOutcome
from zenml.runtime.stores import Stores
from zenml.utils.status import ENDED_STEP, ERRORED_STEP, StepStatus

POLL_SECONDS = 0.3
OUTPUT_TAIL_LINES = 20
#: what explains a failed ``airflow dags test`` in its log: the DAG file's import error, or an error
#: the ``zen`` CLI printed inside a task (``... ] Error: <message> [airflow.task...``)
_EXPLANATIONS = (
    re.compile(r"\[error\s*\]\s+(Error loading DAG from .+?)\s+\[airflow\."),
    re.compile(r"\]\s+Error: (.+?)\s+\[airflow\.task"),
)
#: step records whose Airflow task has ended (a failed one may still be retried), and those that failed
FINISHED = ENDED_STEP
FAILED = ERRORED_STEP


class StepWatcher:
    """Follows a run's step records while Airflow executes it, reporting them to the listener."""

    def __init__(
        self, spec: RunSpec, steps: frozenset[str], stores: Stores, listener: RunListener, began: float
    ) -> None:
        self.spec, self.steps, self.stores, self.listener = spec, steps, stores, listener
        self.began = began
        self.started: set[str] = set()
        self.finished: dict[str, StepRunRecord] = {}
        self.running: dict[str, StepRunRecord] = {}

    def poll(self, final: bool = False) -> None:
        """Report steps that started or ended since the last poll."""
        for record in self.stores.metadata.step_runs(self.spec.run_id):
            # records of an earlier attempt of this run (before a resume) are not this execution's
            if record.name not in self.steps or record.name in self.finished or (record.started_at or 0) < self.began:
                continue
            if record.name not in self.started:
                self.started.add(record.name)
                self.listener.step_started(record.name)
            if self._final(record, final):
                self.finished[record.name] = record
                self.running.pop(record.name, None)
                self.listener.step_finished(outcome_of(record))
            else:
                self.running[record.name] = record

    def _final(self, record: StepRunRecord, final: bool) -> bool:
        if record.status not in FINISHED:
            return False
        # a failed attempt is final unless Airflow may still retry it (known once dags test ended)
        return record.status not in FAILED or final or self.spec.steps[record.name].runtime.retries == 0

    def abandon_running(self, reason: str) -> None:
        """Record steps left ``running`` once Airflow is done as failed (their task was killed)."""
        for record in self.running.values():
            self.stores.metadata.fail_step(
                record.id, status=StepStatus.FAILED, error_type="AirflowTaskError", error_message=reason
            )
        self.running.clear()
        self.poll(final=True)

    def result(self, steps: list[str], returncode: int | None, log: Path, timeout: float) -> list[StepOutcome]:
        """The outcomes once ``airflow dags test`` ended; raise the first failure.

        Raises:
            StepError: a step failed or timed out.
            BackendError: Airflow failed, or timed out, without a failed step.
        """
        self.poll(final=True)
        ended = "was stopped after its timeout" if returncode is None else f"ended (exit {returncode})"
        self.abandon_running(f"its Airflow task ended before the step finished: 'airflow dags test' {ended}; see {log}")
        failures = sorted((r for r in self.finished.values() if r.status in FAILED), key=lambda r: r.ended_at or 0)
        missing = [name for name in steps if name not in self.finished]
        if failures:
            for name in missing:
                self.listener.step_finished(StepOutcome(name, StepStatus.SKIPPED.value, 0.0))
            first = failures[0]
            raise step_error(first)
        if returncode is None:
            raise BackendError(
                f"'airflow dags test' did not finish within {timeout:g} s (dags_test_timeout); "
                f"see {log}:\n{output_tail(log)}"
            )
        if returncode != 0 or missing:
            what = f"exit {returncode}" if returncode else f"steps never ran: {', '.join(missing)}"
            raise BackendError(f"'airflow dags test' failed ({what}){explain(log)}; see {log}:\n{output_tail(log)}")
        return [outcome_of(self.finished[name]) for name in steps]


def step_error(record: StepRunRecord) -> StepError:
    """The ``StepError`` a failed or timed-out step record stands for."""
    return StepError(
        record.name, record.error_type or "Error", record.error_message or "(no message)", status=record.status
    )


def outcome_of(record: StepRunRecord) -> StepOutcome:
    """How a finished step record ended, as the listener and ``run`` report it."""
    error = step_error(record) if record.status in FAILED else None
    return StepOutcome(record.name, record.status, record.duration or 0.0, error)


def run_watched(
    command: list[str], env: dict[str, str], cwd: Path, log: Path, watcher: StepWatcher, timeout: float
) -> int | None:
    """Run ``command`` (output to ``log``), polling the watcher; ``None`` when it timed out and was killed."""
    log.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    with log.open("w") as output:
        # its own session, so the whole tree (dags test, bash, zen step exec) can be stopped together
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            while process.poll() is None:
                if time.monotonic() > deadline:
                    _stop(process)
                    return None
                watcher.poll()
                time.sleep(POLL_SECONDS)
        except BaseException:
            _stop(process)
            raise
    return process.returncode


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group (Airflow stops its tasks), then SIGKILL what is left after 10 s."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def explain(log: Path, limit: int = 3) -> str:
    """``: <error>; ...`` for the first DAG import errors and ``zen`` errors in an Airflow log ("" if none)."""
    found: list[str] = []
    try:
        with log.open(errors="replace") as handle:
            for line in handle:
                for pattern in _EXPLANATIONS:
                    match = pattern.search(line)
                    if match and match[1] not in found:
                        found.append(match[1])
                if len(found) >= limit:
                    break
    except OSError:
        return ""
    return f": {'; '.join(found[:limit])}" if found else ""


def output_tail(log: Path, lines: int = OUTPUT_TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file."""
    try:
        with log.open(errors="replace") as handle:
            return "".join(deque(handle, maxlen=lines)).rstrip()
    except OSError:
        return "(no output)"
