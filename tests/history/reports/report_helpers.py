"""Helpers of the report tests: the runs they look at, a report opened in the browser, screenshots, and the
CLI tests' ``Result``/``store_state`` (shared rather than copied)."""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
#: headless, and nothing that would reach the network on its own (updates, sync, QUIC probes)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _cli_helpers() -> Any:
    """The CLI tests' helpers (``Result``, ``store_state``), shared rather than copied."""
    if "cli_helpers" not in sys.modules:
        spec = importlib.util.spec_from_file_location("cli_helpers", ROOT / "tests" / "cli" / "cli_helpers.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["cli_helpers"] = module
        spec.loader.exec_module(module)
    return sys.modules["cli_helpers"]


cli_helpers = _cli_helpers()
Result = cli_helpers.Result
store_state = cli_helpers.store_state


def screenshots_dir() -> Path:
    """``test-artifacts/screenshots`` at the project root, or under ``$ZEN_TEST_ARTIFACTS``."""
    root = Path(os.environ.get("ZEN_TEST_ARTIFACTS") or ROOT / "test-artifacts")
    folder = root / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class ReportRuns:
    """The repository and the runs the report tests look at (ids)."""

    root: Path
    baseline: str  # parallel orchestrator, every step executed
    tuned: str  # other trainer parameters: data steps cached
    failed: str  # the gate step refuses the model
    regression: str  # a regression model: residuals instead of a confusion matrix

    def repository(self) -> Any:
        from zenml.repository import Repository

        return Repository(self.root)

    def run(self, run_id: str) -> Any:
        return self.repository().run(run_id)


@dataclass
class OpenedPage:
    """A report opened in the browser, with everything that went wrong or tried to leave the page."""

    page: Any
    url: str
    console_errors: list[str]
    page_errors: list[str]
    requests: list[str]

    def assert_clean(self) -> None:
        """No console or script error, and no request other than the file itself."""
        assert not self.console_errors, self.console_errors
        assert not self.page_errors, self.page_errors
        assert self.requests == [self.url], f"the page made requests: {self.requests}"

    def figure(self, div_id: str) -> Any:
        """The figure's data as plotly.js drew it (``{"data": [...], "layout": {...}}``)."""
        return self.page.evaluate(
            "id => { const d = document.getElementById(id); return {data: d.data, layout: d.layout}; }", div_id
        )

    def rendered(self, div_id: str) -> int:
        """How many ``main-svg`` layers plotly drew in the figure (0: not rendered)."""
        return int(self.page.locator(f"#{div_id}.js-plotly-plot .main-svg").count())

    def text(self, selector: str) -> str:
        return str(self.page.locator(selector).inner_text())
