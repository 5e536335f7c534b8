"""Report fixtures: one repository with real runs (parallel, tuned, failed, regression, still running), a
headless Chromium that opens report files with the network cut off, and ``zen`` run in-process."""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from report_helpers import CHROMIUM_ARGS, OpenedPage, ReportRuns, Result, screenshots_dir

REQUIRE_SERVICES = os.environ.get("ZEN_TEST_REQUIRE_SERVICES") == "1"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


# -- the runs ------------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def report_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReportRuns]:
    """One repository with four finished runs, built once for the package."""
    import report_flows

    from zenml.engine import run_pipeline
    from zenml.exceptions import StepError
    from zenml.repository import Repository, close_stores

    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("ZEN_") and not name.startswith("ZEN_TEST_"):
                patch.delenv(name)
        root = tmp_path_factory.mktemp("report-repo")
        data = report_flows.write_table(root / "data.csv")
        repository = Repository.init(root)
        cpu = {"training": {"device": "cpu"}}  # the NumPy trainer needs no framework probing for a GPU
        flow = report_flows.classification(data)
        baseline = run_pipeline(flow, orchestrator="parallel", backend_options=cpu, repository=repository)
        tuned = run_pipeline(
            report_flows.classification(data, epochs=14, lr=0.2), backend_options=cpu, repository=repository
        )
        with pytest.raises(StepError, match="below the required") as failure:
            run_pipeline(flow, params={"gate": {"minimum": 0.99}}, backend_options=cpu, repository=repository)
        regression = run_pipeline(report_flows.regression(data), backend_options=cpu, repository=repository)
        try:
            yield ReportRuns(root, baseline.id, tuned.id, str(failure.value.run_id), regression.id)
        finally:
            close_stores()


@pytest.fixture
def running_run(report_runs: ReportRuns) -> Iterator[str]:
    """The id of a run whose middle step keeps running until the test ends.

    Held only for one test: its step's log capture stays open while it runs, and a capture left
    open past this package would leak into later tests (a "package" fixture here lives until the
    session ends, as tests/ has no __init__.py).
    """
    holder = _HeldRun(report_runs.repository())
    running = holder.start()
    try:
        yield running
    finally:
        holder.finish()


class _HeldRun:
    """Runs ``report_flows.held()`` in a thread and keeps its middle step running until ``finish``."""

    def __init__(self, repository: Any) -> None:
        self.repository = repository
        self.thread: threading.Thread | None = None
        self.errors: list[BaseException] = []

    def start(self) -> str:
        import report_flows

        report_flows.STARTED.clear()
        report_flows.RELEASE.clear()
        self.thread = threading.Thread(target=self._run, name="held-run", daemon=True)
        self.thread.start()
        assert report_flows.STARTED.wait(timeout=60), f"the held run did not start: {self.errors}"
        (record,) = [run for run in self.repository.runs(pipeline="report_held") if run.status == "running"]
        return str(record.id)

    def _run(self) -> None:
        import report_flows

        from zenml.engine import run_pipeline

        try:
            run_pipeline(report_flows.held(), repository=self.repository)
        except BaseException as exc:  # reported by finish(), in the test process's main thread
            self.errors.append(exc)

    def finish(self) -> None:
        import report_flows

        report_flows.RELEASE.set()
        assert self.thread is not None
        self.thread.join(timeout=60)
        assert not self.thread.is_alive() and not self.errors, self.errors


# -- the browser ---------------------------------------------------------------------------------


def _unavailable(message: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}; ZEN_TEST_REQUIRE_SERVICES=1 requires it")
    pytest.skip(message)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """Playwright's Chromium driving the system's ``chromium``, headless (skipped when either is missing)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable(f"playwright is not installed ({exc}); pip install playwright")
    executable = shutil.which("chromium")
    if executable is None:
        _unavailable("no 'chromium' executable on PATH (Debian: apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def open_report(browser: Any) -> Iterator[Callable[[Path, str], OpenedPage]]:
    """Open a report file with every network request aborted; save a full-page screenshot as NAME.png."""
    contexts: list[Any] = []

    def open_file(path: Path, name: str) -> OpenedPage:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        url = path.resolve().as_uri()
        opened = OpenedPage(context.new_page(), url, [], [], [])

        def route(request_route: Any) -> None:
            if request_route.request.url == url:
                request_route.continue_()
            else:
                request_route.abort()

        context.route("**/*", route)
        opened.page.on("console", lambda m: opened.console_errors.append(m.text) if m.type == "error" else None)
        opened.page.on("pageerror", lambda error: opened.page_errors.append(str(error)))
        opened.page.on("request", lambda request: opened.requests.append(request.url))
        opened.page.goto(url, wait_until="load")
        opened.page.wait_for_function(
            "() => [...document.querySelectorAll('.plotly-graph-div')]"
            ".every(d => d.classList.contains('js-plotly-plot') && d.querySelector('.main-svg'))"
        )
        opened.page.screenshot(path=str(screenshots_dir() / f"{name}.png"), full_page=True)
        return opened

    yield open_file
    for context in contexts:
        context.close()


# -- zen -----------------------------------------------------------------------------------------


@pytest.fixture
def zen(capsys: pytest.CaptureFixture[str], report_runs: ReportRuns, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run ``zen ARGS`` in-process in the report repository; return its exit code and output."""
    from zenml.cli import output
    from zenml.cli.app import main

    monkeypatch.chdir(report_runs.root)
    monkeypatch.setattr(output.console, "width", 200)
    monkeypatch.setattr(output.err_console, "width", 200)

    def invoke(*args: str) -> Any:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, _ANSI.sub("", captured.out), _ANSI.sub("", captured.err))

    return invoke
