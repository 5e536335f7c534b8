"""Crash safety: SIGKILL a run's orchestrating process, or one of its step workers, at seeded random points.

Each trial starts ``zen run`` on a six-step pipeline (a fan-out and a fan-in; every step writes a
marker as it starts, sleeps briefly and writes a NumPy or JSON artifact) and kills it either a
random time after launch or a random time after a chosen step has started. Then:

1. ``zenml.history.integrity.check`` finds no missing, corrupt or partial artifact and no bad spec: every
   recorded artifact is intact and no half-written one is visible. Only a stuck run and garbage
   (unrecorded or unpublished leftovers of the killed writer) may be reported.
2. ``zen runs resume RUN --no-cache`` completes the run without redoing its finished steps, and
   every output's content hash equals that of an uninterrupted run.
3. ``zen doctor --fix --min-age 0`` exits 0 (it marks a stuck run crashed and deletes the
   garbage), after which the check finds nothing at all. Half the trials (seeded) repair before
   the resume, half after it: a resume needs no repair first (it reaps a stuck run itself).

Killing the orchestrating process kills its whole process group right after it: the parallel
orchestrator's pool workers outlive their orchestrator (they finish their current step, then wait
forever), so leaving them would race the resume; a stopped container or a lost machine kills
them too. Killing a worker leaves the orchestrator alive: it records the worker's step failed
(``WorkerDied``) and fails the run once the running steps end, on parallel and Dask alike.

``zen`` commands run in processes forked from a launcher that has already imported zenml (the
console script's own entry point, ``zenml.cli.app.main``), which keeps a trial to about a second
of overhead instead of paying Python's start-up and imports each time. Linux only (``/proc``,
process groups).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from zenml.history import integrity as doctor
from zenml.repository import Repository, close_stores

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and process groups"),
    pytest.mark.timeout(240),
]

FLOW = '''
"""Six steps, each writing a marker as it starts (the kill schedule waits for one), then sleeping."""

import os
import time
from pathlib import Path

import numpy as np

from zenml import pipeline, step


def _started(name: str) -> None:
    if "CRASH_MARKS" in os.environ:  # resumes run without markers
        Path(os.environ["CRASH_MARKS"], f"{name}.{os.getpid()}.{time.monotonic_ns()}").touch()
    time.sleep(0.1)


@step
def source() -> np.ndarray:
    _started("source")
    return np.arange(20_000, dtype=np.int64)


@step
def left(x: np.ndarray) -> np.ndarray:
    _started("left")
    return x * 3


@step
def right(x: np.ndarray) -> np.ndarray:
    _started("right")
    return x % 7


@step
def joined(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    _started("joined")
    return a + b


@step
def summary(x: np.ndarray) -> dict[str, float]:
    _started("summary")
    return {"sum": float(x.sum()), "max": float(x.max())}


@step
def report(stats: dict[str, float], x: np.ndarray) -> str:
    _started("report")
    return f"{len(x)} rows, sum {stats['sum']:.0f}"


@pipeline
def crashflow() -> None:
    data = source()
    combined = joined(left(data), right(data))
    report(summary(combined), combined)
'''
STEPS = ("source", "left", "right", "joined", "summary", "report")

LAUNCHER = '''
"""Fork-server for ``zen`` commands: one JSON request per stdin line, one JSON reply per event."""

import json
import os
import sys

import numpy  # noqa: F401 -- imported once here rather than in every forked command
import zenml.backends.orchestrator.parallel  # noqa: F401
import zenml.cli.doctor  # noqa: F401
import zenml.cli.run  # noqa: F401
import zenml.cli.runs  # noqa: F401
import zenml.cli.step  # noqa: F401
import zenml.engine  # noqa: F401
from zenml.cli.app import main

try:
    import dask.distributed  # noqa: F401 -- spares each Dask run ~2 s of imports; no threads start at import
except ImportError:
    pass  # without Dask the Dask trials are skipped


def serve() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            os.setsid()  # the command and every process it starts form one group, killed together
            with open(request["log"], "ab") as log, open(os.devnull, "rb") as nothing:
                os.dup2(nothing.fileno(), 0)
                os.dup2(log.fileno(), 1)
                os.dup2(log.fileno(), 2)
            os.chdir(request["cwd"])
            os.environ.update(request["env"])
            code = main(request["argv"])
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        print(json.dumps({"pid": pid}), flush=True)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"status": os.waitstatus_to_exitcode(status)}), flush=True)


if __name__ == "__main__":  # spawned workers re-import this module as __mp_main__
    serve()
'''

#: trials of the default suite per orchestrator (50 in all); the slow variant adds 40 more seeds (.ci/run runs it)
TRIALS = {"local": 32, "parallel": 12, "dask": 6}
SLOW_TRIALS = {"local": 30, "parallel": 6, "dask": 4}
#: the orchestrator options of each trial run (two workers: steps do run side by side)
ORCHESTRATOR_OPTIONS = {
    "local": [],
    "parallel": ["--backend-opt", "orchestrator.workers=2"],
    "dask": ["--backend-opt", "orchestrator.n_workers=2"],
}
HANG_GUARD_S = 120.0  # not a timing assertion: only turns a hang into a clear failure


class Launcher:
    """The fork-server process and the requests sent to it, one command at a time."""

    def __init__(self, project: Path) -> None:
        script = project / "zen_launcher.py"
        script.write_text(LAUNCHER)
        env = {name: value for name, value in os.environ.items() if not name.startswith("ZEN_")}
        self.process = subprocess.Popen(
            [sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        self.project = project
        self.count = 0

    def start(self, argv: list[str], env: dict[str, str] | None = None) -> tuple[int, Path]:
        """Fork a process running ``zen ARGV``; return its pid (also its process group) and its log."""
        self.count += 1
        log = self.project / "logs" / f"{self.count:04d}-{argv[0]}.log"
        log.parent.mkdir(exist_ok=True)
        request = {"argv": argv, "cwd": str(self.project), "env": env or {}, "log": str(log)}
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return int(self._reply()["pid"]), log

    def wait(self) -> int:
        """The exit code of the last started command, once it has exited (negative: killed by that signal)."""
        return int(self._reply()["status"])

    def run(self, argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
        """Run ``zen ARGV`` to the end; return its exit code and output."""
        _pid, log = self.start(argv, env)
        return self.wait(), log.read_text()

    def _reply(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, f"the launcher died (exit code {self.process.poll()})"
        reply: dict[str, Any] = json.loads(line)
        return reply

    def close(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()  # the launcher's loop ends at the end of its input
        self.process.wait(timeout=60)
        self.process.stdout.close()


@dataclass
class Lab:
    """The project every trial runs in, its launcher, and the outputs of an uninterrupted run."""

    project: Path
    launcher: Launcher
    reference: dict[tuple[str, str], str] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)

    def stores(self) -> Any:
        return Repository(self.project).stores()  # opened once per process, then reused

    def outputs(self, run_id: str) -> dict[tuple[str, str], str]:
        return {key: record.content_hash for key, record in self.stores().metadata.run_outputs(run_id).items()}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    project = tmp_path_factory.mktemp("crash")
    (project / "crashflow.py").write_text(FLOW)
    Repository.init(project)
    launcher = Launcher(project)
    lab = Lab(project, launcher)
    marks = project / "marks-reference"
    marks.mkdir()
    code, output = launcher.run(["run", "crashflow.py:crashflow", "--no-cache", "-q"], {"CRASH_MARKS": str(marks)})
    assert code == 0, output
    [run] = lab.stores().metadata.runs()
    lab.reference = lab.outputs(run.id)
    assert len(lab.reference) == len(STEPS)
    yield lab
    launcher.close()
    close_stores()


@dataclass(frozen=True)
class KillPlan:
    """Where one trial kills: the target process and when (after a step's marker, or after launch)."""

    orchestrator: str
    target: str  # "orchestrator" or "worker"
    step: str | None  # None: a delay after launch
    delay: float
    doctor_first: bool  # `zen doctor --fix` before the resume; else after it (the resume reaps the run itself)

    @classmethod
    def draw(cls, orchestrator: str, seed: int) -> KillPlan:
        rng = random.Random(f"crash-{orchestrator}-{seed}")
        target = "worker" if orchestrator != "local" and seed % 2 else "orchestrator"
        doctor_first = rng.random() < 0.5
        if target == "orchestrator" and rng.random() < 0.3:
            delay = rng.uniform(0.05, 2.0 if orchestrator == "local" else 4.0)
            return cls(orchestrator, target, None, delay, doctor_first)
        return cls(orchestrator, target, rng.choice(STEPS), rng.uniform(0.0, 0.15), doctor_first)


def _trials(counts: dict[str, int], first_seed: int) -> list[Any]:
    return [
        pytest.param(
            orchestrator, seed, id=f"{orchestrator}-{seed}", marks=pytest.mark.dask if orchestrator == "dask" else ()
        )
        for orchestrator, count in counts.items()
        for seed in range(first_seed, first_seed + count)
    ]


def _wait_for_marker(marks: Path, step: str, launched: int) -> int | None:
    """The pid that started ``step`` (``None``: the command exited first)."""
    deadline = time.monotonic() + HANG_GUARD_S
    while time.monotonic() < deadline:
        found = sorted(marks.glob(f"{step}.*"))
        if found:
            return int(found[0].name.split(".")[1])
        if not _alive(launched):
            return None
        time.sleep(0.01)
    raise AssertionError(f"step '{step}' never started (see the logs in {marks.parent / 'logs'})")


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, killed but not yet collected, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _group_members(group: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue  # it exited while being listed
            if int(fields[2]) == group and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def _kill_group(group: int) -> None:
    """SIGKILL what is left of a command's process group and wait until none of it runs."""
    deadline = time.monotonic() + HANG_GUARD_S
    while members := _group_members(group):
        for pid in members:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue  # exited meanwhile
        assert time.monotonic() < deadline, f"processes {members} of group {group} survive SIGKILL"
        time.sleep(0.02)


def _execute(lab: Lab, plan: KillPlan, marks: Path) -> dict[str, Any]:
    """Start the run, kill as planned; return what happened."""
    argv = ["run", "crashflow.py:crashflow", "--orchestrator", plan.orchestrator, "--no-cache", "-q"]
    pid, _log = lab.launcher.start(argv + ORCHESTRATOR_OPTIONS[plan.orchestrator], {"CRASH_MARKS": str(marks)})
    killed = None
    if plan.step is None:
        time.sleep(plan.delay)
        killed = pid
    else:
        starter = _wait_for_marker(marks, plan.step, pid)
        if starter is not None:
            time.sleep(plan.delay)
            killed = pid if plan.target == "orchestrator" else starter
    if killed is not None and _alive(killed):
        os.kill(killed, signal.SIGKILL)  # only the launcher collects it, so it cannot be gone before that
    else:
        killed = None  # it had already finished
    if plan.target == "orchestrator":
        _kill_group(pid)
    code = lab.launcher.wait()
    _kill_group(pid)
    return {"killed": killed is not None, "exit": code}


def _state_at_kill(lab: Lab, run_id: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    steps = lab.stores().metadata.step_runs(run_id)
    done = tuple(sorted(s.name for s in steps if s.status == "completed"))
    return done, tuple(sorted(s.name for s in steps if s.status == "running"))


def _check_after_kill(lab: Lab) -> set[str]:
    report = doctor.check(lab.stores(), min_age=0.0)
    unexpected = [f for f in report.findings if f.kind not in ("stuck_run", *doctor.GARBAGE_KINDS)]
    assert unexpected == [], f"after the kill the stores hold damaged data: {unexpected}"
    return {finding.kind for finding in report.findings}


def _repair(lab: Lab) -> None:
    code, output = lab.launcher.run(["doctor", "--fix", "--min-age", "0"])
    assert code == 0, output
    leftover = doctor.check(lab.stores(), min_age=0.0)
    assert leftover.findings == (), leftover.findings


def _resume(lab: Lab, run_id: str) -> None:
    """Resume the run; steps finished before the kill are kept as they were."""
    before = {s.name: (s.id, s.started_at) for s in lab.stores().metadata.step_runs(run_id) if s.status == "completed"}
    code, output = lab.launcher.run(["runs", "resume", run_id, "--no-cache", "-q"])
    assert code == 0, output
    after = {s.name: (s.id, s.started_at, s.status) for s in lab.stores().metadata.step_runs(run_id)}
    assert {name: after[name][:2] for name in before} == before, "a step finished before the kill was redone"
    assert {status for _id, _started, status in after.values()} == {"completed"}


def _trial(lab: Lab, orchestrator: str, seed: int) -> None:
    if orchestrator == "dask":
        pytest.importorskip("dask.distributed")
    plan = KillPlan.draw(orchestrator, seed)
    marks = lab.project / f"marks-{orchestrator}-{seed}"
    marks.mkdir()
    known = {record.id for record in lab.stores().metadata.runs()}
    outcome = _execute(lab, plan, marks)
    new_runs = [record for record in lab.stores().metadata.runs() if record.id not in known]
    assert len(new_runs) <= 1, new_runs
    run_id = new_runs[0].id if new_runs else None
    state = _state_at_kill(lab, run_id) if run_id else ((), ())
    status = lab.stores().metadata.get_run(run_id).status if run_id else "not recorded"
    found = _check_after_kill(lab)
    if plan.doctor_first:
        _repair(lab)
    if run_id is not None and lab.stores().metadata.get_run(run_id).status != "completed":
        _resume(lab, run_id)
    if not plan.doctor_first:
        _repair(lab)
    if run_id is not None:
        assert lab.outputs(run_id) == lab.reference, f"run {run_id} computed something else than an uninterrupted run"
    assert doctor.check(lab.stores(), min_age=0.0).findings == ()
    lab.results.append(
        {**vars(plan), "seed": seed, **outcome, "run": run_id, "status": status, "state": state, "found": found}
    )


@pytest.mark.parametrize(("orchestrator", "seed"), _trials(TRIALS, 0))
def test_killed_run_recovers(lab: Lab, orchestrator: str, seed: int) -> None:
    _trial(lab, orchestrator, seed)


@pytest.mark.slow
@pytest.mark.parametrize(("orchestrator", "seed"), _trials(SLOW_TRIALS, 1000))
def test_killed_run_recovers_more_seeds(lab: Lab, orchestrator: str, seed: int) -> None:
    _trial(lab, orchestrator, seed)


def test_kills_covered_every_orchestrator_target_and_phase(lab: Lab) -> None:
    """Over the trials that ran: each orchestrator and target was killed, at several distinct run states."""
    results = [r for r in lab.results if r["seed"] < 1000]
    if len(results) < sum(TRIALS.values()):
        pytest.skip(f"only {len(results)} of the {sum(TRIALS.values())} default trials ran (a -k selection)")
    kills = Counter((r["orchestrator"], r["target"]) for r in lab.results if r["killed"])
    states = Counter(r["state"] for r in lab.results if r["killed"])
    print(_figures(lab.results, kills, states))
    for orchestrator in TRIALS:
        assert kills[(orchestrator, "orchestrator")] >= 1, kills
        if orchestrator != "local":
            assert kills[(orchestrator, "worker")] >= 1, kills
    assert len(states) >= 3, states
    assert any(r["status"] == "running" and "stuck_run" in r["found"] for r in lab.results)  # a stuck run was met


def _figures(results: list[dict[str, Any]], kills: Counter[Any], states: Counter[Any]) -> str:
    found = Counter(kind for r in results for kind in r["found"])
    statuses = Counter(r["status"] for r in results)
    lines = [
        f"crash-safety trials: {len(results)}, all recovered",
        f"kills by (orchestrator, target): {dict(sorted(kills.items()))}",
        f"distinct run states at the kill (completed, running steps): {len(states)}",
        f"run status right after the kill ('running': stuck): {dict(statuses)}",
        f"doctor findings after kills: {dict(found)}",
    ]
    return "\n".join(lines)
