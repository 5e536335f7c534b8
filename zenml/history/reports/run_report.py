"""The report of one run: overview, failure, graph, timeline, metrics, evaluation, training, statistics, steps."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zenml.history.reports.collect import RunData, class_names, collect, evaluator_label, trainer_tasks
from zenml.history.reports.figures import (
    confusion_figure,
    dag_figure,
    history_figure,
    residuals_figure,
    statistics_figure,
    timeline_figure,
)
from zenml.history.reports.page import (
    Cell,
    Markup,
    Page,
    badge,
    escape,
    figure_html,
    number,
    output_path,
    params_text,
    plotly,
    table,
    when,
    write_page,
)
from zenml.steps.statistics import Statistics
from zenml.utils.status import ERRORED_STEP, RunStatus
from zenml.utils.text import seconds

if TYPE_CHECKING:
    from zenml.history.reports.collect import Found
    from zenml.history.runs import PipelineRun
    from zenml.pipelines.spec import RunSpec

#: how many of the failing step's last log lines the report shows
LOG_TAIL = 40


def write_run_report(run: PipelineRun, path: str | os.PathLike[str]) -> Path:
    """Write the self-contained HTML report of ``run`` to ``path``; return where it was written.

    Raises:
        ConfigError: the folder of ``path`` does not exist, or plotly is not installed.
    """
    output_path(path)  # refuse a bad path or a missing plotly before reading anything
    plotly()
    return write_page(run_report_page(collect(run)), path)


def run_report_page(data: RunData) -> Page:
    """The page for one run (whatever its state: running, completed, failed)."""
    run = data.run
    page = Page(
        title=f"Run {run.id}",
        subtitle=f"pipeline {run.pipeline} · {run.status} · created {when(run.record.created_at)}",
    )
    if data.in_progress:
        page.banner(
            f"This run is still in progress (status {run.status}): the report shows its state at "
            f"{when(data.now)}; steps not started yet are pending.",
            RunStatus.RUNNING,
        )
    if run.error:
        page.banner(run.error, RunStatus.FAILED)
    page.add("overview", "Overview", _overview(data))
    if run.error or any(s.status in ERRORED_STEP for s in data.steps):
        page.add("failure", "Failure", _failure(data))
    page.add(
        "graph",
        "Pipeline graph",
        figure_html(dag_figure(data.steps), "fig-dag"),
        Markup(f'<p class="muted">{escape(data.spec_problem)}</p>') if data.spec_problem else Markup(""),
    )
    if any(step.start is not None for step in data.steps):
        now = data.now - data.origin if data.in_progress else None
        page.add("timeline", "Timeline", figure_html(timeline_figure(data.steps, now), "fig-timeline"))
    metrics = run.metrics()
    if metrics:
        rows: list[list[object]] = [
            [step, name, Cell(number(value), "num")]
            for step, values in metrics.items()
            for name, value in values.items()
        ]
        page.add("metrics", "Metrics", table(["step", "metric", "value"], rows, css_id="metrics-table"))
    # results first, then how they came about; the full parameter listing last
    for kind, title, render in (
        ("evaluation", "Evaluation", _evaluation),
        ("history", "Training history", _history),
        ("statistics", "Dataset statistics", _statistics),
    ):
        if data.found(kind):
            page.add(kind, title, *(render(data, found, index) for index, found in enumerate(data.found(kind))))
    page.add("steps", "Steps and parameters", _steps(data))
    return page


def _overview(data: RunData) -> Markup:
    """What ran and how it went (left); where it ran and from which code (right)."""
    run, spec = data.run, data.spec
    git = run.git
    duration = seconds(run.duration) if run.duration is not None else f"running for {seconds(data.now - data.origin)}"
    facts: list[list[object]] = [
        ["run id", Markup(f"<code>{escape(run.id)}</code>")],
        ["pipeline", run.pipeline],
        ["status", badge(run.status)],
        ["created", when(run.record.created_at)],
        ["duration", duration],
        ["orchestrator", run.record.orchestrator],
    ]
    facts += [[f"task of {step}", task] for step, task in trainer_tasks(run).items()]
    commit = f"{git['commit'] or '(no commit)'}{' (dirty: uncommitted changes)' if git['dirty'] else ''}" if git else ""
    provenance: list[list[object]] = [
        ["git commit", commit or "(not a git repository)"],
        ["spec", f"{run.record.spec_path} (sha256 {run.record.spec_sha256[:12]})"],
        *(_spec_rows(spec) if spec is not None else []),
    ]
    absent = [
        title
        for kind, title in (
            ("statistics", "dataset statistics"),
            ("history", "training history"),
            ("evaluation", "evaluation"),
        )
        if not data.found(kind)
    ]
    note = Markup(f'<p class="muted" id="absent">No {escape(", no ".join(absent))} in this run.</p>') if absent else ""
    return Markup(
        f'<div class="side-by-side">{table([], facts, css_id="overview-table")}'
        f"{table([], provenance, css_id='provenance-table')}</div>{note}"
    )


def _spec_rows(spec: RunSpec) -> list[list[object]]:
    """Stack, backends and versions, as the run spec recorded them (credentials already redacted there)."""
    stack = spec.stack
    rows: list[list[object]] = [
        ["stack", f"{stack.name}: artifacts {stack.artifact_store}, metadata {stack.metadata_store}"]
    ]
    for kind in ("orchestrator", "processing", "training"):
        backend = getattr(spec.backends, kind)
        rows.append([f"{kind} backend", f"{backend.name} {params_text(backend.params)}"])
    rows.append(["environment", f"Python {spec.environment.python}, zenml {spec.environment.zenml}"])
    return rows


def _failure(data: RunData) -> Markup:
    """Each failed step with its error and the end of its log; the run's own error when no step failed."""
    run = data.run
    failed = [step for step in data.steps if step.status in ERRORED_STEP]
    if not failed:  # e.g. a crashed run: its process died between steps
        return Markup(f'<p id="run-error"><b>{escape(run.error or run.status)}</b></p>')
    parts = []
    for step in failed:
        parts.append(
            Markup(
                f"<h3>Step <code>{escape(step.name)}</code> {escape(step.status)}</h3>"
                f'<p class="step-error" id="error-{escape(step.name)}"><b>{escape(step.error or "")}</b></p>'
            )
        )
        parts.append(_log_tail(run, step.name))
    return Markup("".join(parts))


def _log_tail(run: PipelineRun, step: str) -> Markup:
    logs = run.steps[step].logs()
    if not logs:
        return Markup('<p class="muted">the step stored no log.</p>')
    attempt, text = logs[-1]
    tail = text.rstrip("\n").splitlines()[-LOG_TAIL:]
    return Markup(
        f'<p class="muted">last {len(tail)} log lines of attempt {escape(attempt)} '
        f"(all of them: <code>zen runs logs {escape(run.id)} {escape(step)}</code>)</p>"
        f'<pre class="log" id="log-{escape(step)}">{escape(chr(10).join(tail))}</pre>'
    )


def _steps(data: RunData) -> Markup:
    rows: list[list[object]] = []
    for step in data.steps:
        view = data.run.steps.get(step.name)
        outputs = ", ".join(f"{name} #{artifact.id}" for name, artifact in view.outputs.items()) if view else ""
        short_type = step.type.rsplit(".", 1)[-1]
        rows.append(
            [
                Markup(f"<b>{escape(step.name)}</b>"),
                badge(step.status),
                Cell(seconds(step.duration), "num"),
                Markup(f'<code title="{escape(step.type)}">{escape(short_type)}</code>'),
                _params_lines(step.params),
                outputs or step.error or "",
            ]
        )
    return table(["step", "status", "duration", "type", "parameters", "outputs"], rows, css_id="steps-table")


def _params_lines(params: dict[str, Any]) -> Markup:
    """One ``name = value`` line per parameter (values as JSON)."""
    lines = [f"{escape(name)} = {escape(json.dumps(value, default=str))}" for name, value in sorted(params.items())]
    return Markup(f"<code>{'<br>'.join(lines)}</code>") if lines else Markup('<span class="muted">none</span>')


def _statistics(data: RunData, found: Found, index: int) -> Markup:
    heading = Markup(f"<h3>{escape(found.label)} <span class='muted'>(artifact #{found.artifact_id})</span></h3>")
    if found.problem is not None:
        return Markup(heading + f'<p class="muted">{escape(found.problem)}</p>')
    stats = Statistics(found.value)
    splits = stats.get("splits", {})
    sizes = ", ".join(f"{split}: {entry.get('rows', 0)} rows" for split, entry in splits.items())
    summary = table(["split", "column", "kind", "count", "missing", "summary"], [list(r) for r in stats.rows()])
    return Markup(
        heading
        + f"<p>{escape(sizes)}</p>"
        + figure_html(statistics_figure(splits), f"fig-statistics-{index}")
        + f"<details><summary>summary table</summary>{summary}</details>"
    )


def _history(data: RunData, found: Found, index: int) -> Markup:
    heading = Markup(f"<h3>{escape(found.label)}</h3>")
    if found.problem is not None or not isinstance(found.value, dict):
        return Markup(heading + f'<p class="muted">{escape(found.problem or "not a history")}</p>')
    return Markup(heading + figure_html(history_figure({found.label: found.value}), f"fig-history-{index}"))


def _evaluation(data: RunData, found: Found, index: int) -> Markup:
    heading = Markup(f"<h3>{escape(found.label)}</h3>")
    report = found.value
    if found.problem is not None or not isinstance(report, dict):
        return Markup(heading + f'<p class="muted">{escape(found.problem or "not an evaluation report")}</p>')
    splits: dict[str, Any] = report.get("splits", {})
    primary = report.get("primary") or next(iter(splits), "")
    names = list(dict.fromkeys(name for entry in splits.values() for name in entry.get("metrics", {})))
    rows: list[list[object]] = [
        [
            f"{split} (primary)" if split == primary else split,
            Cell(entry.get("rows", ""), "num"),
            *(Cell(number(entry.get("metrics", {}).get(name)), "num") for name in names),
        ]
        for split, entry in splits.items()
    ]
    parts = [heading, table(["split", "rows", *names], rows, css_id=f"evaluation-metrics-{index}")]
    entry = splits.get(primary, {})
    parts += _slice_tables(entry.get("slices", {}), primary, index)
    plot = _evaluation_plot(data, found, entry, primary, index)
    if "confusion_matrix" in entry:  # a small square: beside the tables rather than under them
        return Markup(
            f'{heading}<div class="side-by-side"><div>{"".join(parts[1:])}</div>'
            f'<div class="side-figure">{plot}</div></div>'
        )
    return Markup("".join([*parts, plot]))


def _slice_tables(slices: dict[str, Any], split: str, index: int) -> list[Markup]:
    """Per slice column, the metrics of each of its values (the evaluator's ``slices`` parameter)."""
    parts = []
    for column, groups in slices.items():
        metric_names = list(dict.fromkeys(k for values in groups.values() for k in values if k != "count"))
        rows: list[list[object]] = [
            [
                value,
                Cell(f"{values.get('count', 0):.0f}", "num"),
                *(Cell(number(values.get(m)), "num") for m in metric_names),
            ]
            for value, values in groups.items()
        ]
        parts.append(Markup(f"<h3>By {escape(column)} <span class='muted'>({escape(split)} split)</span></h3>"))
        parts.append(table([column, "rows", *metric_names], rows, css_id=f"slices-{index}-{column}"))
    return parts


def _evaluation_plot(data: RunData, found: Found, entry: dict[str, Any], split: str, index: int) -> Markup:
    if "confusion_matrix" in entry:
        confusion = entry["confusion_matrix"]
        labels = [str(label) for label in confusion.get("labels", [])]
        label = evaluator_label(data, found.step)
        names = class_names(data, label) if label else None
        if names is not None and len(names) == len(labels):
            labels = names
        figure = confusion_figure(confusion.get("matrix", []), labels, f"Confusion matrix ({split} split)")
        return figure_html(figure, f"fig-confusion-{index}")
    if "residuals" in entry:
        return figure_html(residuals_figure(entry["residuals"], f"Residuals ({split} split)"), f"fig-residuals-{index}")
    return Markup("")
