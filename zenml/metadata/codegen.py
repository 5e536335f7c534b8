"""Renders ``zenml/metadata/tables.py`` (the Core tables) and ``sqlite_sql.py`` (SQLite's SQL of the statements).

The typed declarative models in ``zenml.metadata.models`` are the one definition of the schema
(DESIGN §7; Alembic compares against them). But defining them imports ``sqlalchemy.orm`` and
builds its mappers, ~45 ms of every ``zen`` process's and worker's imports (a cached 10-step
``zen run`` went from 0.298 to 0.262 s without them), while the store only ever issues Core
statements. So the store imports the plain ``Table`` objects of a generated module instead; a
test checks that module is what this renderer writes now and that both emit the same DDL on
SQLite, MySQL and PostgreSQL.

The SQLite store runs its named statements (``zenml.metadata.statements``) with ``sqlite3``, as
SQL text rendered from the same Core statements by SQLAlchemy's SQLite compiler, so a process that
runs a pipeline never imports SQLAlchemy. That text is rendered here into ``sqlite_sql.py``; a test
checks the module is what ``render_sqlite_module`` writes now.

After editing ``models.py`` or ``statements.py``: ``python -m zenml.metadata.codegen`` (rewrites
both modules).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Column, Index, Table, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase

from zenml.metadata.models import Base

_Declared = TypeVar("_Declared", Index, UniqueConstraint)

TABLES_MODULE = Path(__file__).with_name("tables.py")
SQLITE_MODULE = Path(__file__).with_name("sqlite_sql.py")

_HEADER = '''"""The metadata tables as SQLAlchemy Core ``Table`` objects: what the store queries at run time.

Generated from the declarative models in ``zenml/metadata/models.py`` by
``python -m zenml.metadata.codegen``; do not edit (a test fails when the two disagree).
"""

from __future__ import annotations

from sqlalchemy import (
{imports}
)

#: every metadata table
metadata = MetaData()
'''


def render_tables_module(base: type[DeclarativeBase] = Base) -> str:
    """The Python source of a module defining the tables of ``base``'s models with Core constructs.

    Each table is named after its model: ``StepRunRow`` → ``step_run_table``.
    """
    names = {"MetaData", "Table", "Column"}
    blocks = []
    models = {mapper.local_table: mapper.class_.__name__ for mapper in base.registry.mappers}
    for table in base.metadata.tables.values():
        lines = [f"{_variable(models[table])} = Table(", f"    {_quoted(table.name)},", "    metadata,"]
        lines += [f"    {_column(column, names)}," for column in table.columns]
        lines += [f"    {_index(index, names)}," for index in _declared(table.indexes)]
        lines += [f"    {_unique(constraint, names)}," for constraint in _declared(_uniques(table))]
        blocks.append("\n".join([*lines, ")"]))
    header = _HEADER.format(imports="\n".join(f"    {name}," for name in sorted(names)))
    return header + "".join(f"\n{block}\n" for block in blocks)


def _variable(model: str) -> str:
    """``StepRunRow`` → ``step_run_table``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", model.removesuffix("Row")).lower() + "_table"


def _column(column: Column[object], names: set[str]) -> str:
    type_name = type(column.type).__name__
    names.add(type_name)
    parts = [_quoted(column.name), repr(column.type)]
    for foreign_key in column.foreign_keys:
        names.add("ForeignKey")
        parts.append(f"ForeignKey({_quoted(foreign_key.target_fullname)})")
    flags = {
        "primary_key": column.primary_key,
        "autoincrement": column.autoincrement is True,
        "nullable": column.nullable,
        "index": bool(column.index),
        "unique": bool(column.unique),
    }
    parts += [f"{flag}={value}" for flag, value in flags.items() if value or flag == "nullable"]
    return f"Column({', '.join(parts)})"


def _declared(items: Iterable[_Declared]) -> list[_Declared]:
    """Table-level indexes/constraints declared in ``__table_args__`` (not made by a column's flag)."""
    found = [item for item in items if not getattr(item, "_column_flag", False)]
    return sorted(found, key=lambda item: str(item.name))


def _uniques(table: Table) -> list[UniqueConstraint]:
    return [constraint for constraint in table.constraints if isinstance(constraint, UniqueConstraint)]


def _index(index: Index, names: set[str]) -> str:
    names.add("Index")
    columns = ", ".join(_quoted(column.name) for column in index.columns)
    unique = ", unique=True" if index.unique else ""
    return f"Index({_quoted(str(index.name))}, {columns}{unique})"


def _unique(constraint: UniqueConstraint, names: set[str]) -> str:
    names.add("UniqueConstraint")
    columns = ", ".join(_quoted(column.name) for column in constraint.columns)
    return f"UniqueConstraint({columns}, name={_quoted(str(constraint.name))})"


def _quoted(name: str) -> str:
    """A string literal in the repository's style (double quotes)."""
    return json.dumps(name)


_SQLITE_HEADER = '''"""The SQLite SQL of the metadata store's named statements: what ``sqlite3`` runs by default.

Generated from the Core statements in ``zenml/metadata/statements.py`` (SQLAlchemy's SQLite
compiler, named parameters) by ``python -m zenml.metadata.codegen``; do not edit (a test fails when
the two disagree). Each entry: the SQL, the values the statement binds itself, and the indexes of
its ``Boolean`` result columns.
"""

# ruff: noqa: E501 -- the SQL as SQLAlchemy renders it, one literal per line of it

from __future__ import annotations

from zenml.metadata.execution import SQLiteStatement
from zenml.utils.status import RunStatus, StepStatus

# fmt: off
STATEMENTS: dict[str, SQLiteStatement] = {
'''


def render_sqlite_module() -> str:
    """The Python source of ``sqlite_sql.py``: every named statement rendered for SQLite."""
    from zenml.metadata.statements import BUILDERS, named, render_sqlite

    entries = []
    for name in BUILDERS:
        sql, defaults, booleans = render_sqlite(named(name))
        lines = [line + "\n" for line in sql.split("\n")]
        lines[-1] = lines[-1][:-1]  # each line its own literal, joined by Python: the SQL exactly, readable
        text = "".join(f"            {json.dumps(line)}\n" for line in lines)
        entries.append(
            f"    {_quoted(name)}: SQLiteStatement(\n        (\n{text}        ),\n"
            f"        {_literal(defaults)},\n        {booleans!r},\n    ),\n"
        )
    return _SQLITE_HEADER + "".join(entries) + "}\n"


def _literal(values: Mapping[str, Any]) -> str:
    """A statement's own values as Python source; a status as its enum member (never a copy of the word)."""
    items = (f"{_quoted(name)}: {_value(value)}" for name, value in values.items())
    return "{" + ", ".join(items) + "}"


def _value(value: object) -> str:
    if isinstance(value, Enum):
        return f"{type(value).__name__}.{value.name}"
    return _quoted(value) if isinstance(value, str) else repr(value)


def _rewrite(module: Path, text: str) -> None:
    changed = not module.exists() or module.read_text(encoding="utf-8") != text
    if changed:
        module.write_text(text, encoding="utf-8")
    print(f"{module}: {'rewritten' if changed else 'already up to date'}")


def main() -> int:
    """Rewrite ``tables.py`` from the models, then ``sqlite_sql.py`` from the statements; print what changed."""
    _rewrite(TABLES_MODULE, render_tables_module())
    _rewrite(SQLITE_MODULE, render_sqlite_module())
    return 0


if __name__ == "__main__":
    sys.exit(main())
