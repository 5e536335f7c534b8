"""Secrets stay out of everything zenml writes: specs, config, logs, artifacts, metadata rows, messages.

A real pipeline runs on a stack whose metadata store is MariaDB with a password (a dedicated user,
dropped afterwards) and whose artifact store is S3 (moto's server) with random keys. The
credentials come in the documented way, through ``ZEN_*`` environment variables (and a
``${VAR}`` placeholder in an SQL datasource URL). Afterwards every file in the repository, every
object in the bucket, every row of every table and everything printed or logged is searched for
the password and the secret key. Servers that are missing skip the test, unless
``ZEN_TEST_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hostile_helpers import Result, isolated_imports, zen

REQUIRE_SERVICES = os.environ.get("ZEN_TEST_REQUIRE_SERVICES") == "1"
#: where the test user may connect from ('%' doubled: the driver formats the statement)
HOSTS = ("%%", "localhost", "127.0.0.1")
MYSQL_ADMIN_URL = os.environ.get("ZEN_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")

FLOW_SOURCE = '''\
"""A pipeline that reads a table with a password from the environment and writes several artifacts."""

from __future__ import annotations

import logging

import numpy as np

from zenml import BaseStep, StepContext, pipeline, step
from zenml.artifacts.dataset import Dataset
from zenml.datasources import SQLDatasource

logger = logging.getLogger("secret_flow")


@step
def features(data: Dataset) -> np.ndarray:
    logger.info("read %d rows", data.num_rows())
    print("rows:", data.num_rows())
    return data.to_table().column("amount").to_numpy().astype("float64")


class Total(BaseStep):
    def __init__(self, scale: float = 1.0):
        self.scale = scale

    def process(self, values: np.ndarray, context: StepContext) -> float:
        context.log_metric("total", float(values.sum()) * self.scale)
        return float(values.sum()) * self.scale


@pipeline
def secret_flow() -> None:
    data = SQLDatasource(url="mysql://{user}:${{ZEN_TEST_SECRET_PASSWORD}}@127.0.0.1:3306/{database}",
                         query="SELECT id, amount FROM sales ORDER BY id")()
    Total(scale=2.0)(values=features(data))
'''


def _unavailable(what: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{what}; ZEN_TEST_REQUIRE_SERVICES=1 requires it")
    pytest.skip(what)


@dataclass(frozen=True)
class Database:
    """A scratch database and a user with a password who owns it."""

    name: str
    user: str
    password: str

    def url(self, password: str | None = None) -> str:
        return f"mysql+pymysql://{self.user}:{password or self.password}@127.0.0.1:3306/{self.name}"


@pytest.fixture
def database() -> Iterator[Database]:
    import sqlalchemy as sa

    suffix = secrets.token_hex(5)
    made = Database(f"zen_secret_db_{suffix}", f"zen_secret_{suffix}", f"pw-{secrets.token_hex(16)}")
    admin = sa.create_engine(MYSQL_ADMIN_URL, connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {made.name}")
    except Exception as exc:  # noqa: BLE001 -- any failure means the server is unusable here
        admin.dispose()
        _unavailable(f"MariaDB at {MYSQL_ADMIN_URL} is not reachable ({type(exc).__name__})")
    try:
        with admin.begin() as connection:
            for host in HOSTS:
                connection.exec_driver_sql(f"CREATE USER '{made.user}'@'{host}' IDENTIFIED BY '{made.password}'")
                connection.exec_driver_sql(f"GRANT ALL ON {made.name}.* TO '{made.user}'@'{host}'")
            connection.exec_driver_sql(f"CREATE TABLE {made.name}.sales (id INT PRIMARY KEY, amount DOUBLE)")
            connection.exec_driver_sql(f"INSERT INTO {made.name}.sales VALUES (1, 2.5), (2, 4.0), (3, 10.0)")
        yield made
    finally:
        with admin.begin() as connection:
            for host in HOSTS:
                connection.exec_driver_sql(f"DROP USER IF EXISTS '{made.user}'@'{host}'")
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {made.name}")
        admin.dispose()


@dataclass(frozen=True)
class S3:
    """A fresh bucket and random credentials for it."""

    bucket: str
    options: dict[str, object]
    secret_key: str


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3:
    import s3fs

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    secret_key = secrets.token_urlsafe(30)
    options: dict[str, object] = {
        "key": f"AKIA{secrets.token_hex(8).upper()}",
        "secret": secret_key,
        "client_kwargs": {"endpoint_url": s3_endpoint},
    }
    bucket = f"zen-secrets-{secrets.token_hex(4)}"
    s3fs.S3FileSystem(**options).mkdir(bucket)
    return S3(bucket, options, secret_key)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database: Database, s3: S3) -> Iterator[Path]:
    """A repository whose stack comes from the environment: MariaDB with a password, S3 with keys."""
    from zenml.repository import Repository, close_stores

    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.setenv("ZEN_METADATA_STORE", database.url())
    monkeypatch.setenv("ZEN_ARTIFACT_STORE", f"s3://{s3.bucket}/zen")
    monkeypatch.setenv("ZEN_ARTIFACT_STORE_OPTIONS", json.dumps(s3.options))
    monkeypatch.setenv("ZEN_TEST_SECRET_PASSWORD", database.password)
    with isolated_imports(root):
        Repository.init(root)
        (root / "secret_flow.py").write_text(FLOW_SOURCE.format(user=database.user, database=database.name))
        yield root
        close_stores()


def _leaks(text: str, *needles: str) -> list[str]:
    return [needle for needle in needles if needle in text]


def _scan_files(root: Path, *needles: str) -> dict[str, list[str]]:
    found = {}
    for path in root.rglob("*"):
        if path.is_file() and (hits := _leaks(path.read_bytes().decode("utf-8", "replace"), *needles)):
            found[str(path)] = hits
    return found


def _scan_bucket(s3: S3, *needles: str) -> tuple[int, dict[str, list[str]]]:
    import s3fs

    filesystem = s3fs.S3FileSystem(**s3.options)
    objects = filesystem.find(s3.bucket)
    found = {}
    for key in objects:
        if hits := _leaks(filesystem.cat_file(key).decode("utf-8", "replace"), *needles):
            found[key] = hits
    return len(objects), found


def _scan_rows(database: Database, *needles: str) -> tuple[int, dict[str, list[str]]]:
    import sqlalchemy as sa

    engine = sa.create_engine(MYSQL_ADMIN_URL.rsplit("/", 1)[0] + f"/{database.name}")
    rows, found = 0, {}
    try:
        with engine.connect() as connection:
            for table in sa.inspect(connection).get_table_names():
                for row in connection.exec_driver_sql(f"SELECT * FROM `{table}`"):
                    rows += 1
                    if hits := _leaks(" ".join(str(value) for value in row), *needles):
                        found[f"{table}: {tuple(row)!r:.200}"] = hits
    finally:
        engine.dispose()
    return rows, found


def _clean(result: Result, *needles: str) -> Result:
    assert not _leaks(result.out + result.err, *needles), (result.out, result.err)
    return result


def test_a_run_writes_no_secret_anywhere(
    project: Path, database: Database, s3: S3, caplog: pytest.LogCaptureFixture
) -> None:
    needles = (database.password, s3.secret_key)
    caplog.set_level(logging.DEBUG)
    result = _clean(zen("run", "secret_flow.py:secret_flow"), *needles)
    assert result.code == 0, result.err
    again = _clean(zen("run", "secret_flow.py:secret_flow", "--no-cache"), *needles)
    assert again.code == 0, again.err
    run_id = again.out.split("Run ", 1)[1].split()[0]
    for argv in (
        ["runs", "list"],
        ["runs", "show", run_id],
        ["runs", "logs", run_id, "features"],
        ["stack", "list"],
        ["stack", "describe", "default"],
        ["artifacts", "list"],
        ["datasources", "list"],
        ["pipelines", "list"],
        ["doctor", "--no-hash"],
    ):
        _clean(zen(*argv), *needles)
    assert not _leaks(caplog.text, *needles)

    assert not _scan_files(project, *needles)
    objects, in_bucket = _scan_bucket(s3, *needles)
    assert objects >= 8 and not in_bucket, in_bucket  # artifacts, manifests and step logs of two runs
    rows, in_rows = _scan_rows(database, *needles)
    assert rows >= 10 and not in_rows, in_rows


def test_a_wrong_database_password_is_never_printed(
    project: Path, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = f"wrong-{secrets.token_hex(12)}"
    monkeypatch.setenv("ZEN_METADATA_STORE", database.url(wrong))
    result = _clean(zen("runs", "list"), wrong, database.password)
    assert result.code == 2
    assert len(result.error_lines) == 1 and "Traceback" not in result.err
    assert "Access denied" in result.error_lines[0], result.err
    from zenml.exceptions import ZenMLError
    from zenml.repository import Repository

    with pytest.raises(ZenMLError) as caught:
        Repository(project).stores()
    chain: list[BaseException] = []
    error: BaseException | None = caught.value
    while error is not None and len(chain) < 10:
        chain.append(error)
        error = error.__cause__ or error.__context__
    assert not _leaks(" ".join(f"{e!s} {e!r}" for e in chain), wrong, database.password)


def test_a_step_failing_on_a_wrong_password_records_no_secret(
    project: Path, database: Database, s3: S3, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = f"wrong-{secrets.token_hex(12)}"
    monkeypatch.setenv("ZEN_TEST_SECRET_PASSWORD", wrong)
    needles = (wrong, database.password, s3.secret_key)
    result = _clean(zen("run", "secret_flow.py:secret_flow"), *needles)
    # the source is read as its step starts: the run is recorded, failed (exit 1), with no secret in it
    assert result.code == 1, result.err
    assert len(result.error_lines) == 2 and "Access denied" in result.error_lines[0], result.err
    assert "zen runs resume" in result.error_lines[1]
    assert not _scan_files(project, *needles)
    assert not _scan_bucket(s3, *needles)[1]
    assert not _scan_rows(database, *needles)[1]


def test_a_registered_stack_keeps_its_password_in_the_config_only(project: Path, database: Database) -> None:
    """``zen stack register`` stores what it is given; nothing prints it and nothing else holds it."""
    registered = _clean(
        zen("stack", "register", "team", "--metadata-store", database.url(), "--artifact-store", "team-artifacts"),
        database.password,
    )
    assert registered.code == 0, registered.err
    for argv in (["stack", "list"], ["stack", "describe", "team"], ["stack", "set", "team"]):
        assert _clean(zen(*argv), database.password).code == 0
    holding = _scan_files(project, database.password)
    assert list(holding) == [str(project / ".zen" / "config.yaml")], holding
