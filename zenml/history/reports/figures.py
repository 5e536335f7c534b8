"""The report's Plotly figures: pipeline graph, timeline, column statistics, training curves, evaluation plots."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from zenml.history.reports.page import STATUS_COLOURS, escape, params_text, plotly
from zenml.utils.status import StepStatus
from zenml.utils.text import metric_text, seconds

#: statuses the timeline writes beside a step's duration
_SHOWN_STATUS = (StepStatus.CACHED, StepStatus.RUNNING)

if TYPE_CHECKING:
    from zenml.history.reports.collect import StepState

#: trace colours for splits and runs (distinguishable, also in grey print)
PALETTE = ["#3d7fd1", "#e8772e", "#2f9e5b", "#b0306e", "#7a5cc7", "#8c6d31", "#17a2b8", "#677085"]
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12, "color": "#1f2430"}
GRID = "#e8ebf1"
#: pixels at the top of a figure kept for plotly's toolbar (the modebar, top right), so no legend sits under it
TOOLBAR_BAND = 34
#: pixels of one legend row
LEGEND_ROW = 26


def _layout(figure: Any, *, height: int, title: str = "", legend: bool = True) -> Any:
    """The look every figure shares (a small explicit style rather than plotly's large default template).

    The top margin holds, from the top: the title (left) beside plotly's toolbar (right), then the
    legend's row below the toolbar's band (the toolbar would cover a legend beside it), then the
    subplot titles.
    """
    top = 28 + (36 if title or legend else 0) + (LEGEND_ROW if legend else 0)
    figure.update_layout(
        template="none",
        height=height,
        font=FONT,
        title={"text": title, "x": 0, "xanchor": "left", "y": 0.985, "yref": "container", "font": {"size": 14}}
        if title
        else None,
        margin={"l": 60, "r": 24, "t": top, "b": 48},
        paper_bgcolor="#ffffff",
        plot_bgcolor="#ffffff",
        showlegend=legend,
        legend={
            "orientation": "h",
            "yref": "container",
            "y": 1 - TOOLBAR_BAND / height,
            "yanchor": "top",
            "x": 1,
            "xanchor": "right",
        },
        hoverlabel={"font": {"family": FONT["family"], "size": 12}},
    )
    figure.update_xaxes(gridcolor=GRID, zeroline=False, automargin=True)
    figure.update_yaxes(gridcolor=GRID, zeroline=False, automargin=True)
    return figure


# Plotly renders a subset of HTML in text and hover labels: user values (names, parameters, errors) are escaped.


def _label(step: StepState) -> str:
    duration = seconds(step.duration) if step.duration is not None else step.status
    return f"<b>{escape(step.name)}</b><br>{duration}"


def _hover(step: StepState) -> str:
    lines = [f"<b>{escape(step.name)}</b>", escape(step.type), f"status: {step.status}"]
    lines.append(f"duration: {seconds(step.duration)}")
    if step.params:
        lines.append(f"params: {escape(params_text(step.params)[:200])}")
    if step.error:
        lines.append(f"error: {escape(step.error[:200])}")
    return "<br>".join(lines)


def dag_figure(steps: Sequence[StepState]) -> Any:
    """The pipeline graph: steps left to right by dependency depth, arrows for data flow, colour = status."""
    go = plotly().go
    layers: dict[int, list[StepState]] = {}
    for step in steps:
        layers.setdefault(step.depth, []).append(step)
    position = {
        step.name: (float(depth), (len(layer) - 1) / 2 - index)
        for depth, layer in layers.items()
        for index, step in enumerate(layer)
    }
    figure = go.Figure()
    for step in steps:
        for source in step.upstream:
            (x0, y0), (x1, y1) = position[source], position[step.name]
            figure.add_annotation(
                x=x1,
                y=y1,
                ax=x0,
                ay=y0,
                xref="x",
                yref="y",
                axref="x",
                ayref="y",
                text="",
                showarrow=True,
                arrowhead=2,
                arrowsize=1.2,
                arrowwidth=1.5,
                arrowcolor="#8a93a6",
                standoff=16,
                startstandoff=16,
            )
    for status in STATUS_COLOURS:
        chosen = [step for step in steps if step.status == status]
        if chosen:
            figure.add_trace(
                go.Scatter(
                    x=[position[s.name][0] for s in chosen],
                    y=[position[s.name][1] for s in chosen],
                    mode="markers+text",
                    name=status,
                    customdata=[s.name for s in chosen],  # the step names, for whoever reads the figure's data
                    text=[_label(s) for s in chosen],
                    textposition="bottom center",
                    hovertext=[_hover(s) for s in chosen],
                    hoverinfo="text",
                    marker={
                        "symbol": "square",
                        "size": 26,
                        "color": STATUS_COLOURS[status],
                        "line": {"width": 1.5, "color": "#1f2430"},
                    },
                )
            )
    widest = max((len(layer) for layer in layers.values()), default=1)
    _layout(figure, height=90 * widest + 110)
    figure.update_layout(margin={"b": 8})  # no x axis below the graph
    depth = max(layers, default=0)
    figure.update_xaxes(visible=False, range=[-0.5, depth + 0.5])
    # room below the lowest node for its two-line label, a little above the highest
    figure.update_yaxes(visible=False, range=[-(widest - 1) / 2 - 0.35, (widest - 1) / 2 + 0.2])
    return figure


def timeline_figure(steps: Sequence[StepState], now: float | None) -> Any:
    """A Gantt chart of the steps from their recorded start and end; cached steps hatched, unstarted ones named."""
    go = plotly().go
    figure = go.Figure()
    names = [step.name for step in steps]
    for status in STATUS_COLOURS:
        chosen = [s for s in steps if s.status == status and s.start is not None and s.end is not None]
        if not chosen:
            continue
        figure.add_trace(
            go.Bar(
                orientation="h",
                name=status,
                y=[s.name for s in chosen],
                base=[s.start for s in chosen],
                x=[max(s.duration or 0.0, 0.0) for s in chosen],
                text=[
                    f"{seconds(s.duration)} ({status})" if status in _SHOWN_STATUS else seconds(s.duration)
                    for s in chosen
                ],
                textposition="outside",
                cliponaxis=False,
                hovertext=[_hover(s) for s in chosen],
                hoverinfo="text",
                marker={
                    "color": STATUS_COLOURS[status],
                    "pattern": {"shape": "/" if status == StepStatus.CACHED else ""},
                    "line": {"width": 0},
                },
            )
        )
    waiting = [s for s in steps if s.start is None]
    if waiting:
        figure.add_trace(
            go.Scatter(
                x=[0.0] * len(waiting),
                y=[s.name for s in waiting],
                mode="text",
                name="not started",
                text=[f"  ({s.status})" for s in waiting],  # clear of the axis line and the step's name
                textposition="middle right",
                hoverinfo="skip",
                showlegend=False,
            )
        )
    _layout(figure, height=max(220, 34 * len(steps) + 110))
    figure.update_layout(barmode="overlay", bargap=0.35)
    figure.update_yaxes(categoryorder="array", categoryarray=names, autorange="reversed")
    figure.update_xaxes(title={"text": "seconds since the run started"}, rangemode="tozero")
    if now is not None:
        figure.add_vline(
            x=now,
            line={"dash": "dot", "color": STATUS_COLOURS[StepStatus.RUNNING]},
            annotation_text="report written",
            annotation_position="top right",
        )
    return figure


def statistics_figure(splits: Mapping[str, Any], columns_per_row: int = 3) -> Any:
    """One small chart per column, one colour per split: histograms of numbers, top values of categories.

    Heights are the share of each split's rows, so splits of different sizes compare directly. The
    splits are never drawn translucent over each other (overlaps would mix colours the legend does
    not show): numeric histograms are step outlines, categories and booleans grouped bars.
    """
    columns = list(dict.fromkeys(name for entry in splits.values() for name in entry.get("columns", {})))
    rows = max(math.ceil(len(columns) / columns_per_row), 1)
    entries: list[Any] = list(splits.values())
    first: Mapping[str, Any] = entries[0].get("columns", {}) if entries else {}
    titles = [f"{escape(name)} ({first.get(name, {}).get('kind', '')})" for name in columns]
    figure = plotly().make_subplots(
        rows=rows,
        cols=columns_per_row,
        subplot_titles=titles,
        vertical_spacing=min(0.5 / rows, 0.12),
        horizontal_spacing=0.07,
    )
    in_legend: set[str] = set()
    for index, column in enumerate(columns):
        row, col = index // columns_per_row + 1, index % columns_per_row + 1
        for number, (split, entry) in enumerate(splits.items()):
            colour = PALETTE[number % len(PALETTE)]
            trace = _column_trace(column, split, entry, colour, showlegend=split not in in_legend)
            if trace is not None:
                figure.add_trace(trace, row=row, col=col)
                in_legend.add(split)
    _layout(figure, height=230 * rows + 90 + LEGEND_ROW)
    figure.update_layout(barmode="group", bargap=0.15, bargroupgap=0.05)
    figure.update_annotations(font={"size": 12})
    figure.update_yaxes(tickformat=".0%")
    return figure


def _column_trace(column: str, split: str, entry: Mapping[str, Any], colour: str, *, showlegend: bool) -> Any:
    go = plotly().go
    info = entry.get("columns", {}).get(column)
    rows = max(int(entry.get("rows") or 0), 1)
    common = {
        "name": split,
        "legendgroup": split,
        "showlegend": showlegend,
        "marker": {"color": colour},
    }
    if info is None:
        return None
    histogram = info.get("histogram")
    if info.get("kind") == "numeric" and histogram:
        edges, counts = histogram["edges"], histogram["counts"]
        shares = [c / rows for c in counts]
        # a step outline: each bin's share held from its left edge to its right edge, down to 0 at both ends
        return go.Scatter(
            x=[edges[0], *edges],
            y=[0.0, *shares, 0.0],
            mode="lines",
            line={"color": colour, "shape": "hv", "width": 2},
            customdata=[0, *counts, 0],
            hovertemplate=f"{split}: from %{{x:.4g}}: %{{customdata}} rows<extra></extra>",
            **common,
        )
    if info.get("kind") == "categorical":
        top = info.get("top", [])
        return go.Bar(
            x=[escape(v) for v, _ in top],
            y=[c / rows for _, c in top],
            customdata=[c for _, c in top],
            hovertemplate=f"{split}: %{{x}}: %{{customdata}} rows<extra></extra>",
            **common,
        )
    if info.get("kind") == "boolean":
        true, count = int(info.get("true", 0)), int(info.get("count", 0))
        return go.Bar(x=["true", "false"], y=[true / rows, (count - true) / rows], **common)
    return None


def history_figure(histories: Mapping[str, Mapping[str, Sequence[float]]], columns_per_row: int = 2) -> Any:
    """Training curves, one chart per metric: train solid, eval dashed, one colour per history (run)."""
    metrics = list(dict.fromkeys(_base(key) for h in histories.values() for key in h if key != "epoch"))
    metrics.sort(key=lambda name: name != "loss")  # loss first, then the order the trainer logged (stable)
    rows = max(math.ceil(len(metrics) / columns_per_row), 1)
    figure = plotly().make_subplots(
        rows=rows, cols=columns_per_row, subplot_titles=metrics, vertical_spacing=min(0.4 / rows, 0.15)
    )
    go = plotly().go
    many = len(histories) > 1
    in_legend: set[str] = set()
    for number, (name, history) in enumerate(histories.items()):
        colour = PALETTE[number % len(PALETTE)]
        for index, metric in enumerate(metrics):
            for phase, key, dash in (("train", metric, "solid"), ("eval", f"eval_{metric}", "dash")):
                values = history.get(key)
                if not values:
                    continue
                epochs = list(history.get("epoch") or range(1, len(values) + 1))
                label = f"{name} {phase}" if many else phase
                figure.add_trace(
                    go.Scatter(
                        x=epochs[: len(values)],
                        y=list(values),
                        mode="lines+markers",
                        name=label,
                        legendgroup=label,
                        showlegend=label not in in_legend,
                        line={"color": colour if many else PALETTE[0 if phase == "train" else 1], "dash": dash},
                        marker={"size": 5},
                    ),
                    row=index // columns_per_row + 1,
                    col=index % columns_per_row + 1,
                )
                in_legend.add(label)
    _layout(figure, height=260 * rows + 90)
    longest = max((len(h.get("epoch") or []) for h in histories.values()), default=1)
    figure.update_xaxes(title={"text": "epoch"}, tick0=1, dtick=max(1, math.ceil(longest / 10)))
    return figure


def _base(key: str) -> str:
    return key.removeprefix("eval_")


def confusion_figure(matrix: Sequence[Sequence[int]], labels: Sequence[str], title: str) -> Any:
    """A confusion matrix heatmap: rows the true class, columns the predicted one, counts written in."""
    go = plotly().go
    names = [escape(label) for label in labels]
    figure = go.Figure(
        go.Heatmap(
            z=[list(row) for row in matrix],
            x=names,
            y=names,
            colorscale="Blues",
            texttemplate="%{z}",
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
            showscale=False,
        )
    )
    _layout(figure, height=max(300, 60 * len(names) + 160), title=title, legend=False)
    figure.update_xaxes(
        title={"text": "predicted"}, type="category", showgrid=False, constrain="domain", constraintoward="left"
    )
    # square cells: the y axis takes the x axis's scale
    figure.update_yaxes(
        title={"text": "true"},
        type="category",
        autorange="reversed",
        showgrid=False,
        scaleanchor="x",
        constrain="domain",
    )
    return figure


def residuals_figure(residuals: Mapping[str, Any], title: str) -> Any:
    """Regression errors: the residual histogram, and predicted against true values with the ideal line."""
    go = plotly().go
    figure = plotly().make_subplots(
        rows=1, cols=2, subplot_titles=["residual (prediction - truth)", "prediction vs truth"]
    )
    edges, counts = residuals.get("edges", []), residuals.get("counts", [])
    centres = [(low + high) / 2 for low, high in itertools.pairwise(edges)]
    figure.add_trace(go.Bar(x=centres, y=counts, name="residuals", marker={"color": PALETTE[0]}), row=1, col=1)
    points = residuals.get("points", [])
    truth, predicted = [p[0] for p in points], [p[1] for p in points]
    figure.add_trace(
        go.Scatter(
            x=truth, y=predicted, mode="markers", name="rows", marker={"color": PALETTE[1], "size": 5, "opacity": 0.6}
        ),
        row=1,
        col=2,
    )
    if truth:
        low, high = min(truth + predicted), max(truth + predicted)
        figure.add_trace(
            go.Scatter(
                x=[low, high], y=[low, high], mode="lines", name="ideal", line={"color": "#677085", "dash": "dot"}
            ),
            row=1,
            col=2,
        )
    _layout(figure, height=380, title=title)
    figure.update_xaxes(title={"text": "true value"}, row=1, col=2)
    figure.update_yaxes(title={"text": "predicted"}, row=1, col=2)
    figure.update_yaxes(title={"text": "rows"}, row=1, col=1)
    return figure


def metrics_figure(values: Mapping[str, Mapping[str, float | None]], columns_per_row: int = 4) -> Any:
    """Metrics across runs, one chart per metric (metrics have different scales), one dot per run.

    Dots on an axis fitted to the values, not bars from 0: 0.9616 and 0.9709 would be bars of the
    same height; here they are a readable distance apart, each labelled with its value.
    """
    go = plotly().go
    metrics = list(values)
    rows = max(math.ceil(len(metrics) / columns_per_row), 1)
    figure = plotly().make_subplots(
        rows=rows,
        cols=columns_per_row,
        subplot_titles=[escape(m) for m in metrics],
        vertical_spacing=min(0.5 / rows, 0.18),
    )
    for index, metric in enumerate(metrics):
        runs = list(values[metric])
        row, col = index // columns_per_row + 1, index % columns_per_row + 1
        numbers = [values[metric][run] for run in runs]
        figure.add_trace(
            go.Scatter(
                x=runs,
                y=numbers,
                mode="markers+text",
                showlegend=False,
                name=metric,
                marker={"color": [PALETTE[i % len(PALETTE)] for i in range(len(runs))], "size": 12},
                text=[metric_text(v, 4) if v is not None else "" for v in numbers],
                textposition="top center",
                cliponaxis=False,
            ),
            row=row,
            col=col,
        )
        figure.update_yaxes(range=_fitted_range([v for v in numbers if v is not None]), row=row, col=col)
        figure.update_xaxes(range=[-0.5, len(runs) - 0.5], row=row, col=col)  # labels clear of the y axis
    _layout(figure, height=250 * rows + 70, legend=False)
    return figure


def _fitted_range(numbers: Sequence[float]) -> list[float] | None:
    """An axis range around ``numbers`` with room for the value labels above the dots (``None``: plotly's)."""
    if not numbers:
        return None
    low, high = min(numbers), max(numbers)
    pad = (high - low) * 0.35 or abs(high) * 0.05 or 1.0
    return [low - pad, high + pad]
