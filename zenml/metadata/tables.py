"""The metadata tables as SQLAlchemy Core ``Table`` objects: what the store queries at run time.

Generated from the declarative models in ``zenml/metadata/models.py`` by
``python -m zenml.metadata.codegen``; do not edit (a test fails when the two disagree).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

#: every metadata table
metadata = MetaData()

pipeline_table = Table(
    "pipelines",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True, nullable=False),
    Column("name", String(length=100), nullable=False, unique=True),
    Column("created_at", Double(), nullable=False),
)

run_table = Table(
    "runs",
    metadata,
    Column("id", String(length=64), primary_key=True, nullable=False),
    Column("pipeline_id", Integer(), ForeignKey("pipelines.id"), nullable=False, index=True),
    Column("status", String(length=16), nullable=False, index=True),
    Column("spec_path", String(length=1024), nullable=False),
    Column("spec_sha256", String(length=64), nullable=False),
    Column("orchestrator", String(length=100), nullable=False),
    Column("created_at", Double(), nullable=False, index=True),
    Column("started_at", Double(), nullable=True),
    Column("ended_at", Double(), nullable=True),
    Column("git_commit", String(length=64), nullable=True),
    Column("git_dirty", Boolean(), nullable=True),
    Column("git_diff_sha256", String(length=64), nullable=True),
    Column("error_step", String(length=100), nullable=True),
    Column("error_type", String(length=200), nullable=True),
    Column("error_message", Text(), nullable=True),
    Column("host", String(length=255), nullable=True),
    Column("pid", Integer(), nullable=True),
    Column("heartbeat_at", Double(), nullable=True),
    Column("boot_id", String(length=64), nullable=True),
    Column("pid_namespace", String(length=64), nullable=True),
)

step_run_table = Table(
    "step_runs",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True, nullable=False),
    Column("run_id", String(length=64), ForeignKey("runs.id"), nullable=False, index=True),
    Column("name", String(length=100), nullable=False),
    Column("type", String(length=500), nullable=False),
    Column("status", String(length=16), nullable=False),
    Column("params", Text(), nullable=False),
    Column("cache_key", String(length=80), nullable=True, index=True),
    Column("code_hash", String(length=80), nullable=True),
    Column("cache_components", Text(), nullable=True),
    Column("cached_from_id", Integer(), ForeignKey("step_runs.id"), nullable=True),
    Column("started_at", Double(), nullable=True),
    Column("ended_at", Double(), nullable=True),
    Column("error_type", String(length=200), nullable=True),
    Column("error_message", Text(), nullable=True),
    Index("ix_step_runs_name", "name"),
    UniqueConstraint("run_id", "name", name="uq_step_runs_run_name"),
)

artifact_table = Table(
    "artifacts",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True, nullable=False),
    Column("uri", String(length=2048), nullable=False),
    Column("format", String(length=100), nullable=False),
    Column("materializer", String(length=500), nullable=False),
    Column("data_type", String(length=500), nullable=False),
    Column("content_hash", String(length=80), nullable=False, index=True),
    Column("size", BigInteger(), nullable=False),
    Column("created_at", Double(), nullable=False),
    Column("producer_id", Integer(), ForeignKey("step_runs.id"), nullable=True, index=True),
)

event_table = Table(
    "events",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True, nullable=False),
    Column("step_run_id", Integer(), ForeignKey("step_runs.id"), nullable=False),
    Column("artifact_id", Integer(), ForeignKey("artifacts.id"), nullable=False),
    Column("kind", String(length=8), nullable=False),
    Column("name", String(length=100), nullable=False),
    Index("ix_events_artifact_id", "artifact_id"),
    UniqueConstraint("step_run_id", "kind", "name", name="uq_events_step_kind_name"),
)

metric_table = Table(
    "metrics",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True, nullable=False),
    Column("step_run_id", Integer(), ForeignKey("step_runs.id"), nullable=False),
    Column("name", String(length=200), nullable=False),
    Column("value", Double(), nullable=False),
    Index("ix_metrics_name", "name"),
    UniqueConstraint("step_run_id", "name", name="uq_metrics_step_name"),
)

deployment_table = Table(
    "deployments",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True, nullable=False),
    Column("step_run_id", Integer(), ForeignKey("step_runs.id"), nullable=False, index=True),
    Column("run_id", String(length=64), ForeignKey("runs.id"), nullable=False, index=True),
    Column("deployed", Boolean(), nullable=False),
    Column("uri", String(length=2048), nullable=True),
    Column("gate", Text(), nullable=False),
    Column("reason", Text(), nullable=True),
    Column("metrics", Text(), nullable=False),
    Column("created_at", Double(), nullable=False, index=True),
)
