"""What a report shows about a run: its steps (with the ones not started yet) and its artifacts found by type."""

from __future__ import annotations

import sys
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zenml.exceptions import ArtifactError, ZenMLError
from zenml.pipelines.graph import topological_order
from zenml.steps.evaluator.base import EvaluationReport
from zenml.steps.preprocessor.base import Transform
from zenml.steps.statistics import Statistics
from zenml.steps.trainer.base import History
from zenml.utils.importing import qualified_name
from zenml.utils.status import FINISHED_RUN, RunStatus, StepStatus

if TYPE_CHECKING:
    from zenml.history.runs import ArtifactView, PipelineRun
    from zenml.metadata.records import StepRunRecord
    from zenml.pipelines.spec import RunSpec

#: the artifact types a report draws, by the kind of section that shows them
KINDS: dict[str, type] = {
    "statistics": Statistics,
    "history": History,
    "evaluation": EvaluationReport,
    "transform": Transform,
}


@dataclass(frozen=True)
class StepState:
    """A step as the report draws it; ``start``/``end`` are seconds since the run started.

    Steps in the spec that have no step run yet are ``pending`` (run still going) or ``skipped``.
    """

    name: str
    type: str
    status: str
    params: dict[str, Any]
    upstream: list[str]
    depth: int
    start: float | None = None
    end: float | None = None
    error: str | None = None

    @property
    def duration(self) -> float | None:
        """Seconds it took (so far, for a running step)."""
        return self.end - self.start if self.start is not None and self.end is not None else None


@dataclass(frozen=True)
class Found:
    """An artifact of a known type, read: ``step.output`` and its value (or why it could not be read)."""

    step: str
    output: str
    artifact_id: int
    value: Any = None
    problem: str | None = None

    @property
    def label(self) -> str:
        """``step.output``."""
        return f"{self.step}.{self.output}"


@dataclass
class RunData:
    """A run with everything its report needs, read once."""

    run: PipelineRun
    spec: RunSpec | None
    spec_problem: str | None
    steps: list[StepState]
    now: float
    origin: float
    artifacts: dict[str, list[Found]] = field(default_factory=dict)

    @property
    def in_progress(self) -> bool:
        """Whether the run is executing now (recorded as ``running``)."""
        return self.run.status == RunStatus.RUNNING

    def found(self, kind: str) -> list[Found]:
        """The artifacts of one kind (``statistics``, ``history``, ``evaluation``, ``transform``)."""
        return self.artifacts.get(kind, [])


def collect(run: PipelineRun) -> RunData:
    """Read a run's steps, spec and the artifacts its report draws."""
    spec, problem = _spec(run)
    now, origin = time.time(), run_origin(run)
    return RunData(run, spec, problem, step_states(run, spec, origin, now), now, origin, find_artifacts(run))


def find_artifacts(run: PipelineRun, kinds: Collection[str] = tuple(KINDS)) -> dict[str, list[Found]]:
    """The run's outputs of the given kinds, read, in step order: found by their type, whatever the step's name."""
    found: dict[str, list[Found]] = {}
    for step in run.steps.values():
        for output, view in step.outputs.items():
            kind = kind_of(view.data_type)
            if kind is not None and kind in kinds:
                found.setdefault(kind, []).append(_read(step.name, output, view))
    return found


def _spec(run: PipelineRun) -> tuple[RunSpec | None, str | None]:
    try:
        return run.spec, None
    except (OSError, ZenMLError) as exc:  # the spec file was removed: draw what the metadata store knows
        return None, f"the run spec {run.record.spec_path} cannot be read ({exc}); the graph shows recorded steps only"


def _read(step: str, output: str, view: ArtifactView) -> Found:
    try:
        return Found(step, output, view.id, value=view.read())
    except ArtifactError as exc:  # shown in the report where the chart would be
        return Found(step, output, view.id, problem=str(exc))


def kind_of(data_type: str) -> str | None:
    """Which report section draws values of ``data_type`` (a qualified class name), if any.

    A subclass of a known type counts when its module is already imported (a report never imports
    user code just to look at a type name).
    """
    for kind, cls in KINDS.items():
        if data_type == qualified_name(cls):
            return kind
    module_name, _, class_name = data_type.rpartition(".")
    module = sys.modules.get(module_name)
    found = getattr(module, class_name, None) if module is not None else None
    if isinstance(found, type):
        for kind, cls in KINDS.items():
            if issubclass(found, cls):
                return kind
    return None


def run_origin(run: PipelineRun) -> float:
    """When the run started (the timeline's zero): its recorded start, or its first step's if earlier."""
    starts = [t for t in (run.record.started_at, *(v.record.started_at for v in run.steps.values())) if t is not None]
    return min(starts, default=run.record.created_at)


def step_states(run: PipelineRun, spec: RunSpec | None, origin: float, now: float) -> list[StepState]:
    """Every step of the run in dependency order: recorded ones with their times, the rest pending or skipped.

    A step still recorded ``running`` ends at ``now`` while the run is running, else where the run
    ended (a crashed run's last step never recorded its own end).
    """
    records = {name: view.record for name, view in run.steps.items()}
    upstream = {name: sorted(spec.steps[name].upstream()) for name in spec.steps} if spec else {}
    for name in records:
        upstream.setdefault(name, [])
    order = topological_order(upstream)
    until = now if run.status == RunStatus.RUNNING else (run.record.ended_at or now)
    depth: dict[str, int] = {}
    states = []
    for name in order:
        depth[name] = 1 + max((depth[u] for u in upstream[name]), default=-1)
        states.append(_state(name, records.get(name), spec, upstream[name], depth[name], run, origin, until))
    return states


def _state(
    name: str,
    record: StepRunRecord | None,
    spec: RunSpec | None,
    upstream: list[str],
    depth: int,
    run: PipelineRun,
    origin: float,
    until: float,
) -> StepState:
    if record is None:
        assert spec is not None  # only spec steps can lack a record
        status = (StepStatus.SKIPPED if run.status in FINISHED_RUN else StepStatus.PENDING).value
        return StepState(name, spec.steps[name].type, status, dict(spec.steps[name].params), upstream, depth)
    start = record.started_at - origin if record.started_at is not None else None
    running = record.status == StepStatus.RUNNING
    end_time = record.ended_at if record.ended_at is not None else (until if running else None)
    error = f"{record.error_type}: {record.error_message}" if record.error_type else None
    return StepState(
        name,
        record.type,
        record.status,
        dict(record.params),
        upstream,
        depth,
        start,
        end_time - origin if end_time is not None else None,
        error,
    )


def trainer_tasks(run: PipelineRun) -> dict[str, str]:
    """Trainer step → the task its model records, e.g. ``binary (label 'target': 0, 1)``.

    A model that cannot be read (removed, or its loader no longer importable) is left out.
    """
    from zenml.steps.task import describe

    tasks: dict[str, str] = {}
    for step in run.steps.values():
        view = step.outputs.get("model")
        if view is None or view.format != "model":
            continue
        try:
            meta = view.read().meta
        except (ArtifactError, OSError, ZenMLError):
            continue
        if isinstance(meta, dict) and meta.get("task"):
            tasks[step.name] = describe(str(meta["task"]), str(meta.get("label", "")), meta.get("classes"))
    return tasks


def class_names(data: RunData, label: str) -> list[str] | None:
    """Class names of a categorical ``label`` (index = encoded class), from a fitted transform of the run."""
    for found in data.found("transform"):
        if isinstance(found.value, dict):
            plan = found.value.get("state", {}).get("columns", {}).get(label, {})
            if plan.get("kind") == "categorical":
                return [str(value) for value in plan.get("vocabulary", [])]
    return None


def evaluator_label(data: RunData, step: str) -> str | None:
    """The label an evaluator step evaluated: its ``label`` parameter, else the transform's first label."""
    state = next((s for s in data.steps if s.name == step), None)
    label = state.params.get("label") if state else None
    if isinstance(label, str) and label:
        return label
    for found in data.found("transform"):
        if isinstance(found.value, dict):
            labels = found.value.get("state", {}).get("labels", [])
            if labels:
                return str(labels[0])
    return None
