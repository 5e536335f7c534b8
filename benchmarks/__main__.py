"""``python -m benchmarks [NAME ...] [--json PATH]``: run the benchmarks and print figures next to targets."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback
from pathlib import Path

from benchmarks import BENCHMARKS, ON_DEMAND
from benchmarks.measure import background_load, host_speed
from benchmarks.report import Figure, print_summary, write_json


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks (default: all but ON_DEMAND); 1 if one could not run, 0 otherwise, met or not."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=main.__doc__)
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all but {', '.join(sorted(ON_DEMAND))})",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON to PATH")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    names = list(dict.fromkeys(args.names)) or [name for name in BENCHMARKS if name not in ON_DEMAND]
    started = time.time()
    figures: list[Figure] = []
    errors: dict[str, str] = {}
    load: dict[str, float | None] = {}
    for name in names:
        load[name] = background_load()
        loop = host_speed()
        print(f"\n== {name}{_load_text(load[name])}; host: a 10 M-addition Python loop takes {loop:.2f} s")
        figures.append(Figure("host", f"10 M-addition Python loop before {name}", loop, "s"))
        began = time.perf_counter()
        try:
            figures += importlib.import_module(BENCHMARKS[name]).run()
        except Exception as exc:  # report it, and still run the other benchmarks
            traceback.print_exc()
            errors[name] = f"{type(exc).__name__}: {exc}"
        print(f"({name} took {time.perf_counter() - began:.1f} s)")
    print(f"\n== summary ({time.time() - started:.0f} s)")
    print_summary(figures)
    for name, error in errors.items():
        print(f"{name}: FAILED: {error.splitlines()[0]}")
    if args.json is not None:
        write_json(args.json, figures, errors, started, load)
        print(f"figures written to {args.json}")
    return 1 if errors else 0


def _load_text(load: float | None) -> str:
    if load is None:
        return ""
    busy = "; BUSY, wall times will read high" if load > 0.25 * (os.cpu_count() or 1) else ""
    return f" (other processes kept {load:.2f} of {os.cpu_count()} cores busy just before{busy})"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
