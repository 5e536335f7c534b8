"""Plain, immutable records the metadata store returns (never live ORM objects)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PipelineRecord:
    """A pipeline and how many runs it has."""

    name: str
    created_at: float
    run_count: int
    last_run_at: float | None


@dataclass(frozen=True)
class RunRecord:
    """A run's row."""

    id: str
    pipeline: str
    status: str
    spec_path: str
    spec_sha256: str
    orchestrator: str
    created_at: float
    started_at: float | None
    ended_at: float | None
    git_commit: str | None
    git_dirty: bool | None
    git_diff_sha256: str | None
    error_step: str | None
    error_type: str | None
    error_message: str | None
    host: str | None
    pid: int | None
    heartbeat_at: float | None
    boot_id: str | None = None
    pid_namespace: str | None = None

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, if both are known."""
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at

    def spec_file(self, project_root: Path) -> Path:
        """The spec file the run was launched from (recorded relative to the project root, or absolute)."""
        path = Path(self.spec_path)
        return path if path.is_absolute() else project_root / path


@dataclass(frozen=True)
class StepRunRecord:
    """A step run's row."""

    id: int
    run_id: str
    name: str
    type: str
    status: str
    params: dict[str, Any]
    cache_key: str | None
    code_hash: str | None
    cache_components: dict[str, Any] | None
    cached_from_id: int | None
    started_at: float | None
    ended_at: float | None
    error_type: str | None
    error_message: str | None

    @property
    def duration(self) -> float | None:
        """Seconds the step took, if it finished."""
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at


@dataclass(frozen=True)
class ArtifactRecord:
    """An artifact's row."""

    id: int
    uri: str
    format: str
    materializer: str
    data_type: str
    content_hash: str
    size: int
    created_at: float
    producer_id: int | None


@dataclass(frozen=True)
class EventRecord:
    """A lineage edge: step run ``step_run_id`` read/wrote ``artifact_id`` as ``name``."""

    step_run_id: int
    artifact_id: int
    kind: str
    name: str


@dataclass(frozen=True)
class DeploymentRecord:
    """A deployment's row, with its run's pipeline and the deployer step's name."""

    id: int
    run_id: str
    pipeline: str
    step: str
    deployed: bool
    uri: str | None
    gate: dict[str, Any]
    reason: str | None
    metrics: dict[str, float]
    created_at: float
