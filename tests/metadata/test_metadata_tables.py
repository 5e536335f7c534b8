"""The generated Core tables the store uses agree with the declarative models, and spare runs the ORM."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from zenml.metadata import codegen, models, tables

DIALECTS = {"sqlite": sqlite.dialect(), "mysql": mysql.dialect(), "postgresql": postgresql.dialect()}


def _ddl(metadata: sa.MetaData, dialect: sa.Dialect) -> list[str]:
    """Every CREATE TABLE / CREATE INDEX statement of ``metadata`` for ``dialect``, in creation order."""
    statements = []
    for table in metadata.sorted_tables:
        statements.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        statements += sorted(str(CreateIndex(index).compile(dialect=dialect)) for index in table.indexes)
    return statements


def test_tables_module_is_what_the_renderer_writes_from_the_models() -> None:
    assert codegen.TABLES_MODULE.read_text(encoding="utf-8") == codegen.render_tables_module(), (
        "zenml/metadata/tables.py is stale: run `python -m zenml.metadata.codegen` after editing models.py"
    )


@pytest.mark.parametrize("dialect", DIALECTS)
def test_generated_tables_emit_the_models_ddl(dialect: str) -> None:
    generated, declared = _ddl(tables.metadata, DIALECTS[dialect]), _ddl(models.metadata, DIALECTS[dialect])
    assert len(generated) == len(models.metadata.tables) + sum(len(t.indexes) for t in models.metadata.tables.values())
    assert generated == declared


def test_each_model_has_its_table_under_the_models_name() -> None:
    for mapper in models.Base.registry.mappers:
        variable = re.sub(r"(?<!^)(?=[A-Z])", "_", mapper.class_.__name__.removesuffix("Row")).lower() + "_table"
        assert getattr(tables, variable) is tables.metadata.tables[mapper.local_table.name]


def test_a_cached_run_in_a_fresh_process_never_imports_the_orm(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text(
        textwrap.dedent(
            """
            from zenml import pipeline, step

            @step
            def one() -> int:
                return 1

            @step
            def add(x: int) -> int:
                return x + 1

            @pipeline
            def flow() -> None:
                add(one())
            """
        )
    )
    script = textwrap.dedent(
        """
        import json, sys
        from zenml.engine import run_pipeline
        from zenml.repository import Repository
        from flow import flow
        root = sys.argv[1]
        repo = Repository(root) if sys.argv[2] == "open" else Repository.init(root)
        run = run_pipeline(flow, repository=repo)
        print(json.dumps([run.status, sorted(m for m in sys.modules if m.startswith("sqlalchemy.orm"))]))
        """
    )

    def run(mode: str) -> list[object]:
        done = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path), mode],
            cwd=tmp_path, capture_output=True, text=True, check=True,
        )
        return list(json.loads(done.stdout.strip().splitlines()[-1]))

    assert run("init")[0] == "completed"  # creating the schema runs Alembic, which may load the ORM
    assert run("open") == ["completed", []]
