"""Store each step run's cache-key components, so a cache miss can be explained.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from zenml.metadata.migrations import batch_in_place

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``step_runs.cache_components`` and indexes for plan and metric queries."""
    with op.batch_alter_table("step_runs") as batch:
        batch.add_column(sa.Column("cache_components", sa.Text, nullable=True))
        batch.create_index("ix_step_runs_name", ["name"])
    op.create_index("ix_metrics_name", "metrics", ["name"])


def downgrade() -> None:
    """Drop the column and indexes again (data in them is lost)."""
    op.drop_index("ix_metrics_name", table_name="metrics")
    with batch_in_place("step_runs") as batch:  # rebuilding it would trip over rows referring to it
        batch.drop_index("ix_step_runs_name")
        batch.drop_column("cache_components")
