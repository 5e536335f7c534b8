"""Vocabulary named once: the duration formatter and the heartbeat defaults derived from one interval."""

from __future__ import annotations

import inspect

import pytest

from zenml.history.integrity import DEFAULT_STALE_AFTER
from zenml.metadata.store import SQLMetadataStore
from zenml.utils.status import HEARTBEAT_SECONDS, STALE_AFTER_SECONDS
from zenml.utils.text import seconds


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
