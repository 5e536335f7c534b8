"""The HTML shell of a report: inlined CSS, plotly.js inlined once, tables, figures, and a checked output path."""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from zenml.exceptions import ConfigError
from zenml.utils.status import StepStatus
from zenml.utils.text import metric_text

#: one colour per step status, shared by the graph, the timeline and the tables
STATUS_COLOURS: dict[str, str] = {
    StepStatus.COMPLETED: "#2f9e5b",
    StepStatus.CACHED: "#3d7fd1",
    StepStatus.FAILED: "#d64545",
    StepStatus.TIMED_OUT: "#b0306e",
    StepStatus.CRASHED: "#d64545",
    StepStatus.SKIPPED: "#a8a8a8",
    StepStatus.RUNNING: "#e89b2c",
    StepStatus.PENDING: "#d6d6d6",
}

CSS = """
:root { --fg: #1f2430; --muted: #677085; --line: #e2e5ec; --accent: #3d7fd1; --changed: #fff3c4; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
       background: #f6f7f9; }
header { background: #1f2430; color: #fff; padding: 18px 32px; }
header h1 { margin: 0 0 4px; font-size: 22px; font-weight: 600; }
header .sub { color: #c5cad6; }
nav { padding: 8px 32px; background: #fff; border-bottom: 1px solid var(--line); position: sticky; top: 0;
      z-index: 10; }
nav a { margin-right: 16px; color: var(--accent); text-decoration: none; }
main { max-width: 1240px; margin: 0 auto; padding: 16px 32px 48px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 20px;
          margin: 16px 0; }
section h2 { margin: 0 0 10px; font-size: 18px; }
section h3 { margin: 16px 0 6px; font-size: 15px; }
table { border-collapse: collapse; margin: 6px 0 10px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.changed, tr.changed td.changed { background: var(--changed); font-weight: 600; }
tr.same td { color: var(--muted); }
code, pre { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: #1f2430; color: #e8eaf0; padding: 10px 12px; border-radius: 6px; overflow-x: auto;
      white-space: pre-wrap; word-break: break-word; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px;
         font-weight: 600; }
.tag { display: inline-block; padding: 0 6px; margin: 1px 2px; border-radius: 4px; font-size: 12px;
       background: #eef1f6; color: var(--fg); }
.tag.warn { background: var(--changed); }
.banner { padding: 10px 16px; border-radius: 6px; margin: 16px 0 0; font-weight: 600; }
.banner.running { background: #fff1d6; border: 1px solid #e89b2c; }
.banner.failed { background: #fde4e4; border: 1px solid #d64545; }
.muted { color: var(--muted); }
.figure { margin: 6px 0 12px; }
.side-by-side { display: flex; gap: 32px; align-items: flex-start; flex-wrap: wrap; }
#overview-table td:first-child, #provenance-table td:first-child { color: var(--muted); }
.side-figure { flex: 1 1 420px; min-width: 380px; }
"""


class Markup(str):
    """Text that is already HTML (everything else is escaped)."""

    __slots__ = ()


def escape(value: object) -> Markup:
    """``value`` as HTML text (a ``Markup`` stays as it is)."""
    return value if isinstance(value, Markup) else Markup(html.escape(str(value)))


def badge(status: str) -> Markup:
    """A status in its colour."""
    colour = STATUS_COLOURS.get(status, "#677085")
    return Markup(f'<span class="badge" style="background:{colour}">{escape(status)}</span>')


def tag(text: str, *, warn: bool = False) -> Markup:
    """A small label (``code changed``, ``cached``)."""
    return Markup(f'<span class="tag{" warn" if warn else ""}">{escape(text)}</span>')


@dataclass(frozen=True)
class Cell:
    """A table cell with a CSS class (``num``, ``changed``)."""

    value: object
    css: str = ""


def table(
    headers: list[str], rows: list[list[object]], *, row_css: list[str] | None = None, css_id: str = ""
) -> Markup:
    """An HTML table (no header row when ``headers`` is empty); cells are text (escaped), ``Markup`` or ``Cell``."""
    head = f"<thead><tr>{''.join(f'<th>{escape(h)}</th>' for h in headers)}</tr></thead>" if headers else ""
    body = []
    for index, row in enumerate(rows):
        cells = "".join(_cell(value) for value in row)
        css = f' class="{row_css[index]}"' if row_css and row_css[index] else ""
        body.append(f"<tr{css}>{cells}</tr>")
    ident = f' id="{escape(css_id)}"' if css_id else ""
    return Markup(f"<table{ident}>{head}<tbody>{''.join(body)}</tbody></table>")


def _cell(value: object) -> str:
    if isinstance(value, Cell):
        return f'<td class="{value.css}">{escape(value.value)}</td>' if value.css else f"<td>{escape(value.value)}</td>"
    return f"<td>{escape(value)}</td>"


def params_text(params: dict[str, Any]) -> str:
    """Parameters as compact JSON (``{}`` for none)."""
    return json.dumps(params, sort_keys=True, default=str)


def when(timestamp: float | None) -> str:
    """A timestamp as UTC text."""
    if timestamp is None:
        return "-"
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def number(value: float | None) -> str:
    """A metric value, or ``-``."""
    return metric_text(value, 4)


# -- plotly --------------------------------------------------------------------------------------


def plotly() -> Any:
    """Import and return plotly's ``go``, ``pio`` and ``make_subplots`` (only here: never by ``import zenml``).

    Raises:
        ConfigError: plotly is not installed.
    """
    try:
        import plotly.graph_objects as go  # type: ignore[import-untyped]
        import plotly.io as pio  # type: ignore[import-untyped]
        from plotly.subplots import make_subplots  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ConfigError(
            f"HTML reports need plotly, which cannot be imported ({exc}); install it with: pip install 'zenml[report]'"
        ) from exc
    return SimpleNamespace(go=go, pio=pio, make_subplots=make_subplots)


def figure_html(figure: Any, div_id: str) -> Markup:
    """One figure as a ``div`` drawn by the page's single inlined copy of plotly.js."""
    pio = plotly().pio
    height = figure.layout.height or 420
    body = pio.to_html(
        figure,
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        default_height=f"{height}px",
        default_width="100%",
        config={"displaylogo": False, "responsive": True},
    )
    return Markup(f'<div class="figure">{body}</div>')


# -- the page -----------------------------------------------------------------------------------


@dataclass
class Page:
    """A report page: a header, optional banners, and sections (each listed in the navigation bar)."""

    title: str
    subtitle: str = ""
    banners: list[Markup] = field(default_factory=list)
    sections: list[tuple[str, str, Markup]] = field(default_factory=list)

    def banner(self, text: str, kind: str) -> None:
        """A prominent line under the header (``kind``: ``running`` or ``failed``)."""
        self.banners.append(Markup(f'<div class="banner {kind}" id="banner-{kind}">{escape(text)}</div>'))

    def add(self, section_id: str, title: str, *parts: Markup) -> None:
        """Append a section made of HTML parts."""
        self.sections.append((section_id, title, Markup("".join(parts))))

    def render(self) -> str:
        """The whole page as one self-contained HTML document."""
        script = plotly_js()
        nav = "".join(f'<a href="#{escape(sid)}">{escape(title)}</a>' for sid, title, _ in self.sections)
        body = "".join(
            f'<section id="{escape(sid)}"><h2>{escape(title)}</h2>{content}</section>'
            for sid, title, content in self.sections
        )
        return (
            "<!DOCTYPE html>\n"
            f'<html lang="en"><head><meta charset="utf-8"><title>{escape(self.title)}</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<style>{CSS}</style>"
            f'<script type="text/javascript">{script}</script></head><body>'
            f'<header><h1>{escape(self.title)}</h1><div class="sub">{escape(self.subtitle)}</div></header>'
            f"<nav>{nav}</nav><main>{''.join(self.banners)}{body}</main></body></html>\n"
        )


def plotly_js() -> str:
    """plotly.js as bundled with the installed plotly package (so the page needs no network)."""
    from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

    return str(get_plotlyjs())


def output_path(path: str | os.PathLike[str]) -> Path:
    """Check where a report goes: the folder must exist (it is never created), the path must not be a folder.

    Raises:
        ConfigError: the folder is missing or the path names a folder.
    """
    target = Path(path).expanduser()
    folder = target.parent.resolve()
    if not folder.is_dir():
        raise ConfigError(f"cannot write {target}: folder {folder} does not exist; create it or choose another path")
    if target.is_dir():
        raise ConfigError(f"cannot write the report to {target}: it is a folder; give a file name such as report.html")
    return folder / target.name


def write_page(page: Page, path: str | os.PathLike[str]) -> Path:
    """Render ``page`` and write it to ``path`` atomically (a reader never sees half a file); return the path."""
    target = output_path(path)
    text = page.render()
    # a unique name beside the target, opened exclusively; unlike mkstemp it keeps the usual file mode
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with open(temporary, "x", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)  # no stray temporary file; the error goes on to the caller
        raise
    return target
