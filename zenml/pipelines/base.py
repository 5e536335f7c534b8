"""``BasePipeline``: a named DAG of steps that validates itself and compiles to a run spec."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, Unpack

from zenml.artifacts.materializers import materializer_registry as materializers
from zenml.exceptions import ConfigError, GraphError, ZenMLError
from zenml.pipelines.graph import topological_order
from zenml.pipelines.spec import (
    EXTERNAL_PREFIX,
    BackendSpec,
    BackendsSpec,
    DataPin,
    EnvironmentSpec,
    FailurePolicy,
    GitSpec,
    PipelineInfo,
    RunSpec,
    StackSpec,
    StepSpec,
    parse_reference,
)
from zenml.registry import name_of_backend
from zenml.steps.base import BaseStep
from zenml.steps.signature import SINGLE_OUTPUT
from zenml.utils.environment import package_versions, project_code_paths, python_version, zenml_version
from zenml.utils.importing import qualified_name
from zenml.utils.legacy import PIPELINE_ARGUMENTS, RUN_OPTIONS
from zenml.utils.names import check_name
from zenml.utils.params import CheckedInit, caller_location, suggest, unknown_name
from zenml.utils.typecheck import connectable, describe

if TYPE_CHECKING:
    from zenml.engine.options import PlanOptions, RunOptions
    from zenml.history.runs import PipelineRun
    from zenml.runtime.plan import StepPlan


@dataclass
class StepNode:
    """A step in a pipeline with its name and wired inputs (input → ``step`` or ``step.output``)."""

    name: str
    step: BaseStep
    inputs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CompileContext:
    """What a run adds to the pipeline's own graph when it compiles (supplied by the launcher)."""

    run_id: str
    backends: BackendsSpec
    stack: StackSpec
    project_root: Path
    git: GitSpec | None = None
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    failure_policy: FailurePolicy = "stop"
    #: source steps served from an earlier run's data (their sources are not checked)
    data_from: Mapping[str, DataPin] = field(default_factory=dict)


class BasePipeline(metaclass=CheckedInit):
    """A named DAG of steps.

    Examples:
        >>> from zenml.steps import step
        >>> @step
        ... def one() -> int:
        ...     return 1
        >>> @step
        ... def double(x: int) -> int:
        ...     return 2 * x
        >>> p = BasePipeline("demo").add_step("one", one).add_step("double", double, inputs={"x": "one"})
        >>> p.order()
        ['one', 'double']
    """

    def __init__(self, name: str) -> None:
        self.name = check_name(name, "pipeline")
        self._custom: dict[str, StepNode] = {}

    @classmethod
    def _legacy_keyword(cls, name: str) -> str | None:
        """What legacy ZenML's ``TrainingPipeline(name=...)`` keyword became (``CheckedInit`` asks)."""
        return PIPELINE_ARGUMENTS.get(name)

    # -- building --------------------------------------------------------------------------------

    def add_step(self, name: str, step: BaseStep, inputs: Mapping[str, str] | None = None) -> Self:
        """Add ``step`` under ``name``; ``inputs`` maps each input to ``"step"`` or ``"step.output"``.

        Raises:
            GraphError: the name is taken or ``step`` is not a step.
        """
        check_name(name, "step")
        if not isinstance(step, BaseStep):
            raise GraphError(f"'{name}' must be a step (a BaseStep or an @step function), got {type(step).__name__}")
        if name in self.nodes():
            raise GraphError(f"pipeline '{self.name}' already has a step named '{name}'; give each step a unique name")
        self._custom[name] = StepNode(name, step.clone(), dict(inputs or {}))
        return self

    def nodes(self) -> dict[str, StepNode]:
        """Every step node by name, in definition order."""
        return dict(self._custom)

    @property
    def steps(self) -> dict[str, BaseStep]:
        """The steps by name, in definition order."""
        return {name: node.step for name, node in self.nodes().items()}

    def pipeline_type(self) -> str:
        """What the run spec records as the pipeline's type."""
        return qualified_name(type(self))

    # -- validation ------------------------------------------------------------------------------

    def resolved_inputs(self) -> dict[str, dict[str, str]]:
        """Every step's inputs as ``step.output`` references, after checking each one exists.

        Raises:
            GraphError: an input is missing, unknown, names a missing step/output or mismatches types.
        """
        nodes = self.nodes()
        if not nodes:
            raise GraphError(f"pipeline '{self.name}' has no steps; add at least one")
        return {name: self._resolve_node(node, nodes) for name, node in nodes.items()}

    def _resolve_node(self, node: StepNode, nodes: dict[str, StepNode]) -> dict[str, str]:
        declared = node.step.signature().inputs
        for input_name in node.inputs:
            if input_name not in declared:
                raise GraphError(
                    f"step '{node.name}' has no input '{input_name}'{suggest(input_name, declared)} "
                    f"(inputs: {', '.join(declared) or 'none'})"
                )
        resolved: dict[str, str] = {}
        for input_name, annotation in declared.items():
            if input_name not in node.inputs:
                raise GraphError(
                    f"input '{input_name}' of step '{node.name}' is not connected; "
                    f"wire it with inputs={{'{input_name}': 'other_step.output'}}"
                )
            resolved[input_name] = self._resolve_reference(node, input_name, annotation, nodes)
        return resolved

    def _resolve_reference(self, node: StepNode, input_name: str, annotation: Any, nodes: dict[str, StepNode]) -> str:
        reference = node.inputs[input_name]
        where = f"input '{input_name}' of step '{node.name}'"
        if not isinstance(reference, str):
            raise GraphError(f"{where} must be a 'step' or 'step.output' string, got {reference!r}")
        if reference.startswith(EXTERNAL_PREFIX):
            run_id, source, output = parse_reference(reference)
            if not run_id or not source or not output:
                raise GraphError(f"{where} must look like 'run:RUN_ID/step.output', got {reference!r}")
            return reference  # another run's artifact: checked when the step starts
        source, _, output = reference.partition(".")
        if source not in nodes:
            raise GraphError(
                f"{where} names step '{source}', which is not in pipeline '{self.name}'{suggest(source, nodes)} "
                f"(steps: {', '.join(nodes)})"
            )
        outputs = nodes[source].step.signature().outputs
        if not output:
            if len(outputs) != 1:
                raise GraphError(
                    f"{where} names step '{source}', which has outputs {', '.join(outputs) or '(none)'}; "
                    f"write '{source}.<output>'"
                )
            output = next(iter(outputs))
        if output not in outputs:
            raise GraphError(
                f"{where} names output '{output}' of step '{source}', which has outputs "
                f"{', '.join(outputs) or '(none)'}{suggest(output, outputs)}"
            )
        if not connectable(outputs[output], annotation):
            raise GraphError(
                f"{where} expects {describe(annotation)} but '{source}.{output}' is {describe(outputs[output])}"
            )
        return f"{source}.{output}"

    def order(self) -> list[str]:
        """The steps in an order that runs every step after its inputs' producers.

        Raises:
            GraphError: see ``resolved_inputs``; or the graph has a cycle.
        """
        return _order_of(self.resolved_inputs())

    def validate(self, *, pinned: Collection[str] = ()) -> None:
        """Check the graph and every step's parameters; raise ``GraphError``/``ConfigError`` on a fault.

        ``pinned``: steps that will not read their source (served from an earlier run's data), so
        their ``preflight`` (e.g. "the file exists") is skipped.
        """
        self._validate(self.resolved_inputs(), pinned)

    def _validate(self, inputs: dict[str, dict[str, str]], pinned: Collection[str]) -> None:
        """``validate`` with the graph's inputs already resolved (a compile resolves them once)."""
        _order_of(inputs)
        steps = self.steps
        for name, step in steps.items():
            try:
                step.validate()
                if name not in pinned:
                    step.preflight()
            except ZenMLError as exc:
                raise type(exc)(f"step '{name}': {exc}") from exc
        check_wiring(steps, inputs)

    # -- compiling -------------------------------------------------------------------------------

    def compile(self, context: CompileContext) -> RunSpec:
        """Build the immutable run spec for one run (validating everything first)."""
        steps = self._with_overrides(context.params)
        inputs = self.resolved_inputs()  # once: each resolution reads every step's signature and wiring
        order = _order_of(inputs)
        self._validate(inputs, context.data_from)
        check_wiring(steps, inputs)  # again with the --param overrides applied
        step_specs = {name: self._step_spec(steps[name], inputs[name]) for name in order}
        modules = sorted({_module_of(spec.type) for spec in step_specs.values()})
        return RunSpec(
            run_id=context.run_id,
            pipeline=PipelineInfo(name=self.name, type=self.pipeline_type()),
            created_at=dt.datetime.now(dt.UTC),
            git=context.git,
            environment=EnvironmentSpec(
                python=python_version(), zenml=zenml_version(), packages=package_versions(modules)
            ),
            code_paths=project_code_paths(modules, context.project_root),
            stack=context.stack,
            backends=context.backends,
            failure_policy=context.failure_policy,
            steps=step_specs,
            data_from=dict(context.data_from),
        )

    def _with_overrides(self, params: Mapping[str, Mapping[str, Any]]) -> dict[str, BaseStep]:
        steps = self.steps
        for step_name, values in params.items():
            if step_name not in steps:
                raise ConfigError(
                    f"--param names step '{step_name}', which is not in pipeline '{self.name}'"
                    f"{suggest(step_name, steps)} (steps: {', '.join(steps)})"
                )
            try:
                steps[step_name] = steps[step_name].clone().set_params(**dict(values))
            except ConfigError as exc:
                raise ConfigError(f"step '{step_name}': {exc}") from exc
        return steps

    @staticmethod
    def _step_spec(step: BaseStep, inputs: dict[str, str]) -> StepSpec:
        outputs = {name: materializers.format_for_annotation(ann) for name, ann in step.signature().outputs.items()}
        options = step.options
        return StepSpec(
            type=step.config_type(),
            params=step.get_params(),
            inputs=inputs,
            outputs=outputs,
            enable_cache=options.enable_cache,
            processing=_backend_spec("processing", options.processing),
            training=_backend_spec("training", options.training),
            runtime=options.runtime,
        )

    # -- running (delegated to the top layer) --------------------------------------------------

    def plan(self, **options: Unpack[PlanOptions]) -> list[StepPlan]:
        """Per step, ``run`` or ``cached`` and why; ``zenml.engine.PlanOptions`` lists the options."""
        from zenml.engine import PlanOptions, option_names, plan_pipeline

        _check_options("plan", option_names(PlanOptions), options)
        return plan_pipeline(self, **options)

    def run(self, **options: Unpack[RunOptions]) -> PipelineRun:
        """Compile and run on the active stack; ``zenml.engine.RunOptions`` lists the options."""
        from zenml.engine import RunOptions, option_names, run_pipeline

        _check_options("run", option_names(RunOptions), options)
        return run_pipeline(self, **options)


def check_wiring(steps: Mapping[str, BaseStep], inputs: Mapping[str, Mapping[str, str]]) -> None:
    """Let each step check what its producers will give it (``BaseStep.check_producers``).

    Raises:
        ZenMLError: a step refuses one of its producers (named with the step).
    """
    for name, refs in inputs.items():
        producers: dict[str, tuple[str, BaseStep, str]] = {}
        for input_name, reference in refs.items():
            run_id, source, output = parse_reference(reference)
            if run_id is None and source in steps:
                producers[input_name] = (source, steps[source], output)
        try:
            steps[name].check_producers(producers)
        except ZenMLError as exc:
            raise type(exc)(f"step '{name}': {exc}") from exc


def _check_options(method: str, accepted: list[str], options: Mapping[str, Any]) -> None:
    """Refuse an option not in ``accepted``, naming the ones that are (and legacy ZenML's spellings)."""
    for name in options:
        if name not in accepted:
            message = unknown_name(f"{method}()", name, accepted, RUN_OPTIONS.get(name), what="option")
            raise ConfigError(message + caller_location(2))  # 2: above run() or plan(), the user's call


def _module_of(type_path: str) -> str:
    return type_path.rsplit(".", 1)[0]


def _backend_spec(kind: str, config: dict[str, Any] | None) -> BackendSpec | None:
    if config is None:
        return None
    return BackendSpec(name=name_of_backend(kind, config["type"]), type=config["type"], params=config["params"])


def single_output_name(step: BaseStep) -> str | None:
    """The output name if ``step`` has exactly one output (``output`` for plain returns)."""
    outputs = list(step.signature().outputs)
    if outputs == [SINGLE_OUTPUT] or len(outputs) == 1:
        return outputs[0]
    return None


def _order_of(inputs: dict[str, dict[str, str]]) -> list[str]:
    """Steps in dependency order, from their resolved inputs (raises ``GraphError`` on a cycle)."""
    dependencies = {
        name: [parse_reference(ref)[1] for ref in refs.values() if parse_reference(ref)[0] is None]
        for name, refs in inputs.items()
    }
    return topological_order(dependencies)
