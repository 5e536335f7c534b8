"""``orchestrators``: a CPU-bound fan-out on each orchestrator, each orchestrator's cost per step, worker start-up.

* Fan-out: ``seed`` → 8 independent ``burn`` steps → ``gather``. Each ``burn`` runs a pure-Python
  loop until its thread has used 1 s of CPU time. (An iteration count calibrated beforehand did
  not hold: this VM's speed for the same loop moves by 20 % within seconds, so "1 s" burns took
  0.86-1.25 s and the wall time swung by ±0.8 s with nothing zenml did.) Wall time of the whole ``run_pipeline(...,
  enable_cache=False)`` (compile, recording, worker pool / cluster start-up and teardown included)
  on ``local``, ``ParallelOrchestrator(workers=2)``, ``DaskOrchestrator(n_workers=2,
  threads_per_worker=1)`` (its ``LocalCluster`` start included) and ``AirflowOrchestrator``
  (``airflow dags test``; skipped with its error when it cannot run). Parallel and Dask, which have
  targets, run it three times and report the median run; local and Airflow once. The mean recorded duration
  of the ``burn`` steps is printed beside: above ~1 s, the cores were shared (other processes,
  or worker start-up competing with a step).
* Per-step cost: a chain ``seed`` → ``bump_01`` → ... → ``bump_19`` of 20 trivial steps (a chain,
  so no step's cost hides behind another's). Per step: (wall - the time recorded inside the steps,
  i.e. ``execute_step``'s started_at → ended_at) / 20, start-up included; and the hand-off, the gap
  from one step's end to the next one's start, start-up excluded.
* Worker start-up: what a worker of the parallel orchestrator pays before its first step, in a
  fresh process (interpreter, importing zenml's worker modules, opening the stores, importing the
  step module), and the time from creating a spawn ``ProcessPoolExecutor`` to its first answer.

The steps are module-level functions here: worker processes import ``benchmarks.orchestrators``
by name (this folder's parent is put on ``sys.path``, and on ``PYTHONPATH`` for Airflow's tasks).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from benchmarks.measure import clean_env, median, python
from benchmarks.report import Figure, format_value, print_table
from zenml import pipeline, step

FAN = 8
WORK_S = 1.0
CHAIN = 20
PARALLEL_TARGET_S = 4.6
DASK_TARGET_S = 5.5
FAN_ROUNDS = 3  # fan-out runs on parallel and Dask (their targets); the median run is reported
CHAIN_ROUNDS = 2  # of the 20-step chain on local, parallel and dask (Airflow: one, it takes ~25 s)
PROBE_ROUNDS = 3
SLOTS = {"local": 1, "parallel": 2, "dask": 2, "airflow": 1}  # steps each runs at once in the fan-out
PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the folder ``benchmarks`` is imported from


# -- the steps and pipelines (module level: workers import them by name) -----------------------------


def spin(seconds: float) -> int:
    """The CPU work: pure-Python additions (no I/O, holds the GIL) until this thread used ``seconds`` of CPU.

    Thread CPU time, not wall time: a burn sharing its core with another process takes longer on
    the clock, as real CPU-bound work would; not process time: a Dask worker's own threads count there.
    """
    total, deadline = 0, time.thread_time() + seconds
    while time.thread_time() < deadline:
        for value in range(10_000):
            total += value
    return total


@step
def seed(value: int = 1) -> int:
    """The cheap source of every benchmark pipeline."""
    return value


@step
def burn(x: int, seconds: float = 0.0) -> int:
    """``spin(seconds)``: the same CPU work on every orchestrator."""
    return x + spin(seconds) % 7


@step
def gather(a: int, b: int, c: int, d: int, e: int, f: int, g: int, h: int) -> int:
    """The cheap join of the fan-out."""
    return a + b + c + d + e + f + g + h


@step
def bump(x: int) -> int:
    """A trivial step (the per-step cost is everything but this)."""
    return x + 1


@pipeline
def fan_out() -> None:
    """seed → 8 x burn → gather (each burn's ``seconds`` is set per run through ``params``)."""
    value = seed()
    a, b, c, d, e, f, g, h = (burn.configure(name=f"burn_{i}")(value) for i in range(FAN))
    gather(a=a, b=b, c=c, d=d, e=e, f=f, g=g, h=h)


@pipeline
def chain20() -> None:
    """seed → bump_01 → ... → bump_19."""
    value = seed()
    for index in range(1, CHAIN):
        value = bump.configure(name=f"bump_{index:02d}")(value)


def worker_ready(recipe: Any) -> float:
    """What a parallel worker does before its first step: import the worker modules, open the stores."""
    from zenml.backends.orchestrator.worker import run_step  # noqa: F401 -- the import is the point
    from zenml.runtime.stores import open_cached

    open_cached(recipe)
    return time.time()


# In a fresh process: import what a worker imports, open the stores, import the step module.
PROBE = """
import json, sys, time
began = time.perf_counter()
import zenml.backends.orchestrator.worker
imported = time.perf_counter()
from pathlib import Path
from zenml.runtime.stores import StoresRecipe, open_cached
recipe = StoresRecipe(**json.loads(sys.argv[1]), project_root=Path(sys.argv[2]))
open_cached(recipe)
opened = time.perf_counter()
sys.path.insert(0, sys.argv[3])
import benchmarks.orchestrators
done = time.perf_counter()
print(json.dumps({"import": imported - began, "open": opened - imported, "steps": done - opened}))
"""


# -- measuring ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One timed ``run_pipeline``: wall and CPU seconds (this process and its reaped children), step records."""

    wall: float
    cpu: float
    called_at: float
    steps: dict[str, Any]  # name -> StepRunRecord

    def durations(self, prefix: str) -> list[float]:
        """Recorded durations (started_at → ended_at) of the steps whose name starts with ``prefix``."""
        return [r.duration for name, r in self.steps.items() if name.startswith(prefix) and r.duration is not None]


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_run(repo: Any, flow: Any, orchestrator: Any, params: dict[str, dict[str, Any]] | None = None) -> Measured:
    """Run ``flow`` uncached on ``orchestrator`` and time it; check every step completed."""
    from zenml.engine import run_pipeline

    cpu, called_at, started = _cpu(), time.time(), time.perf_counter()
    run = run_pipeline(flow, orchestrator=orchestrator, repository=repo, enable_cache=False, params=params)
    wall, cpu = time.perf_counter() - started, _cpu() - cpu
    records = {record.name: record for record in repo.stores().metadata.step_runs(run.id)}
    statuses = {record.status for record in records.values()}
    if run.status != "completed" or statuses != {"completed"} or len(records) != len(flow.order()):
        raise RuntimeError(f"run {run.id} ended {run.status} with steps {statuses}")
    return Measured(wall, cpu, called_at, records)


def orchestrators(root: Path) -> dict[str, Callable[[], Any]]:
    """Factories of the orchestrators compared (an error in one is reported when it is used)."""

    def parallel() -> Any:
        from zenml.backends.orchestrator.parallel import ParallelOrchestrator

        return ParallelOrchestrator(workers=2)

    def dask() -> Any:
        from zenml.backends.orchestrator.dask import DaskOrchestrator

        return DaskOrchestrator(n_workers=2, threads_per_worker=1)

    def airflow() -> Any:
        from zenml.backends.orchestrator.airflow import AirflowOrchestrator

        return AirflowOrchestrator(airflow_home=str(root / "airflow"))

    return {"local": lambda: "local", "parallel": parallel, "dask": dask, "airflow": airflow}


def prepare_airflow(root: Path) -> float | None:
    """Run Airflow's one-time ``db migrate`` for the scratch home now, so no timed run pays it; its seconds."""
    from zenml.backends.orchestrator import airflow

    home = root / "airflow"
    began = time.perf_counter()
    airflow.require_airflow()
    airflow.ensure_airflow_db(home, airflow.airflow_env(home, home / "dags"), root)
    return time.perf_counter() - began


def _error(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = text.splitlines()
    more = f" (+{len(lines) - 1} lines)" if len(lines) > 1 else ""
    return f"{type(exc).__name__}: {lines[0] if lines else ''}{more}"


@contextmanager
def scratch_repository() -> Iterator[tuple[Path, Any]]:
    """A fresh repository in a temporary folder, the working directory while it is used.

    ``ZEN_*`` settings are left out (they would change the stack measured) and this folder's parent
    is put on ``sys.path`` and ``PYTHONPATH`` (Airflow's tasks import the steps by name).
    """
    from zenml.repository import Repository, close_stores

    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    with tempfile.TemporaryDirectory(prefix="zen-bench-orchestrators-") as tmp:
        root = Path(tmp).resolve()
        try:
            os.environ.clear()
            os.environ.update(clean_env())
            os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), saved_env.get("PYTHONPATH")]))
            os.chdir(root)
            yield root, Repository.init(root)
        finally:
            close_stores()
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)


# -- the parts ---------------------------------------------------------------------------------------


def measure_worker_start(root: Path, repo: Any) -> list[Figure]:
    """Fresh-process breakdown of a worker's start, and a spawn pool's first answer."""
    recipe = repo.stores().recipe
    fields = {
        "metadata_url": recipe.metadata_url,
        "artifact_uri": recipe.artifact_uri,
        "artifact_options": recipe.artifact_options,
    }
    command = [python(), "-c", PROBE, json.dumps(fields), str(root), str(PROJECT_ROOT)]
    phases: dict[str, list[float]] = {"import": [], "open": [], "steps": [], "process": []}
    for _ in range(PROBE_ROUNDS):
        began = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=True, env=clean_env())
        phases["process"].append(time.perf_counter() - began)
        for name, seconds in json.loads(done.stdout.strip().splitlines()[-1]).items():
            phases[name].append(seconds)
    pool_ready = []
    for _ in range(PROBE_ROUNDS):
        began_wall, began = time.time(), time.perf_counter()
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            ready_at = pool.submit(worker_ready, recipe).result()
            pool_ready.append((ready_at - began_wall, time.perf_counter() - began))
    ms = {name: median(values) * 1000 for name, values in phases.items()}
    ready_ms = median([first for first, _ in pool_ready]) * 1000
    answer_ms = median([answer for _, answer in pool_ready]) * 1000
    print(f"worker start-up, median of {PROBE_ROUNDS} fresh processes ({python()}):")
    print_table(
        ["phase", "ms"],
        [
            ["import zenml.backends.orchestrator.worker (SQLAlchemy, pydantic, ...)", f"{ms['import']:.0f}"],
            ["open the stores (SQLite engine, schema check)", f"{ms['open']:.0f}"],
            ["import benchmarks.orchestrators (the steps)", f"{ms['steps']:.0f}"],
            ["whole process (python start-up and exit included)", f"{ms['process']:.0f}"],
            ["spawn ProcessPoolExecutor(1) → worker has imported and opened stores", f"{ready_ms:.0f}"],
            ["  ... → its answer is back in the parent", f"{answer_ms:.0f}"],
        ],
    )
    return [
        Figure("orchestrators", "worker start: import zenml's worker modules", ms["import"], "ms"),
        Figure("orchestrators", "worker start: open the stores", ms["open"], "ms"),
        Figure("orchestrators", "worker start: spawned pool worker ready (import + stores)", ready_ms, "ms"),
    ]


@dataclass(frozen=True)
class FanResult:
    name: str
    target: float | None
    measured: Measured | None
    error: str = ""


def measure_fan_out(repo: Any, factories: dict[str, Callable[[], Any]]) -> list[Figure]:
    """The fan-out on every orchestrator (Airflow last: it is the slowest)."""
    targets = {"local": None, "parallel": PARALLEL_TARGET_S, "dask": DASK_TARGET_S, "airflow": None}
    params = {f"burn_{i}": {"seconds": WORK_S} for i in range(FAN)}
    results = []
    for name, factory in factories.items():
        rounds = FAN_ROUNDS if targets[name] is not None else 1
        try:
            measured = [timed_run(repo, fan_out, factory(), params) for _ in range(rounds)]
        except Exception as exc:  # report it and measure the others
            print(f"{name}: FAILED: {_error(exc)}")
            results.append(FanResult(name, targets[name], None, _error(exc)))
            continue
        typical = sorted(measured, key=lambda m: m.wall)[len(measured) // 2]
        results.append(FanResult(name, targets[name], typical))
        print(f"  {name}: {', '.join(f'{m.wall:.2f} s' for m in measured)} (median run kept)", flush=True)
    rows, figures = [], []
    for result in results:
        label = f"fan-out 1 + {FAN} x {WORK_S:g} s CPU + 1, {result.name}"
        m = result.measured
        if m is None:
            rows.append([result.name, "failed", _target_text(result.target), "-", "", "", "", "", result.error[:80]])
            figures.append(Figure("orchestrators", label, None, "s", result.target, note=result.error))
            continue
        burns = m.durations("burn_")
        first_step = m.steps["seed"].started_at - m.called_at
        verdict = "-" if result.target is None else ("PASS" if m.wall <= result.target else "MISS")
        beyond = m.wall - sum(burns) / SLOTS[result.name]
        rows.append([
            result.name, f"{m.wall:.2f} s", _target_text(result.target), verdict, f"{m.cpu:.2f} s",
            f"{sum(burns) / len(burns):.2f} s", f"{beyond:.2f} s", f"{first_step:.2f} s", _note(result.name, m),
        ])  # fmt: skip
        figures.append(
            Figure(
                "orchestrators",
                label,
                m.wall,
                "s",
                result.target,
                note=f"mean burn step {sum(burns) / len(burns):.2f} s",
            )
        )
        figures.append(
            Figure(
                "orchestrators",
                f"fan-out, {result.name}: wall - Σburn / {SLOTS[result.name]}",
                beyond,
                "s",
                note="time beyond the work itself",
            )
        )
    print(
        f"fan-out: seed → {FAN} x burn (a pure-Python loop until its thread used {WORK_S:g} s of CPU) → gather, "
        f"uncached run_pipeline, the median of {FAN_ROUNDS} (parallel, Dask) or one run "
        "(2 cores: the ideal with 2 workers is 4 s)"
    )
    print_table(
        [
            "orchestrator",
            "wall",
            "target",
            "",
            "cpu (all procs)",
            "mean burn",
            "wall - Σburn / slots",
            "call → seed starts",
            "notes",
        ],
        rows,
    )
    print(
        "wall - Σburn / slots: the time beyond the work itself, spread over the steps that can run at once "
        "(2 workers; 1 for local and Airflow's 'dags test', which runs tasks one at a time)"
    )
    return figures


def _target_text(target: float | None) -> str:
    return "" if target is None else f"≤ {format_value(target, 's')}"


def _note(name: str, m: Measured) -> str:
    """Where a fan-out run's time went beyond the work: the late start of the second worker, etc."""
    seed_end = m.steps["seed"].ended_at
    starts = sorted(m.steps[f"burn_{i}"].started_at - seed_end for i in range(FAN))
    if name in ("parallel", "dask"):
        return f"2nd burn started {starts[1]:.2f} s after seed ended (1st: {starts[0]:.2f} s)"
    tail = m.called_at + m.wall - m.steps["gather"].ended_at
    return f"after gather ended: {tail:.2f} s"


def measure_chain(repo: Any, factories: dict[str, Callable[[], Any]]) -> list[Figure]:
    """The 20-step chain: ``CHAIN_ROUNDS`` interleaved rounds on local/parallel/dask, one on Airflow."""
    samples: dict[str, list[Measured]] = {name: [] for name in factories}
    errors: dict[str, str] = {}
    for round_ in range(CHAIN_ROUNDS):
        for name, factory in factories.items():
            if name in errors or (name == "airflow" and round_ > 0):
                continue
            try:
                samples[name].append(timed_run(repo, chain20, factory()))
            except Exception as exc:  # report it and measure the others
                errors[name] = _error(exc)
                print(f"{name}: FAILED: {errors[name]}")
    rows, figures = [], []
    for name, measured in samples.items():
        label = f"{CHAIN}-step chain, {name}: (wall - time in steps) / {CHAIN}"
        if not measured:
            rows.append([name, "failed", "", "", "", "", errors.get(name, "")[:80]])
            figures.append(Figure("orchestrators", label, None, "ms", note=errors.get(name, "")))
            continue
        wall = median([m.wall for m in measured])
        inside = median([sum(m.durations("")) for m in measured])
        per_step = median([(m.wall - sum(m.durations(""))) / CHAIN for m in measured])
        handoff = median([_handoff(m) for m in measured])
        fixed = median([m.wall - sum(m.durations("")) - (CHAIN - 1) * _handoff(m) for m in measured])
        rows.append([
            name, f"{wall:.3f} s", f"{inside / CHAIN * 1000:.1f} ms", f"{per_step * 1000:.1f} ms",
            f"{handoff * 1000:.1f} ms", f"{fixed:.3f} s", f"{len(measured)} run(s), median",
        ])  # fmt: skip
        figures.append(Figure("orchestrators", label, per_step * 1000, "ms"))
        figures.append(
            Figure(
                "orchestrators",
                f"{CHAIN}-step chain, {name}: hand-off between steps",
                handoff * 1000,
                "ms",
                note="next step's start - previous step's end",
            )
        )
    print(f"per-step cost: a chain of {CHAIN} trivial steps (seed → bump_01 → ... → bump_{CHAIN - 1}), uncached")
    print_table(
        [
            "orchestrator",
            "wall",
            "in each step",
            "per step (wall - in steps) / 20",
            "hand-off",
            "fixed (start, compile, record, stop)",
            "",
        ],
        rows,
    )
    return figures


def _handoff(m: Measured) -> float:
    """Mean gap between a step's end and the next step's start in a chain."""
    ordered = sorted(m.steps.values(), key=lambda record: record.started_at)
    gaps = [after.started_at - before.ended_at for before, after in pairwise(ordered)]
    return float(sum(gaps) / len(gaps))


def run() -> list[Figure]:
    """Worker start-up, the fan-out and the chain, in one scratch repository."""
    figures: list[Figure] = []
    with scratch_repository() as (root, repo):
        factories = orchestrators(root)
        try:
            import zenml.backends.orchestrator.airflow  # noqa: F401 -- the airflow extra may be missing
        except Exception as exc:  # Airflow is optional here: report why and measure the others
            print(f"airflow: skipped, zenml.backends.orchestrator.airflow does not import: {_error(exc)}")
            figures.append(Figure("orchestrators", "AirflowOrchestrator", None, "s", note=_error(exc)))
            del factories["airflow"]
        else:
            try:
                migrate = prepare_airflow(root)
                print(f"airflow: one-time 'airflow db migrate' of the scratch AIRFLOW_HOME: {migrate:.1f} s (untimed)")
            except Exception as exc:  # the runs below then report their own error (or include the migration)
                print(f"airflow: could not migrate its database ahead of the runs: {_error(exc)}")
        figures += measure_worker_start(root, repo)
        print()
        figures += measure_fan_out(repo, factories)
        print()
        figures += measure_chain(repo, factories)
    return figures
