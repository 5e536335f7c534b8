"""``SimplePipeline``: the standard ML slots in a fixed order, plus free-form extra steps.

Slots run in the order datasource → split → preprocessor → trainer → evaluator → deployer, whatever order
they were added in. A slot step's inputs are wired automatically: each input takes the output of
the same name from the nearest earlier slot; a step with one unmatched input takes the single
output of the slot before it. Pass ``inputs=`` to any ``add_*`` call to wire by hand.
"""

from __future__ import annotations

from collections.abc import Mapping

from zenml.exceptions import GraphError
from zenml.pipelines.base import BasePipeline, StepNode
from zenml.steps.base import BaseStep
from zenml.utils.text import with_article

SLOTS = ("datasource", "split", "preprocessor", "trainer", "evaluator", "deployer")


class SimplePipeline(BasePipeline):
    """A pipeline with the datasource/split/preprocessor/trainer/evaluator/deployer slots.

    Examples:
        >>> from zenml.steps import step
        >>> @step
        ... def numbers() -> list[int]:
        ...     return [1, 2, 3, 4]
        >>> @step
        ... def halves(data: list[int]) -> list[int]:
        ...     return data[: len(data) // 2]
        >>> p = SimplePipeline(name="demo")
        >>> p.add_datasource(numbers).add_split(halves).order()
        ['datasource', 'split']
    """

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._slots: dict[str, tuple[BaseStep, dict[str, str] | None]] = {}

    def add_datasource(self, step: BaseStep, inputs: Mapping[str, str] | None = None) -> SimplePipeline:
        """Fill the ``datasource`` slot (the first step: it reads the data)."""
        return self._fill("datasource", step, inputs)

    def add_split(self, step: BaseStep, inputs: Mapping[str, str] | None = None) -> SimplePipeline:
        """Fill the ``split`` slot (divides the data into named splits)."""
        return self._fill("split", step, inputs)

    def add_preprocessor(self, step: BaseStep, inputs: Mapping[str, str] | None = None) -> SimplePipeline:
        """Fill the ``preprocessor`` slot (fits a transform on train, applies it to all splits)."""
        return self._fill("preprocessor", step, inputs)

    def add_trainer(self, step: BaseStep, inputs: Mapping[str, str] | None = None) -> SimplePipeline:
        """Fill the ``trainer`` slot (fits a model)."""
        return self._fill("trainer", step, inputs)

    def add_evaluator(self, step: BaseStep, inputs: Mapping[str, str] | None = None) -> SimplePipeline:
        """Fill the ``evaluator`` slot (computes metrics from the trainer's predictions)."""
        return self._fill("evaluator", step, inputs)

    def add_deployer(self, step: BaseStep, inputs: Mapping[str, str] | None = None) -> SimplePipeline:
        """Fill the ``deployer`` slot (exports the model bundle when the evaluator's metrics pass its gate)."""
        return self._fill("deployer", step, inputs)

    def __getattr__(self, name: str) -> object:
        if name == "add_deployment":  # legacy ZenML's slot: say what it is here
            raise AttributeError(
                "'SimplePipeline' has no 'add_deployment' (legacy ZenML's); use "
                "add_deployer(LocalDeployer(target=...)) from zenml.steps.deployer (docs/guides/legacy.md)"
            )
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _fill(self, slot: str, step: BaseStep, inputs: Mapping[str, str] | None) -> SimplePipeline:
        if not isinstance(step, BaseStep):
            raise GraphError(f"add_{slot} needs a step (a BaseStep or an @step function), got {type(step).__name__}")
        if slot in self._slots:
            raise GraphError(
                f"pipeline '{self.name}' already has {with_article(slot)}; a SimplePipeline has one of each slot"
            )
        if slot in self._custom:
            raise GraphError(f"pipeline '{self.name}' has a custom step named '{slot}'; rename it to use the slot")
        self._slots[slot] = (step.clone(), dict(inputs) if inputs is not None else None)
        return self

    def nodes(self) -> dict[str, StepNode]:
        """Slot steps in slot order (auto-wired), then the custom steps."""
        nodes: dict[str, StepNode] = {}
        for slot in SLOTS:
            if slot in self._slots:
                step, inputs = self._slots[slot]
                nodes[slot] = StepNode(slot, step, inputs if inputs is not None else self._auto_wire(step, nodes))
        nodes.update(self._custom)
        return nodes

    @staticmethod
    def _auto_wire(step: BaseStep, earlier: dict[str, StepNode]) -> dict[str, str]:
        wired: dict[str, str] = {}
        unmatched: list[str] = []
        for input_name in step.signature().inputs:
            source = next(
                (name for name in reversed(earlier) if input_name in earlier[name].step.signature().outputs), None
            )
            if source is None:
                unmatched.append(input_name)
            else:
                wired[input_name] = f"{source}.{input_name}"
        if len(unmatched) == 1 and earlier:
            previous = list(earlier)[-1]
            outputs = list(earlier[previous].step.signature().outputs)
            if len(outputs) == 1:
                wired[unmatched[0]] = f"{previous}.{outputs[0]}"
        return wired
