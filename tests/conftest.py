"""Shared fixtures: an isolated repository per test, real database servers and a moto S3 server when available."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REQUIRE_SERVICES = os.environ.get("ZEN_TEST_REQUIRE_SERVICES") == "1"
MYSQL_ADMIN_URL = os.environ.get("ZEN_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
POSTGRES_ADMIN_URL = os.environ.get("ZEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's ZEN_* settings (they would override the stacks under test)."""
    for name in list(os.environ):
        if name.startswith("ZEN_") and not name.startswith("ZEN_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A fresh repository (default stack) in a temporary folder, which is the working directory."""
    from zenml.repository import Repository

    monkeypatch.chdir(tmp_path)
    repository = Repository.init(tmp_path)
    yield repository
    from zenml.repository import close_stores

    close_stores()


def _unavailable(what: str, exc: Exception) -> None:
    message = f"{what} is not reachable ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}; ZEN_TEST_REQUIRE_SERVICES=1 requires it")
    pytest.skip(message)


@pytest.fixture
def mysql_url() -> Iterator[str]:
    """A URL of a new, empty MariaDB/MySQL database, dropped after the test."""
    import sqlalchemy as sa

    name = f"zen_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(MYSQL_ADMIN_URL, connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
    except Exception as exc:  # noqa: BLE001 -- any failure means the server is unusable here
        admin.dispose()
        _unavailable(f"MariaDB at {MYSQL_ADMIN_URL}", exc)
    url = sa.engine.make_url(MYSQL_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
    admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL of a new, empty PostgreSQL database, dropped after the test."""
    import sqlalchemy as sa

    name = f"zen_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
    except Exception as exc:  # noqa: BLE001
        admin.dispose()
        _unavailable(f"PostgreSQL at {POSTGRES_ADMIN_URL}", exc)
    url = sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


@pytest.fixture(params=["sqlite", "mysql", "postgres"])
def metadata_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty metadata database on each of the three supported engines."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'metadata.db'}"
    fixture = "mysql_url" if request.param == "mysql" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on a free loopback port, shared by the session's S3 tests (each makes its own bucket)."""
    pytest.importorskip("s3fs", reason="S3 needs the s3 extra: pip install 'zenml[s3]'")
    binary = Path(sys.executable).parent / "moto_server"
    if not binary.exists():
        _unavailable("moto's S3 server", FileNotFoundError(f"{binary} is not installed"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(binary), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
