"""``zen runs compare A B [C …]``: the terminal comparison of each run with the first, and with ``-o`` a
self-contained page (parameters and metrics side by side, curves overlaid, what changed per step)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from report_helpers import ReportRuns, store_state

from zenml.exceptions import ConfigError
from zenml.history.compare import compare_with_first


def cells(page: Any, selector: str) -> list[list[str]]:
    """The text of each cell of each body row of a table."""
    rows = page.page.locator(f"{selector} tbody tr")
    return [[cell.strip() for cell in rows.nth(i).locator("td").all_inner_texts()] for i in range(rows.count())]


def test_compare_page_of_three_runs(zen: Any, report_runs: ReportRuns, open_report: Any, tmp_path: Path) -> None:
    target = tmp_path / "compare.html"
    started = time.perf_counter()
    result = zen("runs", "compare", report_runs.baseline, report_runs.tuned, report_runs.failed, "-o", str(target))
    print(f"compare.html: {target.stat().st_size / 1024:.0f} KB written in {time.perf_counter() - started:.2f} s")
    assert result.code == 0, result.err
    assert result.out.strip() == f"Comparison of 3 runs written to {target}"

    page = open_report(target, "compare")
    page.assert_clean()
    assert page.rendered("fig-compare-metrics") and page.rendered("fig-compare-history-0")
    runs = cells(page, "#runs-table")
    assert runs[1] == ["run id", report_runs.baseline, report_runs.tuned, report_runs.failed]
    assert runs[0][1:] == ["completed", "completed", "failed"]

    changed = {(row[0], row[1]): row[2:] for row in cells(page, "#parameters-table")}
    assert changed == {
        ("trainer", "epochs"): ["8", "14", "8"],
        ("trainer", "lr"): ["0.5", "0.2", "0.5"],
        ("gate", "minimum"): ["0.5", "0.5", "0.99"],
    }
    assert page.page.locator("#parameters-table td.changed").count() == 3  # only the values that differ

    steps = {row[0]: row[1:] for row in cells(page, "#steps-table")}
    assert steps["datasource"] == ["completed", "cached unchanged", "cached unchanged"]
    assert steps["trainer"][1:] == ["completed parameters changed", "cached unchanged"]
    assert steps["evaluator"][1] == "completed data changed: predictions"
    assert steps["gate"][1:] == ["completed data changed: report", "failed parameters changed"]

    metrics = {row[0]: row[1:] for row in cells(page, "#metrics-table")}
    assert set(metrics) == {"evaluator.accuracy", "evaluator.auc"}
    assert metrics["evaluator.auc"][2] == metrics["evaluator.auc"][0]  # the failed run reused run 1's model
    assert metrics["evaluator.auc"][1].endswith(")")  # the tuned run's value, with its delta against run 1
    assert page.page.locator("#metrics-table td.changed").count() == 1
    history = page.figure("fig-compare-history-0")
    names = {trace["name"] for trace in history["data"]}
    assert names == {f"run {number} {phase}" for number in (1, 2, 3) for phase in ("train", "eval")}


def test_terminal_comparison_of_three_runs_compares_each_with_the_first(zen: Any, report_runs: ReportRuns) -> None:
    result = zen("runs", "compare", report_runs.baseline, report_runs.tuned, report_runs.failed)
    assert result.code == 0, result.err
    headers = [line for line in result.out.splitlines() if "  vs  " in line]
    assert headers == [
        f"{report_runs.baseline} (report_classify, completed)  vs  {report_runs.tuned} (report_classify, completed)",
        f"{report_runs.baseline} (report_classify, completed)  vs  {report_runs.failed} (report_classify, failed)",
    ]
    assert "epochs: 8 → 14" in result.out and "minimum: 0.5 → 0.99" in result.out


@pytest.mark.parametrize("extra", [[], ["-o", "compare.html"]], ids=["terminal", "page"])
def test_compare_needs_two_runs(zen: Any, report_runs: ReportRuns, tmp_path: Path, extra: list[str]) -> None:
    result = zen("runs", "compare", report_runs.baseline, *extra)
    assert result.code == 2
    assert result.error_lines == ["Error: 'zen runs compare' needs at least 2 runs, got 1; give two or more run ids"], (
        result.err
    )
    assert not (report_runs.root / "compare.html").exists()
    with pytest.raises(ConfigError, match="at least 2 runs, got 1"):
        compare_with_first([report_runs.run(report_runs.baseline)])


def test_compare_with_an_unknown_run_is_refused(zen: Any, report_runs: ReportRuns, tmp_path: Path) -> None:
    before = store_state(report_runs.root)
    result = zen("runs", "compare", report_runs.baseline, "no-such-run", "-o", str(tmp_path / "compare.html"))
    assert result.code == 2
    assert len(result.error_lines) == 1 and "no-such-run" in result.error_lines[0], result.err
    assert not (tmp_path / "compare.html").exists()
    assert store_state(report_runs.root) == before


def test_compare_into_a_missing_folder_is_refused(zen: Any, report_runs: ReportRuns, tmp_path: Path) -> None:
    before = store_state(report_runs.root)
    missing = tmp_path / "nowhere"
    result = zen("runs", "compare", report_runs.baseline, report_runs.tuned, "-o", str(missing / "compare.html"))
    assert result.code == 2
    assert len(result.error_lines) == 1 and f"folder {missing} does not exist" in result.error_lines[0]
    assert not missing.exists()
    assert store_state(report_runs.root) == before
