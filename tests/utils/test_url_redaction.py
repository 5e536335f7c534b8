"""Credentials never survive into specs, logs or messages."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zenml.exceptions import ConfigError, redact_urls_in_text
from zenml.utils.redact import redact_text, redact_url


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("mysql+pymysql://root:hunter2@db:3306/zen", "mysql+pymysql://root:***@db:3306/zen"),
        ("postgresql+psycopg://u:p%40ss@host/db", "postgresql+psycopg://u:***@host/db"),
        ("postgresql://u:p@ss@host/db", "postgresql://u:***@host/db"),  # an unescaped '@' in the password
        ("postgresql://u:pa:ss@host/db", "postgresql://u:***@host/db"),
        ("postgresql://:hunter2@host/db", "postgresql://:***@host/db"),
        ("postgresql://user@host/db", "postgresql://user@host/db"),
        ("sqlite:///.zen/metadata.db", "sqlite:///.zen/metadata.db"),
        ("/local/folder", "/local/folder"),
        ("s3://bucket/prefix", "s3://bucket/prefix"),
        (
            "s3://bucket/p?aws_secret_access_key=AbC&region=eu-west-1",
            "s3://bucket/p?aws_secret_access_key=***&region=eu-west-1",
        ),
        (
            "postgresql://h/db?sslmode=require&password=pw&sslpassword=pw2",
            "postgresql://h/db?sslmode=require&password=***&sslpassword=***",
        ),
        ("https://h/x?Token=abc&TOKEN=def", "https://h/x?Token=***&TOKEN=***"),
        ("https://h/x?secret=s&key=k&pwd=p", "https://h/x?secret=***&key=***&pwd=***"),
        ("mysql://u:pw@h/db?password=pw", "mysql://u:***@h/db?password=***"),
    ],
)
def test_redact_url(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted


USER = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_.-", max_size=8)
# Passwords of a marked alphabet (so they cannot appear elsewhere in the URL), with the awkward
# characters people really put in them unescaped.
PASSWORD = st.text(alphabet="ZQXW@:;!$%^*()+=,~[]", min_size=1, max_size=16)
HOST = st.from_regex(r"[a-y][a-y0-9\-]{0,10}(\.[a-y]{2,4})?(:[0-9]{2,5})?", fullmatch=True)
SECRET_KEY = st.sampled_from(["password", "token", "secret", "access_key", "aws_session_token", "sslpassword"])
SECRET_VALUE = st.text(alphabet="ZQXW@:;!$%^*()+=,~/?#", min_size=1, max_size=16)


@settings(max_examples=100, derandomize=True, deadline=None)
@given(
    scheme=st.sampled_from(["mysql+pymysql", "postgresql", "postgresql+psycopg", "s3", "https"]),
    user=USER,
    password=PASSWORD,
    host=HOST,
    key=SECRET_KEY,
    secret=SECRET_VALUE,
)
def test_passwords_and_secret_query_values_never_survive(
    scheme: str, user: str, password: str, host: str, key: str, secret: str
) -> None:
    url = f"{scheme}://{user}:{password}@{host}/db?sslmode=require&{key}={secret}&region=eu"
    redacted = redact_url(url)
    assert redacted == f"{scheme}://{user}:***@{host}/db?sslmode=require&{key}=***&region=eu"
    assert not set("ZQXW") & set(redacted)


@settings(max_examples=50, derandomize=True, deadline=None)
@given(user=USER, password=PASSWORD, host=HOST)
def test_passwords_inside_messages_never_survive(user: str, password: str, host: str) -> None:
    text = f"cannot connect to 'mysql://{user}:{password}@{host}/zen': timed out"
    redacted = redact_urls_in_text(text)
    assert redacted == f"cannot connect to 'mysql://{user}:***@{host}/zen': timed out"
    assert not set("ZQXW") & set(str(ConfigError(text)))


def test_error_messages_are_redacted() -> None:
    error = ConfigError("metadata store postgresql://zen:s3cr3t@db/zen is unreachable")
    assert str(error) == "metadata store postgresql://zen:***@db/zen is unreachable"


def test_redact_text_replaces_each_known_secret() -> None:
    assert redact_text("token abcd and abcd again, key xyz1", ["abcd", "xyz1"]) == "token *** and *** again, key ***"


def test_redact_text_ignores_empty_and_tiny_secrets() -> None:
    # very short "secrets" would shred ordinary text
    assert redact_text("a b ab", ["", "a", "ab"]) == "a b ab"
