"""Alembic migrations of the metadata schema (run by zenml itself; no alembic.ini needed)."""

from __future__ import annotations

import sqlite3
from typing import Any


def batch_in_place(table: str) -> Any:
    """``op.batch_alter_table`` that drops columns and indexes in place on SQLite 3.35+.

    Alembic's batch mode rebuilds a SQLite table (copy, drop, rename) for anything but adding a
    column; with foreign keys enforced, as zenml's connections do, dropping a table other rows
    refer to fails. SQLite 3.35 and newer drop a plain column in place, with no rebuild.
    """
    from alembic import op

    native = op.get_bind().dialect.name != "sqlite" or sqlite3.sqlite_version_info >= (3, 35)
    return op.batch_alter_table(table, recreate="never" if native else "auto")
