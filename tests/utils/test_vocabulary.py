"""Vocabulary named once: durations, heartbeat defaults, deprecation warnings, validation errors as ConfigError."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from zenml.exceptions import ConfigError
from zenml.history.integrity import DEFAULT_STALE_AFTER
from zenml.metadata.store import SQLMetadataStore
from zenml.utils.deprecation import moved_attribute, moved_module
from zenml.utils.status import HEARTBEAT_SECONDS, STALE_AFTER_SECONDS
from zenml.utils.text import plural, seconds
from zenml.utils.validation import config_error


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "-"), (0.0, "0.00 s"), (0.123, "0.12 s"), (59.994, "59.99 s"), (60.0, "1 min 00 s"), (185.6, "3 min 06 s")],
)
def test_one_duration_text(value: float | None, text: str) -> None:
    assert seconds(value) == text


def test_the_stale_threshold_is_counted_in_heartbeats() -> None:
    assert STALE_AFTER_SECONDS == 6 * HEARTBEAT_SECONDS == DEFAULT_STALE_AFTER
    for method in (SQLMetadataStore.dead_runs, SQLMetadataStore.reap_dead_runs):
        assert inspect.signature(method).parameters["stale_after"].default == STALE_AFTER_SECONDS


def test_one_deprecation_helper_for_moved_modules_and_renamed_names() -> None:
    with pytest.warns(DeprecationWarning, match=r"^old\.mod moved to zenml\.utils\.text; import plural from "):
        assert moved_module("old.mod", "zenml.utils.text", "plural") is plural
    with pytest.warns(DeprecationWarning, match=r"^old\.mod is deprecated; import seconds from zenml\.utils\.text"):
        value = moved_module(
            "old.mod", "zenml.utils.text", "secs", names={"secs"}, renamed={"secs": "seconds"}, said="is deprecated"
        )
    assert value is seconds
    with pytest.raises(AttributeError, match="module 'old.mod' has no attribute 'plural'"):
        moved_module("old.mod", "zenml.utils.text", "plural", names={"secs"})
    with pytest.warns(
        DeprecationWarning, match=r"^old\.mod\.Old is deprecated: use zenml\.utils\.text\.plural instead"
    ):
        assert moved_attribute("old.mod", "Old", {"Old": "zenml.utils.text.plural"}) is plural


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")

    retries: int = Field(0, ge=0)
    nested: dict[str, int] = Field(default_factory=dict)

    @field_validator("retries")
    @classmethod
    def _not_seven(cls, value: int) -> int:
        if value == 7:
            raise ValueError("seven is unlucky")
        return value


@pytest.mark.parametrize(
    ("data", "kwargs", "message"),
    [
        ({"retriez": 1}, {}, "x.yaml: invalid 'retriez': Extra inputs are not permitted"),
        (
            {"nested": {"a": "b"}},
            {"field": "field"},
            "x.yaml: invalid field 'nested.a': Input should be a valid integer",
        ),
        ({"retries": 7}, {}, "x.yaml: invalid 'retries': Value error, seven is unlucky"),
        ({"retries": 7}, {"bare": True}, "x.yaml: invalid 'retries': seven is unlucky"),
        ([], {"whole": "spec"}, "x.yaml: invalid 'spec': Input should be a valid dictionary"),
    ],
)
def test_one_validation_error_conversion(data: object, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _Options.model_validate(data)
    error = config_error(caught.value, "x.yaml", **kwargs)
    assert isinstance(error, ConfigError) and str(error).startswith(message), str(error)
