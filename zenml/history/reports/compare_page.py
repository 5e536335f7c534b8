"""The comparison page of two or more runs: parameters and metrics side by side, curves overlaid, what changed."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zenml.history.compare import RunComparison, compare_with_first
from zenml.history.reports.collect import find_artifacts
from zenml.history.reports.figures import history_figure, metrics_figure
from zenml.history.reports.page import (
    Cell,
    Markup,
    Page,
    badge,
    escape,
    figure_html,
    number,
    output_path,
    plotly,
    table,
    tag,
    when,
    write_page,
)
from zenml.utils.text import plural, seconds

if TYPE_CHECKING:
    from zenml.history.runs import PipelineRun

#: what a missing value (step or parameter absent from a run) shows
ABSENT = "-"


def write_compare_page(runs: Sequence[PipelineRun], path: str | os.PathLike[str]) -> Path:
    """Write the self-contained HTML comparison of ``runs`` (each against the first) to ``path``.

    Raises:
        ConfigError: fewer than two runs, the folder of ``path`` does not exist, or plotly is not installed.
    """
    output_path(path)  # refuse bad input before reading anything
    plotly()
    comparisons = compare_with_first(runs)
    return write_page(compare_page(list(runs), comparisons), path)


def labels_of(runs: Sequence[PipelineRun]) -> list[str]:
    """Short names for the columns and legends: ``run 1`` (the baseline), ``run 2`` and so on."""
    return [f"run {index + 1}" for index in range(len(runs))]


def compare_page(runs: list[PipelineRun], comparisons: list[RunComparison]) -> Page:
    """The page comparing ``runs[1:]`` with ``runs[0]`` (``comparisons`` in the same order)."""
    labels = labels_of(runs)
    pipelines = sorted({run.pipeline for run in runs})
    page = Page(
        title=f"Comparing {len(runs)} runs",
        subtitle=f"pipeline {', '.join(pipelines)} · each run compared with run 1 ({runs[0].id})",
    )
    page.add("runs", "Runs", _runs(runs, labels))
    page.add("parameters", "Parameters", _parameters(runs, labels))
    page.add("steps", "What changed per step", _steps(runs, comparisons, labels))
    metrics = _metric_values(runs, labels)
    if metrics:
        page.add(
            "metrics", "Metrics", _metrics(metrics, labels), figure_html(metrics_figure(metrics), "fig-compare-metrics")
        )
    histories = _histories(runs, labels)
    if histories:
        page.add(
            "history",
            "Training history",
            *(
                Markup(f"<h3>{escape(key)}</h3>{figure_html(history_figure(values), f'fig-compare-history-{index}')}")
                for index, (key, values) in enumerate(histories.items())
            ),
        )
    environment = _environment(comparisons, labels)
    if environment:
        page.add("environment", "Environment differences", environment)
    return page


def _differs(values: Sequence[object]) -> list[bool]:
    """Per value: whether it differs from the first (the baseline never does)."""
    return [index > 0 and value != values[0] for index, value in enumerate(values)]


def _row(values: Sequence[object], shown: Sequence[object], css: str = "") -> list[object]:
    """Cells of ``shown``, the ones whose value differs from the first highlighted."""
    return [
        Cell(text, f"{css} changed".strip() if changed else css)
        for text, changed in zip(shown, _differs(values), strict=True)
    ]


def _runs(runs: list[PipelineRun], labels: list[str]) -> Markup:
    def git(run: PipelineRun) -> str:
        info = run.git
        return f"{info['commit'] or '(no commit)'}{' (dirty)' if info['dirty'] else ''}" if info else "(no git)"

    facts: list[tuple[str, list[object]]] = [
        ("run id", [run.id for run in runs]),
        ("pipeline", [run.pipeline for run in runs]),
        ("created", [when(run.record.created_at) for run in runs]),
        ("duration", [seconds(run.duration) for run in runs]),
        ("orchestrator", [run.record.orchestrator for run in runs]),
        ("git commit", [git(run) for run in runs]),
    ]
    rows: list[list[object]] = [["status", *(badge(run.status) for run in runs)]]
    rows += [
        [name, *(_row(values, values) if name not in ("run id", "created", "duration") else values)]
        for name, values in facts
    ]
    headers = ["", *(f"{label} (baseline)" if index == 0 else label for index, label in enumerate(labels))]
    return table(headers, rows, css_id="runs-table")


def _parameters(runs: list[PipelineRun], labels: list[str]) -> Markup:
    keys = list(dict.fromkeys((step, name) for run in runs for step, view in run.steps.items() for name in view.params))
    changed: list[list[object]] = []
    same: list[list[object]] = []
    for step, name in keys:
        values = [run.steps[step].params.get(name, ABSENT) if step in run.steps else ABSENT for run in runs]
        shown = [json.dumps(value) if value is not ABSENT else ABSENT for value in values]
        (changed if any(_differs(values)) else same).append([step, name, *_row(values, shown)])
    if not keys:
        return Markup('<p class="muted">None of the runs has step parameters.</p>')
    headers = ["step", "parameter", *labels]
    parts = [
        Markup(
            f"<p>{len(changed)} of {plural(len(keys), 'parameter')} differ from run 1 (changed values highlighted).</p>"
        )
    ]
    if changed:
        parts.append(table(headers, changed, row_css=["changed"] * len(changed), css_id="parameters-table"))
    if same:
        parts.append(
            Markup(
                f"<details><summary>{plural(len(same), 'parameter')} equal in every run</summary>"
                f"{table(headers, same, row_css=['same'] * len(same), css_id='same-parameters-table')}</details>"
            )
        )
    return Markup("".join(parts))


def _steps(runs: list[PipelineRun], comparisons: list[RunComparison], labels: list[str]) -> Markup:
    names = list(dict.fromkeys(name for run in runs for name in run.steps))
    by_name = [{step.name: step for step in comparison.steps} for comparison in comparisons]
    rows: list[list[object]] = []
    for name in names:
        first = runs[0].steps.get(name)
        cells: list[object] = [name, badge(first.status) if first else ABSENT]
        for steps in by_name:
            step = steps.get(name)
            status = step.status[1] if step else None
            tags = [badge(status)] if status else [Markup(ABSENT)]
            if step is not None and None not in step.status:
                tags += [tag("parameters changed", warn=True)] if step.params else []
                tags += [tag("code changed", warn=True)] if step.code_changed else []
                tags += [tag(f"data changed: {', '.join(step.inputs)}", warn=True)] if step.inputs else []
                tags += [tag("unchanged")] if not step.changed else []
            cells.append(Markup(" ".join(tags)))
        rows.append(cells)
    legend = Markup(
        '<p class="muted">Each run against run 1: <i>parameters</i>, <i>code</i> (the step\'s source) '
        "or <i>data</i> (the content of its inputs) changed; a <i>cached</i> step reused earlier "
        "outputs.</p>"
    )
    return Markup(legend + table(["step", *labels], rows, css_id="steps-table"))


def _metric_values(runs: list[PipelineRun], labels: list[str]) -> dict[str, dict[str, float | None]]:
    """``{"step.metric": {label: value}}`` over every run."""
    per_run = [run.metrics() for run in runs]
    keys = list(
        dict.fromkeys(f"{step}.{name}" for metrics in per_run for step, values in metrics.items() for name in values)
    )
    return {
        key: {
            label: metrics.get(key.split(".", 1)[0], {}).get(key.split(".", 1)[1])
            for label, metrics in zip(labels, per_run, strict=True)
        }
        for key in keys
    }


def _metrics(metrics: dict[str, dict[str, float | None]], labels: list[str]) -> Markup:
    rows: list[list[object]] = []
    for key, values in metrics.items():
        ordered = [values[label] for label in labels]
        base = ordered[0]
        shown = [
            number(value)
            + (f" ({value - base:+.4g})" if index and value is not None and base is not None and value != base else "")
            for index, value in enumerate(ordered)
        ]
        rows.append([key, *_row(ordered, shown, "num")])
    return table(["step.metric", *labels], rows, css_id="metrics-table")


def _histories(runs: list[PipelineRun], labels: list[str]) -> dict[str, dict[str, Any]]:
    """``{"trainer.history": {label: history}}``: each trainer's curves, one entry per run that has them."""
    result: dict[str, dict[str, Any]] = {}
    for label, run in zip(labels, runs, strict=True):
        for found in find_artifacts(run, ("history",)).get("history", []):
            if found.problem is None and isinstance(found.value, dict):
                result.setdefault(found.label, {})[label] = found.value
    return result


def _environment(comparisons: list[RunComparison], labels: list[str]) -> Markup:
    rows: list[list[object]] = []
    pythons = [comparisons[0].python[0], *(c.python[1] for c in comparisons)]
    if any(_differs(pythons)):
        rows.append(["python", *_row(pythons, [p or ABSENT for p in pythons])])
    packages = list(dict.fromkeys(name for c in comparisons for name in c.packages))
    for name in packages:
        base = next((c.packages[name][0] for c in comparisons if name in c.packages), None)
        versions = [base, *(c.packages[name][1] if name in c.packages else base for c in comparisons)]
        rows.append([f"package {name}", *_row(versions, [v or ABSENT for v in versions])])
    return table(["", *labels], rows, css_id="environment-table") if rows else Markup("")
