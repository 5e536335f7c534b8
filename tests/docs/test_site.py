"""The documentation site builds with ``mkdocs build --strict`` and holds every page it promises.

Strict mode turns every warning into a failure: a broken link or anchor, a page missing from the
nav, a ``:::`` directive naming an unknown object, a docstring griffe cannot parse (Google style,
as in STYLE.md). The build runs once per session (about 10-20 s) and the tests read its output.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
API = DOCS / "reference" / "api"

# Pages the site must have whatever the nav says (the nav's own pages are checked as well).
REQUIRED_PAGES = [
    "index.md",
    "getting-started.md",
    "concepts.md",
    "guides/writing-steps.md",
    "guides/trainers.md",
    "guides/backends.md",
    "guides/scaling-out.md",
    "guides/team-setup.md",
    "guides/caching.md",
    "guides/reports.md",
    "guides/security.md",
    "cli.md",
    "reference/cli.md",
    "reference/api/index.md",
]
# The public modules the API reference documents (each named by a ``::: module`` directive).
PUBLIC_MODULES = {
    "zenml",
    "zenml.steps",
    "zenml.steps.split",
    "zenml.steps.preprocessor",
    "zenml.pipelines",
    "zenml.datasources",
    "zenml.steps.trainer",
    "zenml.steps.evaluator",
    "zenml.serving",
    "zenml.steps.deployer",
    "zenml.backends",
    "zenml.backends.orchestrator",
    "zenml.backends.processing",
    "zenml.backends.training",
    "zenml.repository",
    "zenml.stack",
    "zenml.history.runs",
    "zenml.history.compare",
    "zenml.history.reports",
    "zenml.exceptions",
    "zenml.testing",
}
DIRECTIVE = re.compile(r"^:::\s+([\w.]+)\s*$", re.M)


def nav_pages() -> list[str]:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())

    def walk(nav: object) -> Iterator[str]:
        if isinstance(nav, str):
            yield nav
        elif isinstance(nav, list):
            for item in nav:
                yield from walk(item)
        elif isinstance(nav, dict):
            for value in nav.values():
                yield from walk(value)

    return list(walk(config["nav"]))


def built(site: Path, page: str) -> Path:
    """Where MkDocs writes ``page`` (directory URLs: ``a/b.md`` → ``a/b/index.html``)."""
    stem = page.removesuffix(".md")
    return site / ("index.html" if stem == "index" else f"{stem.removesuffix('/index')}/index.html")


def api_directives() -> dict[str, list[str]]:
    """API page → the objects its ``:::`` directives render."""
    return {page.name: DIRECTIVE.findall(page.read_text()) for page in sorted(API.glob("*.md"))}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    warnings = [line for line in done.stderr.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert done.returncode == 0, "mkdocs build --strict failed:\n" + "\n".join(warnings or [done.stderr[-3000:]])
    return out


def test_site_builds_strictly_with_every_page(site: Path) -> None:
    pages = set(REQUIRED_PAGES) | set(nav_pages())
    missing = sorted(page for page in pages if not built(site, page).is_file())
    assert not missing, f"the site lacks {missing}"
    assert not (site / "hooks").exists(), "the build hooks were published as pages"


def test_cli_reference_page_is_generated(site: Path) -> None:
    html = built(site, "reference/cli.md").read_text()
    assert "zen-cli-reference" not in html
    for anchor in ("zen", "zen-init", "zen-run", "zen-runs", "zen-runs-list", "zen-stack-register"):
        assert f'id="{anchor}"' in html, f"the CLI reference has no section #{anchor}"
    assert "--no-cache" in html and "--backend-opt" in html


def test_api_reference_covers_the_public_modules() -> None:
    rendered = {name for names in api_directives().values() for name in names}
    assert PUBLIC_MODULES <= rendered, f"no API page renders {sorted(PUBLIC_MODULES - rendered)}"
    in_nav = {page for page in nav_pages() if page.startswith("reference/api/")}
    assert in_nav == {f"reference/api/{page.name}" for page in API.glob("*.md")}


def test_api_pages_render_every_exported_name(site: Path) -> None:
    """Each module's ``__all__`` appears (a name without a docstring would be silently left out)."""
    for page, names in api_directives().items():
        html = built(site, f"reference/api/{page}").read_text()
        for name in names:
            assert f'id="{name}"' in html, f"reference/api/{page} does not render {name}"
            module = sys.modules.get(name) or _import(name)
            for exported in getattr(module, "__all__", []):
                path = f"{name}.{exported}"
                if exported.startswith("_"):
                    continue
                assert f'id="{path}"' in html, f"reference/api/{page} does not render {path}; does it have a docstring?"


def _import(name: str) -> object | None:
    try:
        return importlib.import_module(name)
    except ImportError:  # a class, not a module: it has no __all__
        return None
