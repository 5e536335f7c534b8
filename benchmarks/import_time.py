"""``import``: start-up cost of fresh processes: ``import zenml``, ``zen --help`` and what ``zen run`` imports.

Run ``python -m benchmarks.import_time [MODULE ...]`` for a ``-X importtime`` breakdown instead.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from functools import partial

from benchmarks.measure import clean_env, interleaved, medians, python, run_command, zen
from benchmarks.report import Figure, print_table, print_timings

RUNS = 15
WARMUPS = 2
IMPORT_TARGET_MS = 150.0
HELP_TARGET_MS = 300.0
# What ``zen run`` imports before it loads the user's module: its floor, before any step runs.
RUN_MODULES = ("zenml.cli.app", "zenml.cli.run", "zenml.engine")


def run() -> list[Figure]:
    """Median wall time of each fresh process over ``RUNS`` interleaved rounds after ``WARMUPS``."""
    floor = f"import {', '.join(RUN_MODULES)}"
    commands = {
        "python -c pass": [python(), "-c", "pass"],
        "python -c 'import zenml'": [python(), "-c", "import zenml"],
        "zen --help": [zen(), "--help"],
        f"python -c '{floor}'": [python(), "-c", floor],
    }
    samples = interleaved({name: partial(run_command, cmd) for name, cmd in commands.items()}, RUNS, WARMUPS)
    ms = {name: timing.wall * 1000 for name, timing in medians(samples).items()}
    bare, package = ms["python -c pass"], ms["python -c 'import zenml'"]
    print(f"fresh processes, {RUNS} interleaved rounds after {WARMUPS} warm-up rounds ({python()})")
    print_timings(samples, "ms")
    return [
        Figure("import", "python -c 'import zenml'", package, "ms", IMPORT_TARGET_MS),
        Figure("import", "import zenml minus bare python startup", package - bare, "ms"),
        Figure("import", "zen --help", ms["zen --help"], "ms", HELP_TARGET_MS),
        Figure("import", "bare python -c pass", bare, "ms"),
        Figure("import", f"python -c '{floor}' (zen run's floor)", ms[f"python -c '{floor}'"], "ms"),
    ]


def importtime_records(modules: list[str]) -> list[tuple[str, float, float]]:
    """``(module, cumulative ms, self ms)`` for every import of ``modules`` in one fresh process."""
    done = subprocess.run(
        [python(), "-X", "importtime", "-c", f"import {', '.join(modules)}"],
        capture_output=True,
        text=True,
        env=clean_env(),
        check=True,
    )
    records = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)", line)
        if match:
            records.append((match[3], int(match[2]) / 1000, int(match[1]) / 1000))
    return records


def slowest(records: list[tuple[str, float, float]], top: int) -> list[tuple[str, float, float]]:
    """The ``top`` modules by cumulative time (a module imported in two parts counts once, at its largest)."""
    best: dict[str, tuple[str, float, float]] = {}
    for record in records:
        if record[0] not in best or record[1] > best[record[0]][1]:
            best[record[0]] = record
    return sorted(best.values(), key=lambda record: -record[1])[:top]


def by_package(records: list[tuple[str, float, float]]) -> list[tuple[str, float, int]]:
    """Self time summed per top-level package (these add up to the whole import), slowest first."""
    totals: dict[str, tuple[float, int]] = {}
    for name, _cumulative, own in records:
        package = name.split(".")[0]
        total, count = totals.get(package, (0.0, 0))
        totals[package] = (total + own, count + 1)
    return sorted(((name, total, count) for name, (total, count) in totals.items()), key=lambda row: -row[1])


def main(argv: list[str] | None = None) -> None:
    """Print where the import time of the given modules (default: what ``zen run`` imports) goes."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.import_time", description=main.__doc__)
    parser.add_argument("modules", nargs="*", default=list(RUN_MODULES))
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    records = importtime_records(args.modules)
    total = sum(own for _name, _cumulative, own in records)
    print(f"import {', '.join(args.modules)}: {total:.0f} ms in {len(records)} modules (one process, -X importtime)")
    print()
    print_table(
        ["package", "self time", "modules"],
        [[name, f"{own:.1f} ms", str(count)] for name, own, count in by_package(records)[: args.top]],
    )
    print()
    print_table(
        ["module", "cumulative", "self"],
        [[name, f"{cum:.1f} ms", f"{own:.1f} ms"] for name, cum, own in slowest(records, args.top)],
    )


if __name__ == "__main__":
    main(sys.argv[1:])
