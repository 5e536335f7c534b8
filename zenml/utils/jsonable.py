"""Checks that parameter values are plain JSON data (the only values a run spec can hold)."""

from __future__ import annotations

import math
from typing import Any

from zenml.exceptions import excerpt
from zenml.utils.text import with_article


def find_non_jsonable(value: Any, path: str = "") -> str | None:
    """Return a description of the first part of ``value`` that is not JSON-able, else ``None``.

    Tuples and sets are refused on purpose: they would come back from YAML as lists, and a
    parameter must survive the spec round trip unchanged.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{path or 'value'} is {value!r} (not finite)"
    if isinstance(value, list):
        for index, item in enumerate(value):
            problem = find_non_jsonable(item, f"{path}[{index}]")
            if problem:
                return problem
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path or 'value'} has a non-string key {excerpt(key)}"
            problem = find_non_jsonable(item, f"{path}[{excerpt(key, 40)}]")
            if problem:
                return problem
        return None
    return f"{path or 'value'} is {with_article(type(value).__name__)}"
