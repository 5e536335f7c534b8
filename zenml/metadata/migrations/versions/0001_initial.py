"""Initial schema: pipelines, runs, step runs, artifacts, lineage events and metrics.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create every table of the first schema."""
    op.create_table(
        "pipelines",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("created_at", sa.Double, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("pipeline_id", sa.Integer, sa.ForeignKey("pipelines.id"), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("spec_path", sa.String(1024), nullable=False),
        sa.Column("spec_sha256", sa.String(64), nullable=False),
        sa.Column("orchestrator", sa.String(100), nullable=False),
        sa.Column("created_at", sa.Double, nullable=False, index=True),
        sa.Column("started_at", sa.Double),
        sa.Column("ended_at", sa.Double),
        sa.Column("git_commit", sa.String(64)),
        sa.Column("git_dirty", sa.Boolean),
        sa.Column("git_diff_sha256", sa.String(64)),
        sa.Column("error_step", sa.String(100)),
        sa.Column("error_type", sa.String(200)),
        sa.Column("error_message", sa.Text),
        sa.Column("host", sa.String(255)),
        sa.Column("pid", sa.Integer),
        sa.Column("heartbeat_at", sa.Double),
    )
    op.create_table(
        "step_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id"), nullable=False, index=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("type", sa.String(500), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("cache_key", sa.String(80), index=True),
        sa.Column("code_hash", sa.String(80)),
        sa.Column("cached_from_id", sa.Integer, sa.ForeignKey("step_runs.id")),
        sa.Column("started_at", sa.Double),
        sa.Column("ended_at", sa.Double),
        sa.Column("error_type", sa.String(200)),
        sa.Column("error_message", sa.Text),
        sa.UniqueConstraint("run_id", "name", name="uq_step_runs_run_name"),
    )
    op.create_table(
        "artifacts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("uri", sa.String(2048), nullable=False),
        sa.Column("format", sa.String(100), nullable=False),
        sa.Column("materializer", sa.String(500), nullable=False),
        sa.Column("data_type", sa.String(500), nullable=False),
        sa.Column("content_hash", sa.String(80), nullable=False, index=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("producer_id", sa.Integer, sa.ForeignKey("step_runs.id"), index=True),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("step_run_id", sa.Integer, sa.ForeignKey("step_runs.id"), nullable=False),
        sa.Column("artifact_id", sa.Integer, sa.ForeignKey("artifacts.id"), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.UniqueConstraint("step_run_id", "kind", "name", name="uq_events_step_kind_name"),
    )
    op.create_index("ix_events_artifact_id", "events", ["artifact_id"])
    op.create_table(
        "metrics",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("step_run_id", sa.Integer, sa.ForeignKey("step_runs.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("value", sa.Double, nullable=False),
        sa.UniqueConstraint("step_run_id", "name", name="uq_metrics_step_name"),
    )


def downgrade() -> None:
    """Drop every table (the store becomes empty)."""
    for table in ("metrics", "events", "artifacts", "step_runs", "runs", "pipelines"):
        op.drop_table(table)
