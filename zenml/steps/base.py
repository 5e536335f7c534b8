"""``BaseStep``: the abstract step with the parameter contract and a final ``execute`` entry point."""

from __future__ import annotations

import abc
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar, Self, final

from zenml.exceptions import ConfigError, GraphError, StepError
from zenml.steps.context import StepContext
from zenml.steps.options import StepOptions, runtime_from
from zenml.steps.signature import SINGLE_OUTPUT, StepSignature, read_signature
from zenml.steps.wiring import OutputHandle, StepOutputs, active_builder
from zenml.utils.names import check_name
from zenml.utils.params import Configurable
from zenml.utils.text import plural, with_article
from zenml.utils.typecheck import describe, matches


def snake_case(name: str) -> str:
    """``StandardScaler`` → ``standard_scaler``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class BaseStep(Configurable, abc.ABC):
    """A unit of pipeline work: parameters in ``__init__``, inputs and outputs from ``process``.

    Examples:
        >>> class Scale(BaseStep):
        ...     def __init__(self, factor: float = 1.0):
        ...         self.factor = factor
        ...     def process(self, x: float) -> float:
        ...         return x * self.factor
        >>> Scale(factor=2.0).process(x=3.0)
        6.0
    """

    _config_kind: ClassVar[str] = "step"

    @abc.abstractmethod
    def process(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the step's outputs from its inputs; annotate every argument and the return."""

    # -- introspection -------------------------------------------------------------------------

    def signature(self) -> StepSignature:
        """Return the inputs and outputs declared by ``process``'s annotations."""
        return read_signature(type(self).process, f"{type(self).__name__}.process", skip_first=True)

    def preflight(self) -> None:
        """Checks that must pass before a run is recorded (a source file exists, …); default none.

        Called when a pipeline compiles, so bad input fails with nothing recorded.
        """

    def check_producers(self, producers: Mapping[str, tuple[str, BaseStep, str]]) -> None:
        """Check the steps wired to this one's inputs when the pipeline compiles; default none.

        ``producers`` maps an input to ``(producing step's name, that step, its output)`` (inputs
        from other runs are left out). Raise ``ConfigError`` for a producer this step cannot use.
        """

    def source_version(self) -> str | None:
        """A version of external data the step reads (e.g. a file's content hash), or ``None``.

        It joins the cache key, so a step that reads files, tables or URLs is re-run when their
        content changes even though its parameters did not. Datasources override it.
        """
        return None

    def default_name(self) -> str:
        """The name a ``@pipeline`` gives this step unless told otherwise."""
        return self.options.name or snake_case(type(self).__name__)

    @property
    def options(self) -> StepOptions:
        """The run options (name, cache flag, backend overrides) of this step object."""
        options: StepOptions = self.__dict__.get("_zen_options") or StepOptions()
        return options

    def configure(
        self,
        *,
        name: str | None = None,
        enable_cache: bool | None = None,
        retries: int | None = None,
        retry_delay: float | None = None,
        retry_backoff: float | None = None,
        timeout: float | None = None,
        resources: Mapping[str, Any] | None = None,
    ) -> Self:
        """Return a copy with a different pipeline name, cache setting or runtime settings.

        ``retries`` further attempts after a failure (waiting ``retry_delay`` seconds, times
        ``retry_backoff`` per further retry); ``timeout`` seconds per attempt, after which the step
        is stopped and recorded ``timed_out``; ``resources`` such as ``{"cpu": 2, "memory": "4GiB",
        "gpu": 1}``. None of them is part of the cache key.

        Raises:
            ConfigError: a bad name, a negative retry count, a timeout <= 0 or an unknown resource.
        """
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = check_name(name, "step")
        if enable_cache is not None:
            changes["enable_cache"] = bool(enable_cache)
        settings = {
            "retries": retries,
            "retry_delay": retry_delay,
            "retry_backoff": retry_backoff,
            "timeout": timeout,
            "resources": dict(resources) if resources is not None else None,
        }
        given = {key: value for key, value in settings.items() if value is not None}
        if given:
            current = self.options.runtime.model_dump()
            label = f"step '{name or self.default_name()}'"
            changes["runtime"] = runtime_from({**current, **given}, label)
        return self._with_options(replace(self.options, **changes))

    def with_backend(self, backend: Configurable) -> Self:
        """Return a copy that runs on ``backend`` (a processing or training backend) for this step."""
        kind = getattr(backend, "backend_kind", None)
        if kind not in ("processing", "training"):
            raise ConfigError(
                f"{type(backend).__name__} is not a processing or training backend; "
                "pass e.g. LocalProcessing() or LocalTraining()"
            )
        config = backend.to_config()
        if kind == "processing":
            return self._with_options(replace(self.options, processing=config))
        return self._with_options(replace(self.options, training=config))

    @classmethod
    def _build_from(cls, target: Any, type_path: str, params: dict[str, Any]) -> Self:
        # An @step function's path names a step *object*, not a class: rebuild it from that object,
        # so ``BaseStep.from_config(fn.to_config())`` works for function steps as for class steps.
        if isinstance(target, cls):
            return target.clone().set_params(**params)
        return super()._build_from(target, type_path, params)

    def _with_options(self, options: StepOptions) -> Self:
        twin = self.clone()
        twin.__dict__["_zen_options"] = options
        return twin

    def clone(self) -> Self:
        """Return an equal, independent copy (parameters and options)."""
        twin = super().clone()
        if "_zen_options" in self.__dict__:
            twin.__dict__["_zen_options"] = self.__dict__["_zen_options"]
        return twin

    # -- execution -----------------------------------------------------------------------------

    @final
    def execute(self, inputs: Mapping[str, Any], context: StepContext) -> dict[str, Any]:
        """Run ``process`` on resolved inputs and return its outputs by name (the engine's entry).

        Raises:
            StepError: ``process`` returned something that does not match its declared outputs.
        """
        signature = self.signature()
        kwargs = {name: inputs[name] for name in signature.inputs}
        if signature.context_arg:
            kwargs[signature.context_arg] = context
        result = self.process(**kwargs)
        return self._outputs_from(result, signature, context.step_name)

    def _outputs_from(self, result: Any, signature: StepSignature, step_name: str) -> dict[str, Any]:
        if not signature.outputs:
            if result is not None:
                raise StepError(step_name, "TypeError", "process() is annotated '-> None' but returned a value")
            return {}
        if signature.tuple_type is None:
            outputs = {SINGLE_OUTPUT: result}
        else:
            if not isinstance(result, tuple) or len(result) != len(signature.outputs):
                raise StepError(
                    step_name,
                    "TypeError",
                    f"process() must return {with_article(signature.tuple_type.__name__)} "
                    f"with {plural(len(signature.outputs), 'field')}",
                )
            outputs = dict(zip(signature.outputs, result, strict=True))
        for name, value in outputs.items():
            annotation = signature.outputs[name]
            if not matches(value, annotation):
                raise StepError(
                    step_name,
                    "TypeError",
                    f"output '{name}' is annotated {describe(annotation)} but process() returned "
                    f"{type(value).__name__}",
                )
        return outputs

    # -- wiring inside @pipeline ---------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Inside a ``@pipeline`` function: add this step to the graph and return its output handles.

        Raises:
            GraphError: called outside a ``@pipeline`` function, or with inputs that are not handles.
        """
        builder = active_builder.get()
        if builder is None:
            raise GraphError(
                f"step {self.display_name()} was called outside a @pipeline function; "
                "call .process(...) to run it directly, or add it to a pipeline"
            )
        step, inputs = self._bind_call(args, kwargs)
        name = builder.add_call(step, inputs)
        handles = {out: OutputHandle(name, out, ann) for out, ann in step.signature().outputs.items()}
        if not handles:
            return None
        if list(handles) == [SINGLE_OUTPUT]:
            return handles[SINGLE_OUTPUT]
        return StepOutputs(handles)

    def _bind_call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Self, dict[str, OutputHandle]]:
        input_names = list(self.signature().inputs)
        if len(args) > len(input_names):
            raise GraphError(f"step {self.display_name()} takes {plural(len(input_names), 'input')}, got {len(args)}")
        bound = dict(zip(input_names, args, strict=False))
        for key, value in kwargs.items():
            if key in bound:
                raise GraphError(f"input '{key}' of step {self.display_name()} was given twice")
            bound[key] = value
        handles = {k: v for k, v in bound.items() if isinstance(v, OutputHandle)}
        literals = {k: v for k, v in bound.items() if not isinstance(v, OutputHandle)}
        return self._apply_literals(literals), handles

    def _apply_literals(self, literals: dict[str, Any]) -> Self:
        if literals:
            name = next(iter(literals))
            raise GraphError(
                f"input '{name}' of step {self.display_name()} got the literal {literals[name]!r}; "
                f"inputs must come from another step's output (parameters go to {type(self).__name__}(...))"
            )
        return self.clone()
