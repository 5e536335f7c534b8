"""``explain_miss``: a miss is explained by the cache-key components that differ from the closest execution."""

from __future__ import annotations

from typing import Any

from zenml.metadata.records import StepRunRecord
from zenml.pipelines.spec import StepSpec
from zenml.runtime.cache import cache_components
from zenml.runtime.codehash import Fingerprint
from zenml.runtime.plan import explain_miss

SPEC = StepSpec(type="flow.compute", params={}, inputs={}, outputs={"output": "json"})


def _components(values: dict[str, str], unhashable: dict[str, str] | None = None) -> dict[str, Any]:
    fingerprint = Fingerprint(code={"flow:compute": "c"}, values=values, unhashable=unhashable or {})
    return cache_components(SPEC, fingerprint, {})


def _earlier(components: dict[str, Any]) -> StepRunRecord:
    return StepRunRecord(
        id=1, run_id="run-1", name="compute", type="flow.compute", status="completed", params={},
        cache_key="k", code_hash="c", cache_components=components, cached_from_id=None,
        started_at=1.0, ended_at=2.0, error_type=None, error_message=None,
    )  # fmt: skip


def test_a_changed_added_or_dropped_value_is_named() -> None:
    earlier = _earlier(_components({"settings.WEIGHTS": "w1", "flow.LIMIT": "l", "flow.OLD": "o"}))
    now = _components({"settings.WEIGHTS": "w2", "flow.LIMIT": "l", "helpers.Model.SIZES": "s"})
    assert explain_miss(now, earlier) == (
        "vs run run-1: settings.WEIGHTS changed; now reads helpers.Model.SIZES; no longer reads flow.OLD"
    )


def test_an_execution_keyed_before_values_existed_is_explained_by_the_format_version() -> None:
    older = _components({})
    del older["values"]
    older["version"] = 1
    assert explain_miss(_components({"flow.LIMIT": "l"}), _earlier(older)) == (
        "vs run run-1: zenml's cache format version changed"
    )


def test_an_earlier_execution_that_could_not_be_cached_is_said_so() -> None:
    earlier = _earlier(_components({}, unhashable={"flow.LOG": "holds a _io.TextIOWrapper that cannot be hashed"}))
    assert explain_miss(_components({}), earlier) == (
        "run run-1 could not cache it (flow.LOG holds a _io.TextIOWrapper that cannot be hashed)"
    )
