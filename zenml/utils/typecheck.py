"""A small runtime type checker for parameter values and for connecting step outputs to inputs.

It understands the annotations parameters use in practice (builtins, ``list[...]``,
``dict[str, ...]``, ``Optional``/unions, ``Literal``, ``Any``); anything else is accepted rather
than guessed at, so an exotic annotation never blocks a valid value.
"""

from __future__ import annotations

import inspect
import types
import typing
from typing import Any, Literal, Union

_NUMERIC_WIDENING = {float: (int, float), complex: (int, float, complex)}


def matches(value: Any, annotation: Any) -> bool:
    """Return whether ``value`` is an instance of ``annotation`` (JSON-level precision)."""
    if annotation is Any or annotation is inspect.Parameter.empty or annotation is object:
        return True
    if annotation is None or annotation is type(None):
        return value is None
    origin = typing.get_origin(annotation)
    if origin is None:
        return _matches_class(value, annotation)
    args = typing.get_args(annotation)
    if origin is Union or origin is types.UnionType:
        return any(matches(value, arg) for arg in args)
    if origin is Literal:
        return any(value == arg and type(value) is type(arg) for arg in args)
    if origin in (list, typing.Sequence, set, frozenset, tuple) or _is_abc(origin, "Sequence"):
        return _matches_sequence(value, origin, args)
    if origin in (dict, typing.Mapping) or _is_abc(origin, "Mapping"):
        return _matches_mapping(value, args)
    return True


def _is_abc(origin: Any, name: str) -> bool:
    return getattr(origin, "__module__", "") == "collections.abc" and origin.__name__ == name


def _matches_class(value: Any, annotation: Any) -> bool:
    if not isinstance(annotation, type):
        return True
    if isinstance(value, bool) and annotation in (int, float):
        return False  # True is an int in Python, but never a meaningful number parameter
    allowed = _NUMERIC_WIDENING.get(annotation, (annotation,))
    return isinstance(value, allowed)


def _matches_sequence(value: Any, origin: Any, args: tuple[Any, ...]) -> bool:
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(matches(item, args[0]) for item in value)
        return len(args) == len(value) and all(matches(i, a) for i, a in zip(value, args, strict=True))
    if not isinstance(value, list):
        return False
    return not args or all(matches(item, args[0]) for item in value)


def _matches_mapping(value: Any, args: tuple[Any, ...]) -> bool:
    if not isinstance(value, dict):
        return False
    if len(args) != 2:
        return True
    return all(matches(k, args[0]) and matches(v, args[1]) for k, v in value.items())


def describe(annotation: Any) -> str:
    """Return a readable name for an annotation (``list[int]``, ``float``, ``str | None``)."""
    if annotation is inspect.Parameter.empty:
        return "any"
    if isinstance(annotation, type) and typing.get_origin(annotation) is None:
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def connectable(output: Any, input_: Any) -> bool:
    """Return whether an output annotated ``output`` may feed an input annotated ``input_``.

    Unknown or ``Any`` on either side connects; classes connect when the output is a subclass
    of the input (ints feed floats); generics compare by their origin class.
    """
    empty = (Any, inspect.Parameter.empty, object)
    if output in empty or input_ in empty:
        return True
    in_origin = typing.get_origin(input_)
    if in_origin is Union or in_origin is types.UnionType:
        return any(connectable(output, arg) for arg in typing.get_args(input_))
    out_origin = typing.get_origin(output)
    if out_origin is Union or out_origin is types.UnionType:
        return all(connectable(arg, input_) for arg in typing.get_args(output))
    out_cls = out_origin or output
    in_cls = in_origin or input_
    if not isinstance(out_cls, type) or not isinstance(in_cls, type):
        return True
    if in_cls in _NUMERIC_WIDENING:
        return issubclass(out_cls, _NUMERIC_WIDENING[in_cls]) and out_cls is not bool
    return issubclass(out_cls, in_cls)
