"""Schema versioning: create or upgrade with Alembic, refuse a newer schema than this zenml knows.

The common path (schema already at head) only reads ``alembic_version``; Alembic itself, slow to
import, is loaded only when a database must be created or upgraded. On SQLite that read is done with
``sqlite3`` (``zenml.metadata.execution``), so SQLAlchemy too is imported only to create or upgrade;
this module imports it when its functions are called.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from zenml.exceptions import MetadataStoreError

if TYPE_CHECKING:
    from sqlalchemy import Connection

#: every revision this zenml ships, oldest first; the last one is head
KNOWN_REVISIONS: tuple[str, ...] = ("0001", "0002", "0003", "0004")
HEAD_REVISION = KNOWN_REVISIONS[-1]
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def current_revision(connection: Connection) -> str | None:
    """The database's schema revision, or ``None`` when zenml's tables are absent."""
    from sqlalchemy import inspect, text

    if not inspect(connection).has_table("alembic_version"):
        if inspect(connection).has_table("runs"):
            raise MetadataStoreError(
                "the metadata database has zenml tables but no alembic_version; it was not created "
                "by zenml's migrations — point the stack at an empty or zenml-managed database"
            )
        return None
    row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    return str(row[0]) if row else None


def ensure_schema(connection: Connection, url_for_messages: str) -> None:
    """Bring the schema to head, creating it if needed.

    Raises:
        MetadataStoreError: the database holds a revision newer than (or unknown to) this zenml.
    """
    revision = current_revision(connection)
    if revision == HEAD_REVISION:
        return
    if revision is not None and revision not in KNOWN_REVISIONS:
        raise MetadataStoreError(
            f"the metadata store at {url_for_messages} has schema revision '{revision}', which this "
            f"zenml does not know (newest known: '{HEAD_REVISION}'); upgrade zenml to use this store"
        )
    upgrade(connection, "head")


def upgrade(connection: Connection, target: str) -> None:
    """Run Alembic migrations up to ``target`` on ``connection``."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, target)


def downgrade(connection: Connection, target: str) -> None:
    """Run Alembic migrations down to ``target`` (``base`` empties the database)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.downgrade(config, target)
