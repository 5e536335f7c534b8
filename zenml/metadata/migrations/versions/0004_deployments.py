"""Record deployments: where a run's model bundle was exported, or why its metrics kept it back.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the ``deployments`` table (empty: no earlier run deployed anything)."""
    op.create_table(
        "deployments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True, nullable=False),
        sa.Column("step_run_id", sa.Integer, sa.ForeignKey("step_runs.id"), nullable=False),
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("deployed", sa.Boolean, nullable=False),
        sa.Column("uri", sa.String(2048), nullable=True),
        sa.Column("gate", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
    )
    op.create_index("ix_deployments_step_run_id", "deployments", ["step_run_id"])
    op.create_index("ix_deployments_run_id", "deployments", ["run_id"])
    op.create_index("ix_deployments_created_at", "deployments", ["created_at"])


def downgrade() -> None:
    """Drop the table (the bundles themselves stay where they were exported)."""
    op.drop_table("deployments")
