"""``run.report()`` and ``zen runs report``: one self-contained page per run, whether it completed, failed
or is still running, opened in Chromium with the network cut off."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from report_helpers import OpenedPage, ReportRuns, store_state

from zenml.exceptions import ConfigError
from zenml.history.reports.page import plotly_js


def write_report(run: Any, path: Path) -> Path:
    """``run.report(path)``, printing the page's size and how long it took (recorded, never asserted)."""
    started = time.perf_counter()
    written = run.report(path)
    elapsed = time.perf_counter() - started
    print(f"{path.name}: {written.stat().st_size / 1024:.0f} KB written in {elapsed:.2f} s")
    return Path(written)


def statuses(page: OpenedPage) -> dict[str, str]:
    """Step name → status, as the pipeline graph colours them (one trace per status)."""
    return {name: trace["name"] for trace in page.figure("fig-dag")["data"] for name in trace["customdata"]}


def bars(page: OpenedPage) -> dict[str, tuple[float, float]]:
    """Step name → (start, end) seconds, as the timeline draws them."""
    found = {}
    for trace in page.figure("fig-timeline")["data"]:
        if trace["type"] == "bar":
            for name, base, width in zip(trace["y"], trace["base"], trace["x"], strict=True):
                found[name] = (base, base + width)
    return found


def test_completed_run_report_is_self_contained_and_draws_every_section(
    report_runs: ReportRuns, open_report: Any, tmp_path: Path
) -> None:
    run = report_runs.run(report_runs.baseline)
    path = write_report(run, tmp_path / "run.html")
    html = path.read_text()
    bundle = plotly_js()
    assert html.count(bundle) == 1, "plotly.js is inlined exactly once"
    ours = html.replace(bundle, "")
    assert "http://" not in ours and "https://" not in ours and " src=" not in ours  # nothing else to fetch

    page = open_report(path, "report-completed")
    page.assert_clean()
    figures = ["fig-dag", "fig-timeline", "fig-statistics-0", "fig-statistics-1", "fig-history-0", "fig-confusion-0"]
    assert all(page.rendered(figure) for figure in figures), {figure: page.rendered(figure) for figure in figures}
    assert statuses(page) == dict.fromkeys(run.steps, "completed")
    dag = page.figure("fig-dag")
    assert len(dag["layout"]["annotations"]) == 6  # one arrow per data dependency between steps

    drawn, recorded = bars(page), {name: step.record for name, step in run.steps.items()}
    origin = min(r.started_at for r in recorded.values() if r.started_at is not None)
    origin = min(origin, run.record.started_at)
    for name, record in recorded.items():
        assert drawn[name] == pytest.approx((record.started_at - origin, record.ended_at - origin), abs=1e-3)

    overview = page.text("#overview")
    for expected in (run.id, "report_classify", "parallel", "(not a git repository)", "default: artifacts"):
        assert expected in overview
    steps = page.text("#steps-table")
    assert "epochs = 8" in steps and "lr = 0.5" in steps and "NumpyLinearTrainer" in steps
    assert page.page.locator("#failure, #absent, #banner-running, #banner-failed").count() == 0

    statistics = [page.figure(f"fig-statistics-{index}")["data"] for index in (0, 1)]
    assert sorted(sorted({trace["name"] for trace in data}) for data in statistics) == [["all"], ["eval", "train"]]
    history = page.figure("fig-history-0")
    assert {trace["name"] for trace in history["data"]} == {"train", "eval"}
    assert history["data"][0]["x"] == [float(epoch) for epoch in range(1, 9)]
    assert {a["text"] for a in history["layout"]["annotations"]} == {"loss", "accuracy"}
    confusion = page.figure("fig-confusion-0")["data"][0]
    assert confusion["x"] == ["no", "yes"] and confusion["type"] == "heatmap"
    assert "accuracy" in page.text("#evaluation-metrics-0") and "auc" in page.text("#evaluation-metrics-0")
    assert {"p", "q"} <= set(page.text("#slices-0-kind").split())


def test_failed_run_report_shows_the_failing_step_its_error_and_its_last_log_lines(
    report_runs: ReportRuns, open_report: Any, tmp_path: Path
) -> None:
    run = report_runs.run(report_runs.failed)
    page = open_report(write_report(run, tmp_path / "failed.html"), "report-failed")
    page.assert_clean()
    assert "step 'gate' failed: ValueError: accuracy" in page.text("#banner-failed")
    error = r"ValueError: accuracy 0\.\d{4} is below the required 0\.9900; the model is not released"
    assert re.fullmatch(error, page.text("#error-gate"))
    log = page.text("#log-gate")
    assert "required 0.9900" in log and "checking the eval split" in log
    assert "ValueError" in log.splitlines()[-1]  # the traceback ends the log
    graph = statuses(page)
    assert graph["gate"] == "failed"
    assert {graph[name] for name in run.steps if name != "gate"} == {"cached"}
    assert page.rendered("fig-timeline") and page.rendered("fig-history-0")  # what did run is still shown


def test_report_of_a_run_in_progress_says_so_and_shows_pending_steps(
    report_runs: ReportRuns, running_run: str, open_report: Any, tmp_path: Path
) -> None:
    run = report_runs.run(running_run)
    assert run.status == "running"
    page = open_report(write_report(run, tmp_path / "running.html"), "report-running")
    page.assert_clean()
    assert "This run is still in progress" in page.text("#banner-running")
    assert statuses(page) == {"numbers": "completed", "hold": "running", "after": "pending"}
    drawn = bars(page)
    assert set(drawn) == {"numbers", "hold"}  # 'after' has not started: no bar, only its status
    assert drawn["hold"][1] > drawn["hold"][0]
    assert "running for" in page.text("#overview-table")
    assert page.text("#absent") == "No dataset statistics, no training history, no evaluation in this run."
    assert page.page.locator("#statistics, #history, #evaluation, #failure").count() == 0


def test_regression_report_draws_residuals(report_runs: ReportRuns, open_report: Any, tmp_path: Path) -> None:
    run = report_runs.run(report_runs.regression)
    page = open_report(write_report(run, tmp_path / "regression.html"), "report-regression")
    page.assert_clean()
    assert page.rendered("fig-residuals-0") and not page.page.locator("#fig-confusion-0").count()
    residuals = page.figure("fig-residuals-0")["data"]
    assert [trace["name"] for trace in residuals] == ["residuals", "rows", "ideal"]
    assert {a["text"] for a in page.figure("fig-history-0")["layout"]["annotations"]} == {"loss", "mae"}
    assert "r2" in page.text("#evaluation-metrics-0")


# -- the command ---------------------------------------------------------------------------------


def test_zen_runs_report_accepts_a_prefix(zen: Any, report_runs: ReportRuns, tmp_path: Path) -> None:
    target = tmp_path / "by-prefix.html"
    result = zen("runs", "report", report_runs.tuned[:-3], "-o", str(target))
    assert result.code == 0, result.err
    assert result.out.strip() == f"Report of run {report_runs.tuned} (completed) written to {target}"
    assert f"Run {report_runs.tuned}" in target.read_text()


def test_unknown_run_id_is_refused(zen: Any, report_runs: ReportRuns, tmp_path: Path) -> None:
    before = store_state(report_runs.root)
    result = zen("runs", "report", "no-such-run", "-o", str(tmp_path / "report.html"))
    assert result.code == 2
    assert len(result.error_lines) == 1 and "no-such-run" in result.error_lines[0], result.err
    assert not (tmp_path / "report.html").exists()
    assert store_state(report_runs.root) == before


def test_output_in_a_missing_folder_is_refused_and_not_created(
    zen: Any, report_runs: ReportRuns, tmp_path: Path
) -> None:
    before = store_state(report_runs.root)
    missing = tmp_path / "missing"
    result = zen("runs", "report", report_runs.tuned, "-o", str(missing / "report.html"))
    assert result.code == 2
    assert result.error_lines == [
        f"Error: cannot write {missing / 'report.html'}: folder {missing} does not exist; "
        "create it or choose another path"
    ]
    assert not missing.exists()
    with pytest.raises(ConfigError, match=f"folder {missing} does not exist"):
        report_runs.run(report_runs.tuned).report(missing / "report.html")
    assert not missing.exists()
    assert store_state(report_runs.root) == before


def test_output_that_is_a_folder_is_refused(zen: Any, report_runs: ReportRuns, tmp_path: Path) -> None:
    result = zen("runs", "report", report_runs.tuned, "-o", str(tmp_path))
    assert result.code == 2
    assert len(result.error_lines) == 1 and "it is a folder" in result.error_lines[0]


def test_missing_plotly_names_the_extra_to_install(
    zen: Any, report_runs: ReportRuns, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "plotly", None)  # `import plotly` now fails as if it were not installed
    with pytest.raises(ConfigError, match=r"pip install 'zenml\[report\]'"):
        report_runs.run(report_runs.tuned).report(tmp_path / "report.html")
    result = zen("runs", "report", report_runs.tuned, "-o", str(tmp_path / "report.html"))
    assert result.code == 2
    assert len(result.error_lines) == 1 and "pip install 'zenml[report]'" in result.error_lines[0]
    assert not list(tmp_path.iterdir())


def test_import_zenml_does_not_import_plotly() -> None:
    code = (
        "import sys, zenml, zenml.history.runs, zenml.cli.runs, zenml.cli.artifacts, zenml.history.reports; "
        "print(sorted(m for m in ('plotly', 'pandas') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
