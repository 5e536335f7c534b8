"""Compare recorded runs: parameters, code, input data, provenance, metrics and caching, side by side."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zenml.exceptions import ConfigError, ZenMLError, excerpt
from zenml.utils.text import metric_text

if TYPE_CHECKING:
    from zenml.history.runs import PipelineRun, StepView


@dataclass(frozen=True)
class StepComparison:
    """One step name across two runs (``None`` where a run lacks the step).

    Attributes:
        name: the step's name.
        status: ``(a, b)`` statuses, e.g. ``("completed", "cached")``.
        params: ``{param: (a, b)}`` for parameters that differ.
        code: ``(a, b)`` code hashes.
        inputs: ``{input: (a, b)}`` content hashes of inputs that differ.
    """

    name: str
    status: tuple[str | None, str | None]
    params: dict[str, tuple[Any, Any]]
    code: tuple[str | None, str | None]
    inputs: dict[str, tuple[str | None, str | None]]

    @property
    def code_changed(self) -> bool:
        """Whether the step ran different code."""
        return self.code[0] != self.code[1]

    @property
    def changed(self) -> bool:
        """Whether anything that decides the step's result differs."""
        return bool(self.params or self.inputs or self.code_changed or None in self.status)

    def differences(self) -> list[str]:
        """What differs, one phrase each: ``epochs 10 → 20``, ``code``, ``input data``, ``only in run b``."""
        if self.status[0] is None or self.status[1] is None:
            return [f"only in run {'b' if self.status[0] is None else 'a'}"]
        found = [f"{key} {_value(old)} → {_value(new)}" for key, (old, new) in self.params.items()]
        if self.code_changed:
            found.append("code")
        if self.inputs:
            found.append("input data (" + ", ".join(self.inputs) + ")")
        return found

    def __repr__(self) -> str:
        return f"StepComparison(name={self.name!r}, status={self.status!r}, changed={self.differences() or None!r})"


@dataclass(frozen=True)
class RunComparison:
    """Two runs side by side (``a`` first). Runs of different pipelines can be compared too."""

    a: PipelineRun
    b: PipelineRun
    steps: list[StepComparison]
    metrics: dict[str, dict[str, tuple[float | None, float | None]]]
    git: tuple[str | None, str | None]
    packages: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    python: tuple[str | None, str | None] = (None, None)

    @property
    def same_pipeline(self) -> bool:
        """Whether both runs belong to the same pipeline."""
        return self.a.pipeline == self.b.pipeline

    def changed_steps(self) -> list[StepComparison]:
        """The steps whose parameters, code or input data differ (or that only one run has)."""
        return [step for step in self.steps if step.changed]

    def __repr__(self) -> str:
        changed = [step.name for step in self.changed_steps()]
        metrics = {f"{step}.{name}": pair for step, values in self.metrics.items() for name, pair in values.items()}
        return f"RunComparison(a={self.a.id!r}, b={self.b.id!r}, changed_steps={changed!r}, metrics={metrics!r})"

    def __str__(self) -> str:
        """A few readable lines: the runs, what changed per step, each metric and the provenance that differs."""
        lines = [
            f"run a {self.a.id} ({self.a.pipeline}, {self.a.status}) vs run b {self.b.id} "
            f"({self.b.pipeline}, {self.b.status})"
        ]
        changed = self.changed_steps()
        lines.append(
            "steps: "
            + (
                "no differences"
                if not changed
                else "; ".join(f"{step.name}: {', '.join(step.differences())}" for step in changed)
            )
        )
        for step, values in self.metrics.items():
            for name, (old, new) in values.items():
                lines.append(f"metric {step}.{name}: {metric_text(old)} → {metric_text(new)}")
        if self.git[0] != self.git[1]:
            lines.append(f"git: {self.git[0] or '(none)'} → {self.git[1] or '(none)'}")
        if self.python[0] != self.python[1]:
            lines.append(f"python: {self.python[0]} → {self.python[1]}")
        lines += [
            f"package {name}: {old or '(none)'} → {new or '(none)'}" for name, (old, new) in self.packages.items()
        ]
        return "\n".join(lines)


def _value(value: Any) -> str:
    return excerpt(value, 60)


def _spec_environment(run: PipelineRun) -> tuple[str | None, dict[str, str]]:
    try:
        spec = run.spec
    except (OSError, ZenMLError):
        return None, {}  # spec file gone: compare what the metadata store still knows
    return spec.environment.python, dict(spec.environment.packages)


def _compare_step(name: str, a: StepView | None, b: StepView | None) -> StepComparison:
    params_a, params_b = (a.params if a else {}), (b.params if b else {})
    params = {
        key: (params_a.get(key), params_b.get(key))
        for key in sorted(set(params_a) | set(params_b))
        if params_a.get(key) != params_b.get(key)
    }
    inputs_a = ((a.record.cache_components or {}).get("inputs", {})) if a else {}
    inputs_b = ((b.record.cache_components or {}).get("inputs", {})) if b else {}
    inputs = {
        key: (inputs_a.get(key), inputs_b.get(key))
        for key in sorted(set(inputs_a) | set(inputs_b))
        if inputs_a.get(key) != inputs_b.get(key)
    }
    return StepComparison(
        name=name,
        status=(a.status if a else None, b.status if b else None),
        params=params,
        code=(a.record.code_hash if a else None, b.record.code_hash if b else None),
        inputs=inputs,
    )


def compare_runs(a: PipelineRun, b: PipelineRun) -> RunComparison:
    """Compare run ``a`` with run ``b``."""
    names = list(dict.fromkeys([*a.steps, *b.steps]))
    steps = [_compare_step(name, a.steps.get(name), b.steps.get(name)) for name in names]
    metrics_a, metrics_b = a.metrics(), b.metrics()
    metrics: dict[str, dict[str, tuple[float | None, float | None]]] = {}
    for step in dict.fromkeys([*metrics_a, *metrics_b]):
        values_a, values_b = metrics_a.get(step, {}), metrics_b.get(step, {})
        metrics[step] = {key: (values_a.get(key), values_b.get(key)) for key in dict.fromkeys([*values_a, *values_b])}
    python_a, packages_a = _spec_environment(a)
    python_b, packages_b = _spec_environment(b)
    packages = {
        name: (packages_a.get(name), packages_b.get(name))
        for name in sorted(set(packages_a) | set(packages_b))
        if packages_a.get(name) != packages_b.get(name)
    }
    return RunComparison(
        a=a,
        b=b,
        steps=steps,
        metrics=metrics,
        git=(a.record.git_commit, b.record.git_commit),
        packages=packages,
        python=(python_a, python_b),
    )


def compare_with_first(runs: Sequence[PipelineRun]) -> list[RunComparison]:
    """Compare every run after the first with the first (the baseline), in the order given.

    Raises:
        ConfigError: fewer than two runs.
    """
    if len(runs) < 2:
        raise ConfigError(f"comparing needs at least 2 runs, got {len(runs)}; give two or more run ids")
    return [compare_runs(runs[0], other) for other in runs[1:]]
