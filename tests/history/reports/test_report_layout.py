"""How the report's figures read in Chromium: the toolbar clear of the legend, every colour drawn is one the
legend shows, and metric values that differ by 1% a visible distance apart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from report_helpers import OpenedPage, ReportRuns

from zenml.history.reports.figures import metrics_figure
from zenml.history.reports.page import plotly

RECT = "(el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }"


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _legend_clear_of_toolbar(page: OpenedPage, div_id: str) -> None:
    """Hover the figure (plotly shows its toolbar then) and check the toolbar's box misses the legend's."""
    figure = page.page.locator(f"#{div_id}")
    figure.hover()
    toolbar = figure.locator(".modebar").first
    toolbar.wait_for(state="visible")
    legend = figure.locator("g.legend").first
    toolbar_box, legend_box = toolbar.evaluate(RECT), legend.evaluate(RECT)
    assert legend_box[2] > legend_box[0], f"{div_id} draws no legend"
    assert not _overlap(toolbar_box, legend_box), f"{div_id}: toolbar {toolbar_box} covers legend {legend_box}"


def _colour(trace: dict[str, Any]) -> str:
    colour = (trace.get("line") or {}).get("color") if trace["type"] == "scatter" else None
    return str(colour or trace["marker"]["color"])


def test_statistics_colours_are_the_legend_colours_and_the_toolbar_misses_the_legend(
    report_runs: ReportRuns, open_report: Any, tmp_path: Path
) -> None:
    path = report_runs.run(report_runs.baseline).report(tmp_path / "run.html")
    page = open_report(Path(path), "report-layout")
    page.assert_clean()
    for div_id in ("fig-statistics-0", "fig-statistics-1", "fig-history-0"):
        _legend_clear_of_toolbar(page, div_id)

    figures = [page.figure(f"fig-statistics-{index}") for index in (0, 1)]
    statistics = max(figures, key=lambda figure: len({trace["name"] for trace in figure["data"]}))  # the split's
    shown = {trace["name"]: _colour(trace) for trace in statistics["data"] if trace.get("showlegend", True)}
    assert len(shown) >= 2 and len(set(shown.values())) == len(shown), shown
    for trace in statistics["data"]:
        assert _colour(trace) == shown[trace["name"]], f"{trace['name']} is drawn in a colour its legend entry lacks"
        assert trace.get("opacity", 1) == 1, "a translucent trace mixes colours where splits overlap"
    assert statistics["layout"].get("barmode") != "overlay"


def test_metric_dots_that_differ_by_one_percent_are_a_visible_distance_apart(open_report: Any, tmp_path: Path) -> None:
    figure = metrics_figure({"accuracy": {"run 1": 0.9616, "run 2": 0.9709}, "auc": {"run 1": 0.99, "run 2": 0.99}})
    path = tmp_path / "metrics.html"
    plotly().pio.write_html(figure, str(path), include_plotlyjs=True, div_id="fig-metrics", full_html=True)
    page = open_report(path, "metrics-axis")
    page.assert_clean()
    pixels = page.page.evaluate(
        "() => { const a = document.getElementById('fig-metrics')._fullLayout.yaxis;"
        " return [a.l2p(0.9616), a.l2p(0.9709), a._length]; }"
    )
    low, high, height = pixels
    assert abs(low - high) > height / 4, f"0.9616 and 0.9709 are {abs(low - high):.0f} of {height:.0f} pixels apart"
    labels = page.page.locator("#fig-metrics .textpoint text").evaluate_all("els => els.map(e => e.textContent)")
    assert {"0.9616", "0.9709", "0.99"} <= set(labels), labels
