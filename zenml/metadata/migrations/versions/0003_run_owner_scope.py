"""Record where a run's owner PID is meaningful: the host's boot id and the PID namespace.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from zenml.metadata.migrations import batch_in_place

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``runs.boot_id`` and ``runs.pid_namespace`` (empty for runs recorded before)."""
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("boot_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("pid_namespace", sa.String(64), nullable=True))


def downgrade() -> None:
    """Drop both columns (runs keep host, PID and heartbeat, so dead owners are still found)."""
    with batch_in_place("runs") as batch:
        batch.drop_column("pid_namespace")
        batch.drop_column("boot_id")
