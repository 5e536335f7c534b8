"""Read-only views of recorded history: runs, their steps and their artifacts."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from zenml.artifacts.store import StoredArtifact
from zenml.exceptions import ArtifactError, ZenMLError
from zenml.metadata.records import ArtifactRecord, RunRecord, StepRunRecord
from zenml.pipelines.spec import RunSpec, read_recorded_spec
from zenml.runtime.data import SourceRead, recorded_sources
from zenml.runtime.stores import Stores
from zenml.utils.status import FINISHED_RUN, SUCCEEDED_STEP, StepStatus


def _timestamp(value: float | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(value, dt.UTC) if value is not None else None


@dataclass(frozen=True)
class ArtifactView:
    """A stored artifact; ``read()`` loads it (after verifying its content hash)."""

    record: ArtifactRecord
    stores: Stores

    @property
    def id(self) -> int:
        """The artifact's id in the metadata store."""
        return self.record.id

    @property
    def uri(self) -> str:
        """Where the artifact's folder is."""
        return self.record.uri

    def __repr__(self) -> str:
        return f"ArtifactView(id={self.id}, format={self.format!r}, data_type={self.data_type!r})"

    @property
    def format(self) -> str:
        """The on-disk format (``json``, ``npy``, ``parquet``, …)."""
        return self.record.format

    @property
    def content_hash(self) -> str:
        """The content hash recorded when it was written."""
        return self.record.content_hash

    @property
    def size(self) -> int:
        """Bytes on disk."""
        return self.record.size

    @property
    def data_type(self) -> str:
        """The Python type that was stored."""
        return self.record.data_type

    def lineage(self) -> Lineage:
        """The upstream graph of steps and artifacts this artifact derives from."""
        artifacts, steps, edges = self.stores.metadata.lineage(self.record.id)
        return Lineage(
            self.record.id, artifacts, steps, [(e.step_run_id, e.artifact_id, e.kind, e.name) for e in edges]
        )

    def read(self) -> Any:
        """Load the value.

        Raises:
            ArtifactError: the artifact is missing or does not match its content hash.
        """
        stored = StoredArtifact(
            uri=self.record.uri,
            format=self.record.format,
            materializer=self.record.materializer,
            data_type=self.record.data_type,
            content_hash=self.record.content_hash,
            size=self.record.size,
        )
        return self.stores.artifacts.load(stored, f"artifact {self.record.id}")


@dataclass(frozen=True)
class StepView:
    """One step of a recorded run."""

    record: StepRunRecord
    stores: Stores

    @property
    def name(self) -> str:
        """The step's name in the pipeline."""
        return self.record.name

    @property
    def type(self) -> str:
        """The dotted path of the step's class or function."""
        return self.record.type

    @property
    def params(self) -> dict[str, Any]:
        """The parameters it ran with."""
        return dict(self.record.params)

    @property
    def status(self) -> str:
        """``running``, ``completed``, ``cached``, ``failed``, ``timed_out``, ``crashed`` or ``skipped``.

        ``crashed``: its run's process died; ``skipped``: the run ended before the step started.
        """
        return self.record.status

    @property
    def duration(self) -> float | None:
        """Seconds it took (``None`` while running)."""
        return self.record.duration

    @property
    def error(self) -> str | None:
        """``Type: message`` of the exception that failed it."""
        if self.record.error_type is None:
            return None
        return f"{self.record.error_type}: {self.record.error_message}"

    @cached_property
    def outputs(self) -> dict[str, ArtifactView]:
        """Its output artifacts by name (none for a skipped step)."""
        if self.status == StepStatus.SKIPPED:
            return {}
        run_outputs: _RunOutputs | None = self.__dict__.get("_run_outputs")
        single = run_outputs.single_output(self.record) if run_outputs is not None else None
        if single is not None:
            return {name: ArtifactView(record, self.stores) for name, record in single.items()}
        return {
            name: ArtifactView(record, self.stores)
            for name, record in self.stores.metadata.step_artifacts(self.record.id, "output").items()
        }

    @cached_property
    def inputs(self) -> dict[str, ArtifactView]:
        """The artifacts it read, by input name."""
        if self.status == StepStatus.SKIPPED:
            return {}
        return {
            name: ArtifactView(record, self.stores)
            for name, record in self.stores.metadata.step_artifacts(self.record.id, "input").items()
        }

    def __repr__(self) -> str:
        return f"StepView(name={self.name!r}, status={self.status!r}, type={self.type!r})"

    def logs(self) -> list[tuple[str, str]]:
        """``(attempt, text)`` of each stored attempt log (prints, log records, the traceback), oldest first."""
        return self.stores.artifacts.read_logs(self.record.run_id, self.record.name)

    def output(self) -> Any:
        """Read the single output of a step with exactly one output."""
        if len(self.outputs) != 1:
            raise ArtifactError(
                f"step '{self.name}' has outputs {', '.join(self.outputs) or '(none)'}; use .outputs[name]"
            )
        return next(iter(self.outputs.values())).read()


class _RunOutputs:
    """The outputs of a run's completed and cached steps, read with one query when a step first asks.

    Loading every step's output of a run (a notebook, ``zen runs show``) then costs one query, not
    one per step. Only a step with exactly one output is served from it: a run records one finished
    step run per step name, and one output has no order to keep (several are read per step, in
    the order they were recorded).
    """

    def __init__(self, run_id: str, stores: Stores) -> None:
        self.run_id, self.stores = run_id, stores

    @cached_property
    def _by_step(self) -> dict[str, dict[str, ArtifactRecord]]:
        grouped: dict[str, dict[str, ArtifactRecord]] = {}
        for (step, output), record in self.stores.metadata.run_outputs(self.run_id).items():
            grouped.setdefault(step, {})[output] = record
        return grouped

    def single_output(self, step: StepRunRecord) -> dict[str, ArtifactRecord] | None:
        """``{output: record}`` of a finished step with one output; ``None``: ask the store for that step."""
        if step.status not in SUCCEEDED_STEP:
            return None
        outputs = self._by_step.get(step.name, {})
        return outputs if len(outputs) == 1 else None


@dataclass(frozen=True)
class PipelineRun:
    """A recorded run: status, steps, spec, git state and metrics."""

    record: RunRecord
    stores: Stores

    @classmethod
    def launched(cls, record: RunRecord, stores: Stores, spec: RunSpec) -> PipelineRun:
        """The run just launched from ``spec`` in this process: ``spec`` is not read back from its file."""
        run = cls(record, stores)
        # prime the cached property: the launcher holds the very spec the file was written from
        run.__dict__["spec"] = spec
        return run

    @property
    def id(self) -> str:
        """The run id."""
        return self.record.id

    def __repr__(self) -> str:
        return f"PipelineRun(id={self.id!r}, pipeline={self.pipeline!r}, status={self.status!r})"

    @property
    def pipeline(self) -> str:
        """The pipeline's name."""
        return self.record.pipeline

    @property
    def status(self) -> str:
        """``running``, ``completed`` or ``failed``."""
        return self.record.status

    @property
    def created_at(self) -> dt.datetime:
        """When the run was created (UTC)."""
        created = _timestamp(self.record.created_at)
        assert created is not None
        return created

    @property
    def duration(self) -> float | None:
        """Seconds from start to end."""
        return self.record.duration

    @property
    def error(self) -> str | None:
        """``step 'x' failed: Type: message`` for a failed run (``Type: message`` when no step was at fault)."""
        if self.record.error_type is None:
            return None
        cause = f"{self.record.error_type}: {self.record.error_message}"
        return cause if self.record.error_step is None else f"step '{self.record.error_step}' failed: {cause}"

    @cached_property
    def steps(self) -> dict[str, StepView]:
        """Every step by name: the step runs in execution order, then the steps the run never started.

        A finished run's steps that never started are ``skipped`` (as ``zen run`` and the report show
        them), with the type and parameters of its spec; a run still going lists only what started.
        """
        records = self.stores.metadata.step_runs(self.record.id)
        steps = {record.name: StepView(record, self.stores) for record in records}
        run_outputs = _RunOutputs(self.record.id, self.stores)  # one query for all steps' outputs, when asked
        for view in steps.values():
            view.__dict__["_run_outputs"] = run_outputs
        for record in self._skipped_records(set(steps)):
            steps[record.name] = StepView(record, self.stores)
        return steps

    def _skipped_records(self, started: set[str]) -> list[StepRunRecord]:
        if self.status not in FINISHED_RUN:
            return []
        try:
            spec_steps = self.spec.steps
        except (OSError, ZenMLError):  # the spec file is gone: only the metadata store's steps are known
            return []
        return [
            StepRunRecord(
                id=0,  # never a row: the store's ids start at 1
                run_id=self.id,
                name=name,
                type=step.type,
                status=StepStatus.SKIPPED.value,  # a plain str, as the store returns it
                params=dict(step.params),
                cache_key=None,
                code_hash=None,
                cache_components=None,
                cached_from_id=None,
                started_at=None,
                ended_at=None,
                error_type=None,
                error_message=None,
            )
            for name, step in spec_steps.items()
            if name not in started
        ]

    @cached_property
    def spec(self) -> RunSpec:
        """The run spec it was launched from.

        Raises:
            ConfigError: the spec file is missing, or was edited after the run recorded its sha256.
        """
        return read_recorded_spec(
            self.record.spec_file(self.stores.project_root), self.record.spec_sha256, self.record.id
        )

    @property
    def git(self) -> dict[str, Any] | None:
        """``{"commit", "dirty", "diff_sha256"}``, or ``None`` when run outside git."""
        if self.record.git_commit is None and self.record.git_dirty is None:
            return None
        return {
            "commit": self.record.git_commit,
            "dirty": self.record.git_dirty,
            "diff_sha256": self.record.git_diff_sha256,
        }

    def metrics(self) -> dict[str, dict[str, float]]:
        """Logged metrics: ``{step: {name: value}}``."""
        return self.stores.metadata.metrics(self.record.id)

    @property
    def data_versions(self) -> dict[str, SourceRead]:
        """The data each datasource step read, by step name.

        Each entry has the ``version`` read, the ``outputs`` that hold it (the snapshot) and
        ``pinned_from``: the run whose snapshot served it (a replay or ``data_from``), else ``None``.
        """
        return recorded_sources(self.stores, self.record.id)

    def replay(self, *, refresh_data: bool = False, data_from: str | None = None, **options: Any) -> PipelineRun:
        """Run this run's stored spec again as a new run, on the data this run read (``zen run SPEC``).

        Each datasource is served from this run's snapshot of its data, even when the source has
        changed or is gone. ``refresh_data=True`` reads the sources anew; ``data_from=RUN`` uses
        another run's data. Other options are those of ``zenml.engine.rerun_spec`` (``stack``,
        ``enable_cache``, backends …).

        Raises:
            ConfigError: the spec file was edited, or a snapshot is gone from the artifact store
                (then ``refresh_data=True`` reads the sources anew); nothing is recorded.
        """
        from zenml.engine import rerun_spec  # a convenience facade, like pipeline.run()

        path = self.record.spec_file(self.stores.project_root)
        return rerun_spec(path, refresh_data=refresh_data, data_from=data_from, **options)

    def report(self, path: str | os.PathLike[str]) -> Path:
        """Write a self-contained HTML report of this run (graph, timeline, statistics, training, evaluation).

        The file opens offline in any browser. Needs plotly (``pip install 'zenml[report]'``).

        Args:
            path: the HTML file to write; its folder must exist.

        Returns:
            Where the report was written.

        Raises:
            ConfigError: the folder does not exist, or plotly is not installed.
        """
        from zenml.history.reports import write_run_report  # loads plotly's page code only when a report is asked for

        return write_run_report(self, path)


@dataclass(frozen=True)
class Lineage:
    """The upstream graph of an artifact: what produced it, from which inputs, recursively.

    Attributes:
        artifact_id: the artifact the graph ends at.
        artifacts: every artifact in the graph by id.
        steps: every step run that produced one of them, by id.
        edges: ``(step run id, artifact id, kind, name)``: ``output`` edges go step → artifact,
            ``input`` edges artifact → step (``name`` is the input's name).
    """

    artifact_id: int
    artifacts: dict[int, ArtifactRecord]
    steps: dict[int, StepRunRecord]
    edges: list[tuple[int, int, str, str]]

    def producer(self, artifact_id: int) -> StepRunRecord | None:
        """The step run that wrote ``artifact_id``."""
        producer_id = self.artifacts[artifact_id].producer_id
        return self.steps.get(producer_id) if producer_id is not None else None

    def inputs_of(self, step_run_id: int) -> dict[str, int]:
        """The artifacts a step run read, by input name."""
        return {name: artifact for step, artifact, kind, name in self.edges if step == step_run_id and kind == "input"}

    def tree(self) -> list[str]:
        """Indented lines, from the artifact up to the data it came from."""
        lines: list[str] = []
        self._walk(self.artifact_id, 0, lines, set())
        return lines

    def _walk(self, artifact_id: int, depth: int, lines: list[str], seen: set[int]) -> None:
        record = self.artifacts[artifact_id]
        producer = self.producer(artifact_id)
        source = f"{producer.run_id}/{producer.name}" if producer else "(no producer)"
        lines.append(f"{'  ' * depth}artifact #{artifact_id} {record.format} {record.content_hash[:19]} ← {source}")
        if producer is None or producer.id in seen:
            return
        seen.add(producer.id)
        for name, upstream in self.inputs_of(producer.id).items():
            lines.append(f"{'  ' * (depth + 1)}input '{name}':")
            self._walk(upstream, depth + 2, lines, seen)
