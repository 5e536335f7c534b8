"""The run-time context a step can ask for: its name, run, backends and a metrics logger."""

from __future__ import annotations

import logging
import math
import os
import re
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from zenml.exceptions import StepError

_METRIC_NAME = re.compile(r"^[A-Za-z0-9_.\-/]{1,200}$")


class Metrics(dict[str, float]):
    """A step output that is also recorded as the step's metrics (``return Metrics(accuracy=0.9)``).

    Stored as JSON like any dict; an output *named* ``metrics`` holding numbers counts too.
    """


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
    """

    step_name: str
    run_id: str
    pipeline_name: str
    processing: Any = None
    training: Any = None
    metrics: dict[str, float] = field(default_factory=dict)
    scratch_dir: str | None = None
    scratch_factory: Callable[[], str] | None = None

    @property
    def logger(self) -> logging.Logger:
        """A logger named after the step, captured with the step's logs."""
        return logging.getLogger(f"zenml.step.{self.step_name}")

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
