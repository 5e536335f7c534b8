"""Two team members share one PostgreSQL metadata store: runs and cached steps are visible to both.

Needs a PostgreSQL server (here the one on 127.0.0.1:5432 with trust auth); the admin part creates
a fresh database for the demo and drops it at the end.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import sqlalchemy as sa

ADMIN = os.environ.get("ZEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DATABASE = f"zen_team_{uuid.uuid4().hex[:8]}"
FLOW = '''
from zenml import pipeline, step

@step
def load(n: int = 4) -> list[int]:
    return list(range(n))

@step
def total(values: list[int]) -> int:
    return sum(values)

@pipeline
def shared() -> None:
    total(load())
'''


def member(folder: Path, environment: dict[str, str], *command: str) -> str:
    """Run a zen command as one team member would, in their own checkout."""
    zen = str(Path(sys.executable).parent / "zen")
    result = subprocess.run([zen, *command], cwd=folder, env=environment, capture_output=True, text=True, check=True)
    return result.stdout


if __name__ == "__main__":
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {DATABASE}")
    try:
        url = sa.engine.make_url(ADMIN).set(database=DATABASE).render_as_string(hide_password=False)
        shared_artifacts = Path("shared-artifacts").resolve()  # stands in for s3://bucket/zen
        team = {**os.environ, "ZEN_METADATA_STORE": url, "ZEN_ARTIFACT_STORE": str(shared_artifacts)}
        for name in ("alice", "bob"):
            Path(name).mkdir(exist_ok=True)
            (Path(name) / "flow.py").write_text(FLOW)
            member(Path(name), team, "init", ".")
        member(Path("alice"), team, "run", "flow.py:shared", "-q")
        print("bob sees:", member(Path("bob"), team, "runs", "list", "--pipeline", "shared").count("completed"), "run")
        summary = member(Path("bob"), team, "run", "flow.py:shared").strip().splitlines()[-1]
        print("bob's run:", summary.split(" (")[-1].rstrip(")"))
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.dispose()
