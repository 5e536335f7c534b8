"""The metadata schema: SQLAlchemy 2 typed declarative models, identical on SQLite, MySQL/MariaDB and PostgreSQL.

Times are stored as UTC epoch seconds in double precision: portable across the three databases,
precise enough for step timings, and trivially sortable.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Double, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of every metadata table."""


class PipelineRow(Base):
    """A pipeline, by name."""

    __tablename__ = "pipelines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[float] = mapped_column(Double)


class RunRow(Base):
    """One run of a pipeline, from spec to final status."""

    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    spec_path: Mapped[str] = mapped_column(String(1024))
    spec_sha256: Mapped[str] = mapped_column(String(64))
    orchestrator: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[float] = mapped_column(Double, index=True)
    started_at: Mapped[float | None] = mapped_column(Double)
    ended_at: Mapped[float | None] = mapped_column(Double)
    git_commit: Mapped[str | None] = mapped_column(String(64))
    git_dirty: Mapped[bool | None] = mapped_column(Boolean)
    git_diff_sha256: Mapped[str | None] = mapped_column(String(64))
    error_step: Mapped[str | None] = mapped_column(String(100))
    error_type: Mapped[str | None] = mapped_column(String(200))
    error_message: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    heartbeat_at: Mapped[float | None] = mapped_column(Double)
    boot_id: Mapped[str | None] = mapped_column(String(64))
    pid_namespace: Mapped[str | None] = mapped_column(String(64))


class StepRunRow(Base):
    """One step of one run."""

    __tablename__ = "step_runs"
    __table_args__ = (
        UniqueConstraint("run_id", "name", name="uq_step_runs_run_name"),
        Index("ix_step_runs_name", "name"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))
    params: Mapped[str] = mapped_column(Text)
    cache_key: Mapped[str | None] = mapped_column(String(80), index=True)
    code_hash: Mapped[str | None] = mapped_column(String(80))
    cache_components: Mapped[str | None] = mapped_column(Text)
    cached_from_id: Mapped[int | None] = mapped_column(ForeignKey("step_runs.id"))
    started_at: Mapped[float | None] = mapped_column(Double)
    ended_at: Mapped[float | None] = mapped_column(Double)
    error_type: Mapped[str | None] = mapped_column(String(200))
    error_message: Mapped[str | None] = mapped_column(Text)


class ArtifactRow(Base):
    """A published artifact folder in the artifact store."""

    __tablename__ = "artifacts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uri: Mapped[str] = mapped_column(String(2048))
    format: Mapped[str] = mapped_column(String(100))
    materializer: Mapped[str] = mapped_column(String(500))
    data_type: Mapped[str] = mapped_column(String(500))
    content_hash: Mapped[str] = mapped_column(String(80), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[float] = mapped_column(Double)
    producer_id: Mapped[int | None] = mapped_column(ForeignKey("step_runs.id"), index=True)


class EventRow(Base):
    """An edge of the lineage graph: a step run read (input) or wrote (output) an artifact."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("step_run_id", "kind", "name", name="uq_events_step_kind_name"),
        Index("ix_events_artifact_id", "artifact_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    step_run_id: Mapped[int] = mapped_column(ForeignKey("step_runs.id"))
    artifact_id: Mapped[int] = mapped_column(ForeignKey("artifacts.id"))
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(100))


class MetricRow(Base):
    """A scalar metric logged by a step run."""

    __tablename__ = "metrics"
    __table_args__ = (
        UniqueConstraint("step_run_id", "name", name="uq_metrics_step_name"),
        Index("ix_metrics_name", "name"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    step_run_id: Mapped[int] = mapped_column(ForeignKey("step_runs.id"))
    name: Mapped[str] = mapped_column(String(200))
    value: Mapped[float] = mapped_column(Double)


class DeploymentRow(Base):
    """A deployer step's outcome: where the run's model bundle went, or why its metrics kept it back."""

    __tablename__ = "deployments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    step_run_id: Mapped[int] = mapped_column(ForeignKey("step_runs.id"), index=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    deployed: Mapped[bool] = mapped_column(Boolean)
    uri: Mapped[str | None] = mapped_column(String(2048))
    gate: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    metrics: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Double, index=True)


# The store queries these tables with Core statements on connections rather than through ORM
# sessions: per step, the ORM's unit of work cost more than the database did. It imports them from
# the generated ``zenml.metadata.tables`` (``python -m zenml.metadata.codegen`` after editing this
# module), so no process pays for importing the ORM and building these classes' mappers.

#: every metadata table (Alembic's autogenerate compares against this)
metadata = Base.metadata
