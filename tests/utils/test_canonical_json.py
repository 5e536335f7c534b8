"""Canonical JSON and hashes: equal values always serialise and hash equal."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zenml.utils.hashing import canonical_json, hash_json, sha256_bytes, sha256_text

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=5),
    max_leaves=15,
)


def _reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_keys(item) for item in value]
    return value


def test_canonical_json_sorts_keys_and_drops_whitespace() -> None:
    assert canonical_json({"b": 1, "a": [1, 2, {"d": None, "c": True}]}) == '{"a":[1,2,{"c":true,"d":null}],"b":1}'


def test_canonical_json_keeps_unicode() -> None:
    assert canonical_json({"name": "Zürich ✓"}) == '{"name":"Zürich ✓"}'


@settings(max_examples=100, derandomize=True, deadline=None)
@given(JSON_VALUES)
def test_key_order_never_changes_the_text_or_hash(value: Any) -> None:
    shuffled = _reversed_keys(value)
    assert canonical_json(shuffled) == canonical_json(value)
    assert hash_json(shuffled) == hash_json(value)
    assert json.loads(canonical_json(value)) == value


def test_canonical_json_is_strict_by_default() -> None:
    with pytest.raises(TypeError):
        canonical_json({"a": (x for x in ())})


def test_canonical_json_non_strict_falls_back_to_repr() -> None:
    class Thing:
        def __repr__(self) -> str:
            return "Thing()"

    assert canonical_json({"a": Thing()}, strict=False) == '{"a":"Thing()"}'


def test_hashes_are_sha256() -> None:
    assert sha256_text("abc") == hashlib.sha256(b"abc").hexdigest()
    assert sha256_bytes(b"\x00\x01") == hashlib.sha256(b"\x00\x01").hexdigest()
    assert hash_json({"b": 2, "a": 1}) == sha256_text('{"a":1,"b":2}')
    assert hash_json({"a": 1}) != hash_json({"a": 1.5})
