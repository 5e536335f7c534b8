"""Regenerate the reports guide's screenshots from the guide's own example (not a test; run it by hand).

``python tests/history/reports/docs_images.py`` runs ``docs_src/reports/report_flow.py`` in a fresh repository,
writes the report of its second run and the comparison of both runs, and saves the top of each page
as ``docs/images/report-run.png`` and ``docs/images/report-compare.png``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from report_helpers import CHROMIUM_ARGS, ROOT

#: the part of each page the guide shows: from the top down to the end of this section
SHOWN_UNTIL = {"report-run": "#history", "report-compare": "#history"}
WIDTH = 1280


def build(folder: Path) -> dict[str, Path]:
    """Run the guide's example in ``folder``; return its two pages."""
    from zenml.history.reports import write_compare_page
    from zenml.repository import Repository, close_stores

    shutil.copy(ROOT / "docs_src" / "reports" / "report_flow.py", folder)
    repository = Repository.init(folder)
    subprocess.run([sys.executable, "report_flow.py"], cwd=folder, check=True)
    second, first = repository.runs()[:2]
    pages = {"report-run": folder / "report.html", "report-compare": folder / "compare.html"}
    write_compare_page([first, second], pages["report-compare"])
    close_stores()
    return pages


def screenshot(pages: dict[str, Path], target: Path) -> None:
    """The top of each page, down to the end of its section ``SHOWN_UNTIL``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        for name, page_file in pages.items():
            page = browser.new_page(viewport={"width": WIDTH, "height": 900})
            page.goto(page_file.resolve().as_uri(), wait_until="load")
            page.wait_for_function(
                "() => [...document.querySelectorAll('.plotly-graph-div')].every(d => d._fullLayout)"
            )
            box = page.locator(SHOWN_UNTIL[name]).bounding_box()
            clip = {"x": 0, "y": 0, "width": WIDTH, "height": box["y"] + box["height"] + 16}
            page.screenshot(path=str(target / f"{name}.png"), full_page=True, clip=clip)
            page.close()
        browser.close()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as scratch:
        screenshot(build(Path(scratch)), ROOT / "docs" / "images")
    print("wrote", ", ".join(f"docs/images/{name}.png" for name in SHOWN_UNTIL))
