"""``@pipeline``: define a DAG by calling steps inside a function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, overload

from zenml.exceptions import GraphError
from zenml.pipelines.base import BasePipeline, StepNode
from zenml.steps.base import BaseStep
from zenml.steps.wiring import OutputHandle, active_builder
from zenml.utils.importing import module_name_of


class _GraphBuilder:
    """Collects step calls made while a ``@pipeline`` function runs."""

    def __init__(self) -> None:
        self.nodes: dict[str, StepNode] = {}

    def add_call(self, step: BaseStep, inputs: dict[str, OutputHandle]) -> str:
        name = step.default_name()
        if name in self.nodes:
            if step.options.name:
                raise GraphError(f"two steps are named '{name}'; give each a unique name with .configure(name=...)")
            suffix = 2
            while f"{name}_{suffix}" in self.nodes:
                suffix += 1
            name = f"{name}_{suffix}"
        self.nodes[name] = StepNode(name, step, {key: handle.reference for key, handle in inputs.items()})
        return name


class FunctionPipeline(BasePipeline):
    """A pipeline whose graph is recorded by calling its function once.

    Examples:
        >>> from zenml.steps import step
        >>> @step
        ... def load() -> float:
        ...     return 3.0
        >>> @step
        ... def double(x: float) -> float:
        ...     return 2 * x
        >>> @pipeline
        ... def demo():
        ...     double(load())
        >>> demo.order()
        ['load', 'double']
    """

    def __init__(self, func: Callable[[], Any], name: str | None = None) -> None:
        super().__init__(name or func.__name__)
        self.func = func
        self._built: dict[str, StepNode] | None = None
        self.__doc__ = func.__doc__

    def nodes(self) -> dict[str, StepNode]:
        """The steps recorded by the function, then any added with ``add_step``."""
        if self._built is None:
            builder = _GraphBuilder()
            token = active_builder.set(builder)
            try:
                self.func()
            finally:
                active_builder.reset(token)
            self._built = builder.nodes
        return {**self._built, **self._custom}

    def pipeline_type(self) -> str:
        """The dotted path of the decorated function."""
        return f"{module_name_of(self.func)}.{self.func.__qualname__}"


@overload
def pipeline(func: Callable[[], Any], /) -> FunctionPipeline: ...
@overload
def pipeline(*, name: str | None = None) -> Callable[[Callable[[], Any]], FunctionPipeline]: ...


def pipeline(
    func: Callable[[], Any] | None = None, /, *, name: str | None = None
) -> FunctionPipeline | Callable[[Callable[[], Any]], FunctionPipeline]:
    """Decorate a function that calls steps to make it a pipeline: ``@pipeline`` or ``@pipeline(name=...)``."""

    def decorate(function: Callable[[], Any]) -> FunctionPipeline:
        return FunctionPipeline(function, name=name)

    return decorate(func) if func is not None else decorate
