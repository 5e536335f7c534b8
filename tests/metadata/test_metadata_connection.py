"""Opening a metadata store: URL handling, unreachable servers, missing drivers, no leaked passwords."""

from __future__ import annotations

import importlib.util
import time
import traceback
from pathlib import Path

import pytest

from zenml.exceptions import ConfigError, MetadataStoreError, ZenMLError
from zenml.metadata import SQLMetadataStore
from zenml.metadata.store import normalise_url

SECRET = "s3cret-Pa55"


def _full_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


@pytest.mark.parametrize(
    ("url", "host"),
    [
        (f"postgresql+psycopg://postgres:{SECRET}@127.0.0.1:1/zen", "postgresql+psycopg://postgres:***@127.0.0.1:1/zen"),
        (f"mysql+pymysql://root:{SECRET}@127.0.0.1:1/zen", "mysql+pymysql://root:***@127.0.0.1:1/zen"),
        (f"postgresql://postgres:{SECRET}@127.0.0.1:1/zen", "postgresql+psycopg://postgres:***@127.0.0.1:1/zen"),
    ],
)
def test_unreachable_server_fails_fast_naming_the_url_without_password(url: str, host: str) -> None:
    started = time.monotonic()
    with pytest.raises(MetadataStoreError) as info:
        SQLMetadataStore(url)
    assert time.monotonic() - started < 5
    message = str(info.value)
    assert host in message
    assert "cannot connect to the metadata store" in message
    assert "check that the server is running" in message
    assert SECRET not in message
    assert SECRET not in _full_text(info.value)


def test_unreachable_server_without_password_names_the_host() -> None:
    with pytest.raises(MetadataStoreError, match=r"postgresql\+psycopg://postgres@127\.0\.0\.1:1/x"):
        SQLMetadataStore("postgresql+psycopg://postgres@127.0.0.1:1/x")


@pytest.mark.parametrize(
    ("url", "extra", "module"),
    [
        (f"mysql+mysqldb://root:{SECRET}@127.0.0.1:3306/test", "zenml[mysql]", "MySQLdb"),
        (f"postgresql+psycopg2://postgres:{SECRET}@127.0.0.1:5432/test", "zenml[postgres]", "psycopg2"),
    ],
)
def test_missing_driver_names_the_extra(url: str, extra: str, module: str) -> None:
    if importlib.util.find_spec(module) is not None:
        pytest.skip(f"{module} is installed here, so the driver is not missing")
    with pytest.raises(ConfigError) as info:
        SQLMetadataStore(url)
    message = str(info.value)
    assert f"pip install '{extra}'" in message
    assert "driver" in message
    assert SECRET not in message


def test_unknown_dialect_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"'nosuchdb://u:\*\*\*@h/d' needs the 'nosuchdb' driver"):
        SQLMetadataStore(f"nosuchdb://u:{SECRET}@h/d")


def test_url_without_scheme_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"needs a scheme, e\.g\. sqlite:///"):
        SQLMetadataStore(".zen/metadata.db")


def test_malformed_url_is_a_config_error_without_password() -> None:
    with pytest.raises(ConfigError, match="malformed") as info:
        SQLMetadataStore(f"postgresql://postgres:{SECRET}@127.0.0.1:notaport/zen")
    assert SECRET not in str(info.value)


def test_every_zenml_error_redacts_url_passwords() -> None:
    error = ZenMLError(f"failed at mysql+pymysql://root:{SECRET}@db:3306/x and s3://k:{SECRET}@bucket")
    assert SECRET not in str(error)
    assert "mysql+pymysql://root:***@db:3306/x" in str(error)


def test_normalise_url_picks_drivers_and_resolves_sqlite_paths(tmp_path: Path) -> None:
    assert normalise_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_url("mysql://u@h/d") == "mysql+pymysql://u@h/d"
    assert normalise_url("mariadb://u@h/d") == "mariadb+pymysql://u@h/d"
    assert normalise_url("mysql+pymysql://u@h/d") == "mysql+pymysql://u@h/d"
    assert normalise_url("sqlite:///.zen/metadata.db", tmp_path) == f"sqlite:///{tmp_path}/.zen/metadata.db"
    assert normalise_url(f"sqlite:///{tmp_path}/abs.db", Path("/elsewhere")) == f"sqlite:///{tmp_path}/abs.db"
    assert normalise_url("sqlite:///:memory:") == "sqlite:///:memory:"


def test_relative_sqlite_path_is_created_under_base_dir(tmp_path: Path) -> None:
    store = SQLMetadataStore("sqlite:///nested/dir/meta.db", base_dir=tmp_path)
    try:
        assert (tmp_path / "nested" / "dir" / "meta.db").is_file()
        assert store.display_url == f"sqlite:///{tmp_path}/nested/dir/meta.db"
    finally:
        store.close()


def test_sqlite_store_uses_wal_and_a_busy_timeout(tmp_path: Path) -> None:
    store = SQLMetadataStore(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 60000
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        store.close()
