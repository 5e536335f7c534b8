"""``${VAR}`` placeholders: filled from the environment at any depth, an unset variable named in the error."""

from __future__ import annotations

import pytest

from zenml.exceptions import ConfigError
from zenml.utils.envvars import expand_in, expand_variables, fill_placeholders

ENVIRON = {"DB_PASSWORD": "s3cret", "BUCKET": "team-bucket", "EMPTY": ""}


def test_every_placeholder_is_filled() -> None:
    url = "postgresql://zen:${DB_PASSWORD}@db/${BUCKET}${EMPTY}"
    assert expand_variables(url, "stack 'team' metadata_store", ENVIRON) == "postgresql://zen:s3cret@db/team-bucket"


def test_text_without_braces_is_left_alone() -> None:
    for text in ("$DB_PASSWORD", "${}", "${1X}", "price: $5", "s3://bucket/{a}"):
        assert expand_variables(text, "x", ENVIRON) == text


def test_an_unset_variable_is_named_with_its_owner() -> None:
    with pytest.raises(ConfigError, match=r"^stack 'team' metadata_store needs the environment variable NOPE, which"):
        expand_variables("sqlite:///${NOPE}.db", "stack 'team' metadata_store", ENVIRON)


def test_options_are_filled_at_any_depth_and_the_error_names_the_key() -> None:
    options = {"client_kwargs": {"endpoint_url": "https://${BUCKET}.example"}, "hosts": ["${BUCKET}", 3], "anon": False}
    assert expand_in(options, "opts", ENVIRON) == {
        "client_kwargs": {"endpoint_url": "https://team-bucket.example"},
        "hosts": ["team-bucket", 3],
        "anon": False,
    }
    with pytest.raises(ConfigError, match=r"opts\.client_kwargs\.secret needs the environment variable S3_SECRET"):
        expand_in({"client_kwargs": {"secret": "${S3_SECRET}"}}, "opts", ENVIRON)


def test_placeholders_can_be_filled_with_a_stand_in_for_syntax_checks() -> None:
    assert fill_placeholders("postgresql://zen:${PW}@${HOST}/db") == "postgresql://zen:placeholder@placeholder/db"
