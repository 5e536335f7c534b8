"""Benchmark figures with their targets, the summary table and the JSON report."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.measure import Timing, median

_FORMATS = {"ms": "{:.1f} ms", "s": "{:.3f} s", "MB/s": "{:.0f} MB/s", "x": "{:.2f}"}


@dataclass(frozen=True)
class Figure:
    """One measured number, its unit and (optionally) the target it is held against.

    ``better`` says which direction is good: ``"lower"`` means the target is a ceiling
    (``value <= target``), ``"higher"`` a floor. ``value`` is ``None`` when it was skipped.
    """

    benchmark: str
    name: str
    value: float | None
    unit: str
    target: float | None = None
    better: str = "lower"
    note: str = ""

    @property
    def status(self) -> str:
        """``met``, ``MISSED``, ``-`` (no target) or ``skipped``."""
        if self.value is None:
            return "skipped"
        if self.target is None:
            return "-"
        met = self.value <= self.target if self.better == "lower" else self.value >= self.target
        return "met" if met else "MISSED"

    def value_text(self) -> str:
        """The value in its unit, or ``skipped``."""
        return "skipped" if self.value is None else format_value(self.value, self.unit)

    def target_text(self) -> str:
        """The target as ``≤ 150.0 ms`` / ``≥ 0.80``, or empty."""
        if self.target is None:
            return ""
        return f"{'≤' if self.better == 'lower' else '≥'} {format_value(self.target, self.unit)}"

    def as_json(self) -> dict[str, Any]:
        """The figure's fields plus its status."""
        return {**asdict(self), "status": self.status}


def format_value(value: float, unit: str) -> str:
    """A number in its unit, with a precision suited to the unit."""
    return _FORMATS.get(unit, "{:.3g} " + unit).format(value)


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    """Print left-aligned columns under a header line."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    line = "  ".join("{:<%d}" % width for width in widths)  # noqa: UP031 -- builds a format string
    print(line.format(*headers).rstrip())
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(line.format(*row).rstrip())


def print_timings(samples: dict[str, list[Timing]], unit: str) -> None:
    """A table of timed processes: median, min and max wall time, and median CPU time, in ``unit`` (s or ms)."""
    scale = 1000 if unit == "ms" else 1

    def text(seconds: float) -> str:
        return format_value(seconds * scale, unit)

    rows = [
        [
            name,
            text(median([t.wall for t in timings])),
            text(min(t.wall for t in timings)),
            text(max(t.wall for t in timings)),
            text(median([t.cpu for t in timings])),
        ]
        for name, timings in samples.items()
    ]
    print_table(["process", "wall median", "min", "max", "cpu median"], rows)


def print_summary(figures: list[Figure]) -> None:
    """The summary table: every figure next to its target."""
    rows = [[f.benchmark, f.name, f.value_text(), f.target_text(), f.status] for f in figures]
    print_table(["benchmark", "figure", "value", "target", "status"], rows)


def write_json(
    path: Path, figures: list[Figure], errors: dict[str, str], started: float, load: dict[str, float | None]
) -> None:
    """Write the figures, any benchmark errors, the load before each benchmark and the machine to ``path``."""
    from zenml import __version__

    report = {
        "zenml_version": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "duration_s": round(time.time() - started, 1),
        "background_load_before": load,
        "figures": [figure.as_json() for figure in figures],
        "errors": errors,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
