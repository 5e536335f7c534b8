"""``chain``: a fresh ``zen run`` process running a chain of trivial steps, uncached and fully cached.

Each run records everything a real run does on the default stack (SQLite metadata, local
artifact folder): spec, run, step runs, an artifact per step, lineage and git provenance.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from functools import partial
from pathlib import Path
from string import Template

from benchmarks.measure import Timing, clean_env, interleaved, medians, run_command, zen
from benchmarks.report import Figure, print_timings

RUNS = 5
WARMUPS = 1
SHORT, LONG = 10, 50
TOTAL_TARGET_S = 0.5
PER_STEP_TARGET_MS = 3.0
CACHED_TARGET_S = 0.4

MODULE = Template('''"""Chains of trivial steps for the zenml ``chain`` benchmark."""

from zenml import pipeline, step


@step
def start() -> float:
    return 0.0


@step
def inc(x: float) -> float:
    return x + 1


def _chain(length: int) -> None:
    x = start()
    for index in range(1, length):
        x = inc.configure(name=f"inc{index:03d}")(x)


@pipeline
def chain$short() -> None:
    _chain($short)


@pipeline
def chain$long() -> None:
    _chain($long)
''').substitute(short=SHORT, long=LONG)


def make_project(folder: Path, with_git: bool) -> None:
    """``zen init`` a project holding ``chains.py``; with ``with_git``, a git repository with it committed.

    The run specs that ``zen run`` writes under ``pipelines/`` stay untracked, as they are until a
    user commits them, so runs after the first see a dirty tree and also hash ``git diff``.
    """
    (folder / "chains.py").write_text(MODULE)
    if with_git:
        _git(folder, "init", "-q", ".")
    run_command([zen(), "init", "."], cwd=folder)
    if with_git:
        with (folder / ".gitignore").open("a") as handle:
            handle.write("__pycache__/\n")
        _git(folder, "add", ".")
        _git(folder, "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "commit", "-q", "-m", "chains")


def _git(folder: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=folder, env=clean_env(), check=True, capture_output=True)


def zen_run(folder: Path, length: int, cached: bool) -> Timing:
    """Wall and CPU time of one ``zen run chains.py:chainN -q`` process, checking every step ran (or was cached)."""
    command = [zen(), "run", f"chains.py:chain{length}", "-q"] + ([] if cached else ["--no-cache"])
    return run_command(command, cwd=folder, expect=f"({length} {'cached' if cached else 'completed'})")


def run() -> list[Figure]:
    """Median of ``RUNS`` fresh processes after ``WARMUPS``, the two lengths interleaved."""
    with_git = shutil.which("git") is not None
    with tempfile.TemporaryDirectory(prefix="zen-bench-chain-") as tmp:
        samples = _measure(Path(tmp), with_git)
    short, long_, hit, plain = medians(samples).values()
    per_step_ms = (long_.wall - short.wall) / (LONG - SHORT) * 1000
    per_step_cpu_ms = (long_.cpu - short.cpu) / (LONG - SHORT) * 1000
    where = "in a git repository" if with_git else "git not installed: outside git"
    print(f"fresh 'zen run chains.py:chainN -q' processes {where}, {RUNS} rounds after {WARMUPS} warm-up")
    print_timings(samples, "s")
    print(
        f"per extra step: ({long_.wall:.3f} s - {short.wall:.3f} s) / {LONG - SHORT} = {per_step_ms:.2f} ms wall, "
        f"{per_step_cpu_ms:.2f} ms CPU"
    )
    per_step = f"per extra step ({LONG}-step minus {SHORT}-step) / {LONG - SHORT}"
    cpu = "user + system, with children"
    return [
        Figure("chain", f"{SHORT}-step chain, fresh zen run --no-cache", short.wall, "s", TOTAL_TARGET_S, note=where),
        Figure("chain", per_step, per_step_ms, "ms", PER_STEP_TARGET_MS),
        Figure("chain", f"{SHORT}-step chain, fully cached re-run", hit.wall, "s", CACHED_TARGET_S, note=where),
        Figure("chain", f"{LONG}-step chain, fresh zen run --no-cache", long_.wall, "s"),
        Figure("chain", f"{SHORT}-step chain --no-cache outside git", plain.wall, "s"),
        Figure("chain", f"{SHORT}-step chain --no-cache, CPU time", short.cpu, "s", note=cpu),
        Figure("chain", f"{per_step}, CPU time", per_step_cpu_ms, "ms", note=cpu),
    ]


def _measure(tmp: Path, with_git: bool) -> dict[str, list[Timing]]:
    """Samples of: both lengths uncached (interleaved), the short one cached, the short one outside git."""
    project, bare = tmp / "project", tmp / "no-git"
    project.mkdir()
    bare.mkdir()
    make_project(project, with_git)
    make_project(bare, with_git=False)
    uncached = {f"{n} steps, --no-cache": partial(zen_run, project, n, cached=False) for n in (SHORT, LONG)}
    return {
        **interleaved(uncached, RUNS, WARMUPS),
        **interleaved({f"{SHORT} steps, all cached": partial(zen_run, project, SHORT, cached=True)}, RUNS, 1),
        **interleaved({f"{SHORT} steps, --no-cache, no git": partial(zen_run, bare, SHORT, cached=False)}, RUNS, 1),
    }
