"""The server's ``/docs`` page renders in a real browser with no network beyond the server, and can call /predict."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import ServedRun
from serve_helpers import Server

ARTIFACTS = Path(os.environ.get("ZEN_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _unavailable(message: str) -> None:
    if os.environ.get("ZEN_TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message}; ZEN_TEST_REQUIRE_SERVICES=1 requires it")
    pytest.skip(message)


def test_docs_page_lists_the_endpoints_and_tries_predict(server: Server, cancer_run: ServedRun) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable(f"playwright is not installed ({exc}); pip install playwright")
    executable = shutil.which("chromium")
    if executable is None:
        _unavailable("no 'chromium' executable on PATH (Debian: apt-get install chromium)")
    outside: list[str] = []
    errors: list[str] = []
    answer: dict[str, str] = {}

    def drive_browser() -> None:
        with sync_playwright() as playwright:
            _try_predict(playwright, executable, server, outside, errors, answer)

    # Playwright's sync API refuses a thread where an asyncio loop runs (another package's browser
    # fixture may still hold one in the main thread): a thread of its own has none.
    failures: list[BaseException] = []
    worker = threading.Thread(target=lambda: _recording(drive_browser, failures))
    worker.start()
    worker.join(timeout=180)
    assert not worker.is_alive(), "the browser did not finish within 180 s"
    if failures:
        raise failures[0]
    body = answer["body"]
    assert outside == [] and errors == []
    assert '"prediction"' in body and '"probability_' in body


def _recording(action: Any, failures: list[BaseException]) -> None:
    try:
        action()
    except BaseException as exc:  # noqa: BLE001 -- handed to the test's thread, which raises it
        failures.append(exc)


def _try_predict(
    playwright: Any, executable: str, server: Server, outside: list[str], errors: list[str], answer: dict[str, str]
) -> None:
    """Open /docs, try /predict with its example body, and keep what the page shows."""
    browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    def route(request_route: Any) -> None:
        if request_route.request.url.startswith(server.url):
            request_route.continue_()
        else:  # a CDN: the page must not need one
            outside.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server.url}/docs", wait_until="load")
    page.wait_for_selector("text=/predict", timeout=30_000)
    for path in ("/health", "/metadata"):
        assert page.locator(f"text={path}").count() >= 1
    page.locator("text=Score rows").first.click()
    page.locator("button:has-text('Try it out')").first.click()
    page.locator("button:has-text('Execute')").first.click()
    # the example body is one row of zeros: a real answer from the model, shown in the page
    page.wait_for_selector(".responses-table .response-col_status:has-text('200')", timeout=30_000)
    shots = ARTIFACTS / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "serving-docs.png"), full_page=True)
    answer["body"] = page.locator(".live-responses-table").inner_text()
    browser.close()
