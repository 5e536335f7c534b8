"""``load``: `zen runs list`, `zen runs compare` and ``artifact.lineage()`` with 100,000 step runs in the store.

5,000 runs of a 20-step chain (with their artifacts, lineage events and a metric) are written in
bulk by ``zenml.testing.history.write_history`` into a fresh repository's SQLite database; the
commands then run as fresh processes (median of 5 after a warm-up, interleaved) and the API calls
in this process (median of 20). ``tests/reliability/test_load.py`` checks what these return.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from benchmarks.history import LINEAGE_TARGET_MS, LIST_TARGET_S
from benchmarks.measure import clean_env, interleaved, median, medians, run_command, zen
from benchmarks.report import Figure, print_table, print_timings

RUNS = 5_000
STEPS = 20


def _api_ms(call: Callable[[], object], repeats: int = 20) -> float:
    """The median wall time of ``call()`` in milliseconds, after one warm-up call."""
    call()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return median(samples)


def run() -> list[Figure]:
    """Fill a store with 100,000 step runs, then time listing, comparing and lineage."""
    from zenml.metadata import SQLMetadataStore
    from zenml.repository import Repository, close_stores
    from zenml.testing.history import METRIC, write_history

    with tempfile.TemporaryDirectory(prefix="zen-bench-load-") as tmp:
        root = Path(tmp)
        subprocess.run([zen(), "init", "."], cwd=root, env=clean_env(), check=True, capture_output=True)
        store = SQLMetadataStore(f"sqlite:///{root / '.zen' / 'metadata.db'}")
        started = time.perf_counter()
        history = write_history(store, runs=RUNS, steps_per_run=STEPS)
        write_s = time.perf_counter() - started
        store.close()
        newest, previous = history.run_ids[-1], history.run_ids[-2]
        best = history.run_ids[max(range(RUNS), key=lambda r: -1.0 if history.failed(r) else history.accuracy(r))]
        commands = {  # name -> (command, what its output must contain)
            "zen runs list": ([zen(), "runs", "list"], newest),
            f"zen runs list --sort {METRIC}": ([zen(), "runs", "list", "--sort", METRIC], best),
            "zen runs compare": ([zen(), "runs", "compare", previous, newest], newest),
        }
        samples = interleaved(
            {
                name: partial(run_command, command, cwd=root, expect=expect)
                for name, (command, expect) in commands.items()
            },
            runs=5,
            warmups=1,
        )
        print_timings(samples, "s")
        process = medians(samples)
        repository = Repository(root)
        middle = RUNS // 2  # an old run: nothing about it is cached or recent
        final = repository.run(history.run_ids[middle]).steps[history.step_name(STEPS - 1)].outputs["output"]
        lineage_ms = _api_ms(final.lineage)
        metadata = repository.stores().metadata
        list_ms = _api_ms(lambda: (metadata.reap_dead_runs(), metadata.runs(limit=50)))  # what `runs list` queries
        compare_ms = _api_ms(lambda: repository.compare(previous, newest))
        close_stores()
    print_table(
        ["in-process call", "median"],
        [
            ["runs list queries (reap + newest 50)", f"{list_ms:.1f} ms"],
            [f"artifact.lineage(), {STEPS}-step chain", f"{lineage_ms:.1f} ms"],
            ["Repository.compare(a, b)", f"{compare_ms:.1f} ms"],
        ],
    )
    label = f"{RUNS * STEPS:,} step runs"
    return [
        Figure("load", f"write {label} (bulk inserts)", write_s, "s"),
        Figure("load", f"zen runs list, {label} (fresh process)", process["zen runs list"].wall, "s", LIST_TARGET_S),
        Figure("load", f"runs list queries in-process, {label}", list_ms, "ms"),
        Figure("load", f"zen runs list --sort {METRIC}, {label}", process[f"zen runs list --sort {METRIC}"].wall, "s"),
        Figure("load", f"zen runs compare, {label} (fresh process)", process["zen runs compare"].wall, "s"),
        Figure("load", f"Repository.compare(a, b), {label}", compare_ms, "ms"),
        Figure("load", f"artifact.lineage(), {STEPS}-step chain, {label}", lineage_ms, "ms", LINEAGE_TARGET_MS),
    ]
