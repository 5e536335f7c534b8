"""``artifact``: a 200 MB NumPy array through ``ArtifactStore.save`` + ``load`` versus ``np.save`` + ``np.load``.

Both write to and read from the same temporary folder; the two are interleaved (alternating which
goes first) so page-cache and write-back effects fall on both alike.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.measure import BenchmarkError, median
from benchmarks.report import Figure, print_table

MEGABYTE = 1_000_000
SIZE_MB = 200
RUNS = 9  # a round trip takes ~0.25 s; with 5 the ratio swung 0.45-0.74 between invocations
WARMUPS = 1
RATIO_TARGET = 0.80


def zen_round_trip(folder: Path, array: Any) -> tuple[float, float, Any]:
    """Seconds to save and to load ``array`` through a fresh ``ArtifactStore`` in ``folder``, and the value read."""
    from zenml.artifacts.store import ArtifactStore

    started = time.perf_counter()
    store = ArtifactStore(str(folder))
    stored = store.save(array, ("r", "s", "o"))
    saved = time.perf_counter()
    loaded = store.load(stored)
    return saved - started, time.perf_counter() - saved, loaded


def plain_round_trip(folder: Path, array: Any) -> tuple[float, float, Any]:
    """Seconds for ``np.save`` and ``np.load`` of ``array`` to a file in ``folder``, and the value read."""
    import numpy as np

    path = folder / "array.npy"
    started = time.perf_counter()
    np.save(path, array)
    saved = time.perf_counter()
    loaded = np.load(path)
    return saved - started, time.perf_counter() - saved, loaded


def run() -> list[Figure]:
    """Median of ``RUNS`` round trips each (after ``WARMUPS``), checking both read back the array."""
    import numpy as np

    array = np.random.default_rng(0).random(SIZE_MB * MEGABYTE // 8)  # float64, incompressible
    ways = {"zenml ArtifactStore": zen_round_trip, "np.save + np.load": plain_round_trip}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
    with tempfile.TemporaryDirectory(prefix="zen-bench-artifact-") as tmp:
        for round_ in range(WARMUPS + RUNS):
            order = list(ways) if round_ % 2 == 0 else list(reversed(ways))
            for name in order:
                folder = Path(tmp) / name.split()[0]
                folder.mkdir()
                save_s, load_s, loaded = ways[name](folder, array)
                if round_ < WARMUPS and not np.array_equal(loaded, array):
                    raise BenchmarkError(f"{name} read back a different array")
                del loaded
                shutil.rmtree(folder)
                if round_ >= WARMUPS:
                    times[name].append((save_s, load_s))
    return _figures(array.nbytes / MEGABYTE, times)


def _figures(megabytes: float, times: dict[str, list[tuple[float, float]]]) -> list[Figure]:
    total = {name: median([save + load for save, load in pairs]) for name, pairs in times.items()}
    zen_name, plain_name = list(times)
    rows = [
        [
            name,
            f"{median([save for save, _ in pairs]) * 1000:.0f} ms",
            f"{median([load for _, load in pairs]) * 1000:.0f} ms",
            f"{total[name] * 1000:.0f} ms",
            f"{megabytes / total[name]:.0f} MB/s",
        ]
        for name, pairs in times.items()
    ]
    print(f"{megabytes:.0f} MB float64 array, median of {RUNS} round trips each after {WARMUPS} warm-up, interleaved")
    print_table(["way", "save", "load", "save + load", "throughput"], rows)
    ratio = total[plain_name] / total[zen_name]
    print(f"throughput ratio (plain time / zenml time): {ratio:.2f}")
    return [
        Figure("artifact", "throughput ratio plain time / zenml time", ratio, "x", RATIO_TARGET, better="higher"),
        Figure("artifact", f"zenml save + load of {megabytes:.0f} MB", megabytes / total[zen_name], "MB/s"),
        Figure("artifact", f"np.save + np.load of {megabytes:.0f} MB", megabytes / total[plain_name], "MB/s"),
    ]
