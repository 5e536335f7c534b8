"""``@step``: turn a plain function into a step, a ``FunctionStep`` (as ``@pipeline`` makes a ``FunctionPipeline``).

Arguments *without* a default are inputs (wired from other steps' outputs); arguments *with* a
default are parameters (JSON-able, recorded in the run spec). The split is static so a pipeline
can be validated before it runs: a misspelled parameter or a missing input is caught at compile.
"""

from __future__ import annotations

import copy
import functools
import inspect
import typing
import weakref
from collections.abc import Callable
from typing import Any, Self, overload

from zenml.exceptions import ConfigError, GraphError
from zenml.steps.base import BaseStep
from zenml.steps.options import StepOptions
from zenml.steps.signature import StepSignature, read_signature
from zenml.utils.deprecation import moved_attribute as _moved_attribute
from zenml.utils.importing import module_name_of
from zenml.utils.params import ParamSpec

#: the parameter specs of each decorated function: every ``clone`` (several per step and run) needs
#: them, and reading a signature and its type hints costs ~0.1 ms; a function object's signature
#: does not change (an edited and re-imported module makes new function objects)
_SPECS_OF: weakref.WeakKeyDictionary[Callable[..., Any], dict[str, ParamSpec]] = weakref.WeakKeyDictionary()


def _function_param_specs(func: Callable[..., Any]) -> dict[str, ParamSpec]:
    """The defaulted arguments of ``func`` (a fresh dict each call)."""
    try:
        known = _SPECS_OF.get(func)
    except TypeError:  # not weakly referable (a builtin): read it each time
        return _read_function_param_specs(func)
    if known is None:
        known = _SPECS_OF[func] = _read_function_param_specs(func)
    return dict(known)


def _read_function_param_specs(func: Callable[..., Any]) -> dict[str, ParamSpec]:
    try:
        hints = typing.get_type_hints(func)
    except Exception as exc:
        raise ConfigError(f"cannot resolve the annotations of step function {func.__name__}: {exc}") from exc
    specs: dict[str, ParamSpec] = {}
    for parameter in inspect.signature(func).parameters.values():
        if parameter.default is not inspect.Parameter.empty:
            annotation = hints.get(parameter.name, parameter.annotation)
            specs[parameter.name] = ParamSpec(parameter.name, annotation, parameter.default)
    return specs


class FunctionStep(BaseStep):
    """A step made from a function by ``@step``; its parameters are the defaulted arguments.

    Examples:
        >>> @step
        ... def add(x: float, offset: float = 1.0) -> float:
        ...     return x + offset
        >>> add.process(x=1.0)
        2.0
    """

    def __init__(self, func: Callable[..., Any]) -> None:
        self.__dict__["_func"] = func
        self.__dict__["_specs"] = _function_param_specs(func)
        self.__dict__["_values"] = {name: spec.default for name, spec in self.param_specs().items()}
        functools.update_wrapper(self, func)
        self.check_params(self.get_params())

    @property
    def func(self) -> Callable[..., Any]:
        """The wrapped function."""
        func: Callable[..., Any] = self.__dict__["_func"]
        return func

    def param_specs(self) -> dict[str, ParamSpec]:
        """The defaulted arguments of the function."""
        specs: dict[str, ParamSpec] = self.__dict__["_specs"]
        return specs

    def get_params(self) -> dict[str, Any]:
        """Current parameter values (defaults unless set)."""
        values: dict[str, Any] = copy.deepcopy(self.__dict__["_values"])
        return values

    def set_params(self, **params: Any) -> Self:
        """Set parameter values after validation; return self."""
        self.check_params(params)
        self.__dict__["_values"].update(copy.deepcopy(params))
        return self

    def config_type(self) -> str:
        """The dotted path of the decorated function (what ``from_config`` imports)."""
        return f"{module_name_of(self.func)}.{self.func.__qualname__}"

    def display_name(self) -> str:
        """The function's name."""
        return self.func.__name__

    def default_name(self) -> str:
        """The function's name unless configured otherwise."""
        return self.options.name or self.func.__name__

    def clone(self) -> Self:
        """A copy with the same function, parameter values and options."""
        twin = type(self)(self.func)
        twin.__dict__["_values"] = self.get_params()
        if "_zen_options" in self.__dict__:
            twin.__dict__["_zen_options"] = self.__dict__["_zen_options"]
        return twin

    def signature(self) -> StepSignature:
        """Inputs are the arguments without defaults."""
        return read_signature(
            self.func, f"step function {self.func.__name__}", skip_first=False, params=self.param_specs()
        )

    def process(self, *args: Any, **kwargs: Any) -> Any:
        """Call the function with the given inputs and the current parameter values."""
        return self.func(*args, **{**self.get_params(), **kwargs})

    @classmethod
    def _build_from(cls, target: Any, type_path: str, params: dict[str, Any]) -> Self:
        if isinstance(target, FunctionStep):
            return target.clone().set_params(**params)  # type: ignore[return-value]
        if isinstance(target, type) and issubclass(target, cls) and target is not FunctionStep:
            return super()._build_from(target, type_path, params)
        raise ConfigError(f"'{type_path}' is not a step: decorate the function with @step or subclass BaseStep")

    def _apply_literals(self, literals: dict[str, Any]) -> Self:
        inputs = self.signature().inputs
        stray = [name for name in literals if name in inputs]
        if stray:
            raise GraphError(
                f"input '{stray[0]}' of step {self.func.__name__} got the literal {literals[stray[0]]!r}; "
                "wire it to another step's output, or give the argument a default to make it a parameter"
            )
        return self.clone().set_params(**literals)


RUNTIME_SETTINGS = frozenset({"retries", "retry_delay", "retry_backoff", "timeout", "resources"})


@overload
def step(func: Callable[..., Any], /) -> FunctionStep: ...
@overload
def step(
    *, name: str | None = None, enable_cache: bool = True, **runtime: Any
) -> Callable[[Callable[..., Any]], FunctionStep]: ...


def step(
    func: Callable[..., Any] | None = None, /, *, name: str | None = None, enable_cache: bool = True, **runtime: Any
) -> FunctionStep | Callable[[Callable[..., Any]], FunctionStep]:
    """Decorate a function to make it a step: ``@step`` or ``@step(name=..., enable_cache=False)``.

    Runtime settings go here too: ``@step(retries=2, retry_delay=1.0, timeout=60, resources={"cpu": 2})``
    (see ``BaseStep.configure``).

    Examples:
        >>> @step
        ... def load() -> float:
        ...     return 3.0
        >>> load.process()
        3.0
    """

    def decorate(function: Callable[..., Any]) -> FunctionStep:
        function_step = FunctionStep(function)
        if name is not None or not enable_cache or runtime:
            unknown = sorted(set(runtime) - RUNTIME_SETTINGS)
            if unknown:
                raise ConfigError(
                    f"@step got unknown setting '{unknown[0]}'; use name, enable_cache or one of "
                    f"{', '.join(sorted(RUNTIME_SETTINGS))}"
                )
            function_step = function_step.configure(name=name, enable_cache=enable_cache, **runtime)
        return function_step

    return decorate(func) if func is not None else decorate


# Renamed from ``SimpleStep`` (the old name for one release, with a warning). Nothing recorded depends on
# the class's name: a function step's spec ``type`` is the decorated function's path, never this class,
# and its code fingerprint starts at that function and skips zenml's own code, so specs written before
# the rename replay unchanged and their cache keys stay the same (tests/steps/test_spec_before_rename.py).
_RENAMED = {"SimpleStep": "zenml.steps.function.FunctionStep"}


def __getattr__(name: str) -> Any:
    return _moved_attribute(__name__, name, _RENAMED)


__all__ = ["FunctionStep", "StepOptions", "step"]
