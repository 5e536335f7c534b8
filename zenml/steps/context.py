"""The run-time context a step can ask for: its name, run, backends, a metrics logger and progress."""

from __future__ import annotations

import logging
import math
import os
import re
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from zenml.exceptions import StepError

_METRIC_NAME = re.compile(r"^[A-Za-z0-9_.\-/]{1,200}$")

#: At most this many progress reports a second reach the listener from one step (plus each tracker's
#: last): a display cannot show more, and the step pays one clock read per ``advance`` in between.
MAX_PROGRESS_REPORTS_PER_SECOND = 10


class Metrics(dict[str, float]):
    """A step output that is also recorded as the step's metrics (``return Metrics(accuracy=0.9)``).

    Stored as JSON like any dict; an output *named* ``metrics`` holding numbers counts too.
    """


@dataclass(frozen=True)
class StepProgress:
    """How far one task of a running step is (what a ``ProgressListener`` receives).

    Attributes:
        name: the step's name.
        description: the task (``reading``, ``training``).
        done: units done so far.
        total: units in all, or ``None`` when unknown (rows of a CSV file).
        unit: what is counted (``rows``, ``epochs``), for display.
    """

    name: str
    description: str
    done: float
    total: float | None
    unit: str = ""


ProgressSink = Callable[[StepProgress], None]


class _ProgressChannel:
    """Forwards a step's progress reports to its sink, at most ``MAX_PROGRESS_REPORTS_PER_SECOND``."""

    def __init__(self, step_name: str, sink: ProgressSink) -> None:
        self.step_name = step_name
        self.sink = sink
        # A process forked while the step runs (a training worker) inherits this channel; its
        # reports would reach a copy of the listener that nobody shows, so only this process reports.
        self.pid = os.getpid()
        self.interval = 1.0 / MAX_PROGRESS_REPORTS_PER_SECOND
        self.last = -math.inf

    def offer(self, tracker: ProgressTracker, *, final: bool) -> None:
        now = time.monotonic()
        if not final and now - self.last < self.interval:
            return
        self.last = now
        self.sink(StepProgress(self.step_name, tracker.description, tracker.done, tracker.total, tracker.unit))


class ProgressTracker:
    """Counts the progress of one task of a step (rows read, epochs trained) and reports it, throttled.

    Get one from ``StepContext.progress`` or ``current_progress``; use it as a context manager (or
    call ``close``) so the last count is reported. When no listener wants progress (``zen run
    --quiet``/``--json``, ``pipeline.run()``, steps in other processes) ``advance`` only adds.

    Examples:
        >>> class Count(BaseStep):
        ...     def process(self, n: int, context: StepContext) -> int:
        ...         with context.progress("counting", total=n, unit="items") as progress:
        ...             for _ in range(n):
        ...                 progress.advance()
        ...         return n
    """

    __slots__ = ("_channel", "description", "done", "total", "unit")

    def __init__(self, description: str, total: float | None, unit: str, channel: _ProgressChannel | None) -> None:
        self.description = description
        self.total = total
        self.unit = unit
        self.done: float = 0
        self._channel = channel
        if channel is not None:
            channel.offer(self, final=False)  # shows the task (0 of total) as soon as it starts

    def advance(self, amount: float = 1) -> None:
        """Count ``amount`` more units done."""
        before = self.done
        self.done = before + amount
        if self._channel is not None:
            self._channel.offer(self, final=self._reached_total(before))

    def update(self, done: float, total: float | None = None) -> None:
        """Set the units done (and the total, when it became known)."""
        before = self.done
        self.done = done
        if total is not None:
            self.total = total
        if self._channel is not None:
            self._channel.offer(self, final=self._reached_total(before))

    def _reached_total(self, before: float) -> bool:
        # the report that completes the task always goes out; later ones (past the total) are throttled
        return self.total is not None and before < self.total <= self.done

    def close(self) -> None:
        """Report the last count (reports in between may have been skipped by the throttle)."""
        if self._channel is not None:
            self._channel.offer(self, final=True)
            self._channel = None

    def __enter__(self) -> ProgressTracker:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


@dataclass
class StepContext:
    """Given to ``process`` when it declares an argument annotated ``StepContext``.

    Attributes:
        step_name: the step's name in the pipeline.
        run_id: the id of the run executing the step.
        pipeline_name: the pipeline's name.
        processing: the processing backend data work should run on.
        training: the training backend trainers should run on.
        metrics: scalar metrics logged so far (name → value).
        scratch_dir: a private folder for files the step produces (removed after the step;
            datasets written here are moved, not copied, into the artifact store).
        progress_sink: where progress reports go (the run listener's ``step_progress``), or
            ``None`` when nobody shows them.
        spec_sha256_factory: computes the run spec's sha256 (only when a step asks: ``spec_sha256``).
    """

    step_name: str
    run_id: str
    pipeline_name: str
    processing: Any = None
    training: Any = None
    metrics: dict[str, float] = field(default_factory=dict)
    scratch_dir: str | None = None
    scratch_factory: Callable[[], str] | None = None
    progress_sink: ProgressSink | None = None
    spec_sha256_factory: Callable[[], str] | None = None
    _channel: _ProgressChannel | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def logger(self) -> logging.Logger:
        """A logger named after the step, captured with the step's logs."""
        return logging.getLogger(f"zenml.step.{self.step_name}")

    @property
    def spec_sha256(self) -> str:
        """The sha256 of the run's spec, as the metadata store records it (empty when unknown)."""
        return self.spec_sha256_factory() if self.spec_sha256_factory is not None else ""

    def new_path(self, name: str) -> str:
        """A fresh, not yet existing path inside the step's scratch folder (e.g. for a dataset)."""
        if self.scratch_dir is None:  # created on first use: most steps never need one
            factory = self.scratch_factory or (lambda: tempfile.mkdtemp(prefix=f"zenml-{self.step_name}-"))
            self.scratch_dir = factory()
        path = os.path.join(self.scratch_dir, f"{name}-{uuid.uuid4().hex[:8]}")
        return path

    def log_metric(self, name: str, value: float) -> None:
        """Record a scalar metric for this step (stored with the step run, queryable later).

        Raises:
            StepError: the name has unusual characters or the value is not a finite number.
        """
        if not _METRIC_NAME.match(name):
            raise StepError(self.step_name, "ValueError", f"metric name {name!r} must match {_METRIC_NAME.pattern}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise StepError(self.step_name, "ValueError", f"metric {name!r} must be a finite number, got {value!r}")
        self.metrics[name] = float(value)

    def progress(self, description: str, *, total: float | None = None, unit: str = "") -> ProgressTracker:
        """A tracker for one task of this step; ``zen run`` shows it as a bar in the step's row.

        Args:
            description: what the task does (``reading``, ``training``).
            total: units in all, or ``None`` when unknown (a count is shown instead of a bar).
            unit: what is counted (``rows``, ``epochs``).
        """
        if self.progress_sink is not None and self._channel is None:
            self._channel = _ProgressChannel(self.step_name, self.progress_sink)
        channel = self._channel if self._channel is not None and self._channel.pid == os.getpid() else None
        return ProgressTracker(description, total, unit, channel)


# The context of the step executing in this thread, for code that is not handed one (a datasource's
# ``read``, a trainer's loop inside the training backend). A context variable, so concurrent steps
# in threads each see their own; processes started by the step see none (see ``_ProgressChannel``).
_CURRENT: ContextVar[StepContext | None] = ContextVar("zenml_step_context", default=None)


@contextmanager
def running(context: StepContext) -> Iterator[StepContext]:
    """Make ``context`` the current step's context in this thread while the block runs."""
    token = _CURRENT.set(context)
    try:
        yield context
    finally:
        _CURRENT.reset(token)


def current_context() -> StepContext | None:
    """The context of the step executing in this thread, or ``None`` outside a step."""
    return _CURRENT.get()


def current_progress(description: str, *, total: float | None = None, unit: str = "") -> ProgressTracker:
    """``StepContext.progress`` of the step executing in this thread; outside a step, a tracker that only counts."""
    context = _CURRENT.get()
    if context is None:
        return ProgressTracker(description, total, unit, None)
    return context.progress(description, total=total, unit=unit)
