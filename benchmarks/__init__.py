"""On-demand benchmarks of zenml's speed targets; run with ``python -m benchmarks`` (never part of the tests)."""

from __future__ import annotations

# Benchmark name -> module holding its ``run()``; modules are imported only when selected.
BENCHMARKS: dict[str, str] = {
    "import": "benchmarks.import_time",
    "chain": "benchmarks.chain",
    "artifact": "benchmarks.artifact",
    "per_step_db": "benchmarks.per_step_db",
    "history": "benchmarks.history",
    "load": "benchmarks.load",
    "data": "benchmarks.data",
    "trainers": "benchmarks.trainers",
    "orchestrators": "benchmarks.orchestrators",
    "serving": "benchmarks.serving",
    "peers": "benchmarks.peers",
}

#: run only when named (``python -m benchmarks peers``): minutes of other frameworks' processes
ON_DEMAND: frozenset[str] = frozenset({"peers"})

__all__ = ["BENCHMARKS", "ON_DEMAND"]
