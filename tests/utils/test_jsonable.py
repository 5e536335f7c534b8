"""``find_non_jsonable``: only values that survive a JSON/YAML round trip unchanged are parameters."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zenml.utils.jsonable import find_non_jsonable

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=100, derandomize=True, deadline=None)
@given(JSON_VALUES)
def test_json_values_are_accepted_and_round_trip(value: Any) -> None:
    assert find_non_jsonable(value) is None
    assert json.loads(json.dumps(value)) == value


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ((1, 2), "value is a tuple"),
        ({1}, "value is a set"),
        (frozenset(), "value is a frozenset"),
        (b"x", "value is a bytes"),
        (1j, "value is a complex"),
        (math.nan, "value is nan (not finite)"),
        (-math.inf, "value is -inf (not finite)"),
        ({3: "x"}, "value has a non-string key 3"),
        ([1, [2, object()]], "[1][1] is an object"),
        ({"a": [1, {"b": (1,)}]}, "['a'][1]['b'] is a tuple"),
        ({"a": {None: 1}}, "['a'] has a non-string key None"),
    ],
)
def test_non_jsonable_parts_are_located(value: Any, problem: str) -> None:
    assert find_non_jsonable(value) == problem


def test_first_problem_is_reported() -> None:
    assert find_non_jsonable([1, (2,), {3}]) == "[1] is a tuple"
