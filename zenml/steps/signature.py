"""Read a step's inputs and outputs from the annotations of its ``process`` method."""

from __future__ import annotations

import inspect
import typing
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from zenml.exceptions import ConfigError
from zenml.steps.context import StepContext

SINGLE_OUTPUT = "output"


@dataclass(frozen=True)
class StepSignature:
    """What a step consumes and produces.

    Attributes:
        inputs: input name → annotation, in ``process`` argument order.
        outputs: output name → annotation (``{"output": T}`` for a single value; ``{}`` for None).
        context_arg: the argument that receives the ``StepContext``, if any.
        tuple_type: the ``NamedTuple`` class for several outputs, else ``None``.
    """

    inputs: dict[str, Any]
    outputs: dict[str, Any]
    context_arg: str | None
    tuple_type: type | None


def _hints(func: Callable[..., Any], owner: str) -> dict[str, Any]:
    try:
        return typing.get_type_hints(func)
    except Exception as exc:
        raise ConfigError(f"cannot resolve the annotations of {owner}: {exc}") from exc


def outputs_of(return_annotation: Any) -> tuple[dict[str, Any], type | None]:
    """Map a return annotation to output names: NamedTuple fields, ``output``, or none."""
    if return_annotation is None or return_annotation is type(None):
        return {}, None
    if return_annotation is inspect.Parameter.empty:
        return {SINGLE_OUTPUT: Any}, None
    if isinstance(return_annotation, type) and issubclass(return_annotation, tuple):
        fields = getattr(return_annotation, "_fields", None)
        if fields:
            hints = typing.get_type_hints(return_annotation)
            return {name: hints.get(name, Any) for name in fields}, return_annotation
    return {SINGLE_OUTPUT: return_annotation}, None


#: signatures already read, per function and (owner, skip_first, params): a run asks for each step's
#: signature ~10 times (compile, wiring, rebuild, execution) and a read costs ~0.1 ms; a function
#: object's annotations do not change (an edited and re-imported module makes new function objects)
_READ: weakref.WeakKeyDictionary[Callable[..., Any], dict[tuple[str, bool, frozenset[str]], StepSignature]] = (
    weakref.WeakKeyDictionary()
)


def read_signature(
    func: Callable[..., Any], owner: str, *, skip_first: bool, params: typing.Collection[str] = ()
) -> StepSignature:
    """The signature of ``func`` (a ``process`` method or a step function); its dicts are the caller's own.

    Raises:
        ConfigError: ``*args``/``**kwargs``, or an input with no usable name.
    """
    key = (owner, skip_first, frozenset(params))
    try:
        known = _READ.setdefault(func, {})
    except TypeError:  # not weakly referable (a builtin): read it each time
        return _read_signature(func, owner, skip_first=skip_first, params=params)
    signature = known.get(key)
    if signature is None:
        signature = known[key] = _read_signature(func, owner, skip_first=skip_first, params=params)
    return replace(signature, inputs=dict(signature.inputs), outputs=dict(signature.outputs))


def _read_signature(
    func: Callable[..., Any], owner: str, *, skip_first: bool, params: typing.Collection[str] = ()
) -> StepSignature:
    """Build the signature of ``func`` (a ``process`` method or a step function).

    Args:
        func: the callable whose arguments are inputs.
        owner: how error messages name it.
        skip_first: skip ``self``.
        params: argument names that are parameters, not inputs (function steps).

    Raises:
        ConfigError: ``*args``/``**kwargs``, or an input with no usable name.
    """
    hints = _hints(func, owner)
    inputs: dict[str, Any] = {}
    context_arg: str | None = None
    for index, parameter in enumerate(inspect.signature(func).parameters.values()):
        if skip_first and index == 0:
            continue
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise ConfigError(f"{owner} takes *{parameter.name}; declare each input as a named argument")
        annotation = hints.get(parameter.name, inspect.Parameter.empty)
        if annotation is StepContext:
            context_arg = parameter.name
        elif parameter.name not in params:
            inputs[parameter.name] = annotation
    outputs, tuple_type = outputs_of(hints.get("return", inspect.Parameter.empty))
    return StepSignature(inputs=inputs, outputs=outputs, context_arg=context_arg, tuple_type=tuple_type)
