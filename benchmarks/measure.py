"""Timing helpers: fresh processes timed with ``perf_counter``, medians, a clean environment."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple, TypeVar


class BenchmarkError(RuntimeError):
    """A benchmark could not measure what it set out to (a command failed or printed the wrong thing)."""


T = TypeVar("T")


class Timing(NamedTuple):
    """One timed process: wall-clock seconds, and the CPU seconds (user + system) it and its children used.

    CPU time hardly moves when other processes compete for the cores; wall time does. When the two
    diverge between runs, the machine was busy.
    """

    wall: float
    cpu: float


def median(samples: Sequence[float]) -> float:
    """The median of the samples."""
    return statistics.median(samples)


def medians(samples: dict[str, list[Timing]]) -> dict[str, Timing]:
    """Each name's median wall time and (separately) median CPU time."""
    return {
        name: Timing(median([t.wall for t in timings]), median([t.cpu for t in timings]))
        for name, timings in samples.items()
    }


def python() -> str:
    """The interpreter running the benchmarks (the project's venv when run as documented)."""
    return sys.executable


def zen() -> str:
    """The ``zen`` console script installed next to this interpreter.

    Raises:
        BenchmarkError: there is none (zenml is not installed in this environment).
    """
    script = Path(sys.executable).with_name("zen")
    if not script.is_file():
        raise BenchmarkError(f"no 'zen' script next to {sys.executable}; install zenml there (pip install -e .)")
    return str(script)


#: variables that would time something other than what a user runs: ``PYTHONDONTWRITEBYTECODE``
#: (set on some CI and sandbox machines) makes every process compile each module edited since its
#: ``.pyc`` was written, which adds tens of milliseconds to a ``zen run``
_UNREPRESENTATIVE = ("PYTHONDONTWRITEBYTECODE",)


def clean_env() -> dict[str, str]:
    """This environment without the developer's ``ZEN_*`` settings (they change the stack) or bytecode opt-outs."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("ZEN_") and name not in _UNREPRESENTATIVE
    }


def run_command(command: Sequence[str], cwd: Path | None = None, expect: str | None = None) -> Timing:
    """Run ``command`` as a fresh process and return its wall and CPU time in seconds.

    Raises:
        BenchmarkError: it exited non-zero, or its output lacks ``expect``.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(list(command), cwd=cwd, env=clean_env(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    output = done.stdout + done.stderr
    if done.returncode != 0 or (expect is not None and expect not in output):
        why = f"exited {done.returncode}" if done.returncode != 0 else f"did not print {expect!r}"
        raise BenchmarkError(f"{' '.join(command)} {why}:\n{output.strip()[-2000:]}")
    return Timing(elapsed, cpu)


def interleaved(commands: dict[str, Callable[[], T]], runs: int, warmups: int) -> dict[str, list[T]]:
    """Time each callable ``warmups + runs`` times, round-robin so drift affects all alike.

    Returns each name's ``runs`` timed samples (warm-up rounds are dropped).
    """
    samples: dict[str, list[T]] = {name: [] for name in commands}
    for round_ in range(warmups + runs):
        for name, command in commands.items():
            sample = command()
            if round_ >= warmups:
                samples[name].append(sample)
    return samples


HOST_LOOP = 3_000_000


def host_speed() -> float:
    """Seconds this process takes for a pure-Python loop of 10 M additions (3 M, timed 3 times, scaled).

    The VMs these figures come from differ by up to 2x between sessions (``zen --help`` took 80 ms
    on one, 125-170 ms on another) and drift by 20-40 % within minutes; printing this beside each
    benchmark says how fast the host was when it ran.
    """
    samples = []
    for _ in range(3):
        began = time.perf_counter()
        total = 0
        for number in range(HOST_LOOP):
            total += number
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 10_000_000 / HOST_LOOP


def background_load(seconds: float = 1.0) -> float | None:
    """How many cores other processes kept busy during ``seconds`` while this one slept (Linux only).

    Other work on the cores inflates wall times (CPU times much less), so each benchmark reports it.
    """
    first = _cpu_ticks()
    if first is None:
        return None
    time.sleep(seconds)
    second = _cpu_ticks()
    if second is None:
        return None
    busy, total = second[0] - first[0], second[1] - first[1]
    return busy / total * (os.cpu_count() or 1) if total else 0.0


def _cpu_ticks() -> tuple[int, int] | None:
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user time
    return total - idle, total
