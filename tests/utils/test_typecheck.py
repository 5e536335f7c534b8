"""The small runtime type checker: parameter values (``matches``) and output → input edges (``connectable``)."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Optional, Union

import pytest

from zenml.utils.typecheck import connectable, describe, matches

EMPTY = inspect.Parameter.empty


@pytest.mark.parametrize(
    ("value", "annotation", "expected"),
    [
        (1, int, True),
        (1, float, True),  # ints widen to floats
        (1.5, float, True),
        (1.0, int, False),
        (True, int, False),  # a bool is never a number parameter
        (True, float, False),
        (True, bool, True),
        (1, bool, False),
        (1, complex, True),
        ("x", str, True),
        (1, str, False),
        (None, None, True),
        (None, type(None), True),
        (0, None, False),
        (None, int, False),
        (None, Optional[int], True),  # noqa: UP045
        (None, int | None, True),
        (3, int | None, True),
        ("3", int | None, False),
        (3, Union[int, str], True),  # noqa: UP007
        ("a", Literal["a", "b"], True),
        ("c", Literal["a", "b"], False),
        (1, Literal[1], True),
        (True, Literal[1], False),  # Literal compares types, not just values
        (1.0, Literal[1], False),
        ([1, 2], list[int], True),
        ([1, "2"], list[int], False),
        ([], list[int], True),
        ((1, 2), list[int], False),
        ([1, "x"], list, True),
        ([[1], [2, 3]], list[list[int]], True),
        ([[1], ["x"]], list[list[int]], False),
        ({"a": 1.0, "b": 2}, dict[str, float], True),
        ({"a": "x"}, dict[str, float], False),
        ({1: 1.0}, dict[str, float], False),
        ([("a", 1.0)], dict[str, float], False),
        ({"a": [1]}, dict[str, list[int]], True),
        ({"a": 1}, dict, True),
        ({"a": 1}, Mapping[str, int], True),
        ([1, 2], Sequence[int], True),
        ([1, 2], tuple[int, int], True),
        ([1, "a"], tuple[int, str], True),
        ([1], tuple[int, str], False),
        ([1, 2, 3], tuple[int, ...], True),
        ([1, "x"], tuple[int, ...], False),
        ("anything", Any, True),
        (object(), object, True),
        ({"x": 1}, EMPTY, True),
        (3, "NotAType", True),  # unknown annotations never block a value
    ],
)
def test_matches(value: Any, annotation: Any, expected: bool) -> None:
    assert matches(value, annotation) is expected


class Base:
    pass


class Child(Base):
    pass


@pytest.mark.parametrize(
    ("output", "input_", "expected"),
    [
        (int, int, True),
        (int, float, True),  # int output into a float input is fine
        (float, float, True),
        (float, int, False),
        (bool, float, False),
        (str, float, False),
        (float, str, False),
        (int, complex, True),
        (Child, Base, True),
        (Base, Child, False),
        (list[int], list, True),
        (list[int], list[str], True),  # generics compare by origin only
        (list[int], dict[str, int], False),
        (dict[str, int], dict, True),
        (int, Optional[float], True),  # noqa: UP045
        (str, int | None, False),
        (int, int | str, True),
        (int | None, float, False),  # None could reach a float input
        (int | bool, float, False),
        (int | float, float, True),
        (Any, int, True),
        (int, Any, True),
        (EMPTY, float, True),
        (str, EMPTY, True),
        (object, int, True),
        (Literal["a"], str, True),  # not a class: connects
    ],
)
def test_connectable(output: Any, input_: Any, expected: bool) -> None:
    assert connectable(output, input_) is expected


@pytest.mark.parametrize(
    ("annotation", "text"),
    [
        (int, "int"),
        (Child, "Child"),
        (list[int], "list[int]"),
        (dict[str, float], "dict[str, float]"),
        (int | None, "int | None"),
        (Optional[str], "Optional[str]"),  # noqa: UP045
        (Literal["a"], "Literal['a']"),
        (EMPTY, "any"),
    ],
)
def test_describe(annotation: Any, text: str) -> None:
    assert describe(annotation) == text
