"""``history``: `zen runs list` with 10,000 runs in the store, and ``artifact.lineage()`` of a 10-step chain.

The 10,000 runs (two steps each) are written straight through ``SQLMetadataStore`` into a fresh
repository's SQLite database; ``zen runs list`` then runs as a fresh process (median of 5).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.measure import clean_env, median, run_command
from benchmarks.report import Figure, print_table

RUNS = 10_000
LIST_TARGET_S = 0.5
LINEAGE_TARGET_MS = 20.0

CHAIN = """
from zenml import pipeline, step

@step
def start() -> float:
    return 0.0

@step
def bump(x: float) -> float:
    return x + 1

@pipeline
def chain10() -> None:
    value = start()
    for index in range(1, 10):
        value = bump.configure(name=f"bump_{index}")(value)
"""


def _fill(root: Path) -> None:
    from zenml.metadata import SQLMetadataStore

    store = SQLMetadataStore(f"sqlite:///{root / '.zen' / 'metadata.db'}")
    now = time.time()
    with store.engine.begin() as connection:
        from zenml.metadata.tables import pipeline_table, run_table, step_run_table

        connection.execute(pipeline_table.insert(), [{"id": 1, "name": "history", "created_at": now}])
        connection.execute(run_table.insert(), [
            {"id": f"run-{i:06d}", "pipeline_id": 1, "status": "completed", "spec_path": "x.yaml",
             "spec_sha256": "0" * 64, "orchestrator": "local", "created_at": now - i, "started_at": now - i,
             "ended_at": now - i + 1} for i in range(RUNS)])
        connection.execute(step_run_table.insert(), [
            {"run_id": f"run-{i:06d}", "name": name, "type": "t", "status": "completed", "params": "{}"}
            for i in range(RUNS) for name in ("load", "train")])
    store.close()


def run() -> list[Figure]:
    """Time the listing and the lineage query."""
    zen = str(Path(sys.executable).parent / "zen")
    with tempfile.TemporaryDirectory(prefix="zen-bench-history-") as tmp:
        root = Path(tmp)
        subprocess.run([zen, "init", "."], cwd=root, env=clean_env(), check=True, capture_output=True)
        _fill(root)
        run_command([zen, "runs", "list"], cwd=root)
        listing = [run_command([zen, "runs", "list"], cwd=root, expect="run-000000") for _ in range(5)]
        (root / "chain.py").write_text(CHAIN)
        subprocess.run([zen, "run", "chain.py:chain10", "-q"], cwd=root, env=clean_env(), check=True,
                       capture_output=True)
        from zenml.repository import Repository, close_stores

        last = Repository(root).runs(pipeline="chain10")[0].steps["bump_9"].outputs["output"]
        last.lineage()
        lineage_ms = []
        for _ in range(20):
            started = time.perf_counter()
            graph = last.lineage()
            lineage_ms.append((time.perf_counter() - started) * 1000)
        assert len(graph.steps) == 10
        close_stores()
    figures = [
        Figure("history", f"zen runs list, {RUNS:,} runs (fresh process)", median([t.wall for t in listing]), "s",
               LIST_TARGET_S),
        Figure("history", "artifact.lineage(), 10-step chain", median(lineage_ms), "ms", LINEAGE_TARGET_MS),
    ]
    print_table(["figure", "value", "target"], [[f.name, f"{f.value:.3f} {f.unit}", f"{f.target} {f.unit}"]
                                                 for f in figures])
    return figures
