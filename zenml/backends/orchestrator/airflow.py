"""``AirflowOrchestrator``: a run as an Airflow 3 DAG of ``zen step exec`` tasks, run now or on a schedule."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import importlib.util
import math
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from zenml.backends.base import require_module
from zenml.backends.orchestrator.base import BaseOrchestrator
from zenml.backends.orchestrator.worker import recipe_of
from zenml.exceptions import BackendError, ConfigError, MetadataStoreError, StepError
from zenml.metadata.records import StepRunRecord
from zenml.pipelines.spec import RunSpec
from zenml.runtime.events import RunListener, StepOutcome
from zenml.runtime.stores import Stores
from zenml.steps.options import RuntimeSpec
from zenml.utils.names import ZEN_DIR

#: characters Airflow accepts in DAG and task ids (``airflow.utils.helpers.KEY_REGEX``), and its length limit
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_.-]")
MAX_ID_LENGTH = 250
POLL_SECONDS = 0.3
#: Airflow's ``execution_timeout`` is a backstop behind zenml's own timeout, which records ``timed_out``
TIMEOUT_GRACE_SECONDS = 30.0
OUTPUT_TAIL_LINES = 20
MIGRATE_TIMEOUT_SECONDS = 600.0
BEGIN_TASK = "zenml_begin"
END_TASK = "zenml_end"
_PRESETS = frozenset({"@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly"})
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,?#LW-]+$")
#: what explains a failed ``airflow dags test`` in its log: the DAG file's import error, or an error
#: the ``zen`` CLI printed inside a task (``... ] Error: <message> [airflow.task...``)
_EXPLANATIONS = (
    re.compile(r"\[error\s*\]\s+(Error loading DAG from .+?)\s+\[airflow\."),
    re.compile(r"\]\s+Error: (.+?)\s+\[airflow\.task"),
)
FINISHED = frozenset({"completed", "cached", "failed", "timed_out"})
FAILED = frozenset({"failed", "timed_out"})


class AirflowOrchestrator(BaseOrchestrator):
    """Compiles the run into an Airflow 3 DAG (one ``BashOperator`` per step) and lets Airflow run it.

    Each task runs ``python -m zenml step exec SPEC STEP --single-attempt`` in the project folder:
    Airflow owns the dependencies, the retries (``retries``/``retry_delay``/backoff of each step)
    and a backstop ``execution_timeout``; zenml records every step as any orchestrator does.

    Args:
        dags_folder: where DAG files are written (default ``<airflow_home>/dags``; relative paths
            resolve against the project root).
        schedule: ``None`` runs the spec now through ``airflow dags test`` (no scheduler or
            webserver needed); a preset (``@daily``) or cron expression instead deploys a DAG in
            which every Airflow run becomes a new zenml run of the spec.
        airflow_home: Airflow's home (its config and SQLite DB; default ``$AIRFLOW_HOME``, else
            ``<project>/.zen/airflow``).
        pool: the Airflow pool steps run in; a step's ``cpu`` request takes that many pool slots.
        dags_test_timeout: seconds one ``airflow dags test`` may take before it is stopped.

    A run now goes through ``airflow dags test`` (SQLite, no scheduler): it runs the tasks one at
    a time in its own process tree, honours retries (it re-checks for due retries every second)
    and ``execution_timeout``, but consults no pool. Failure policy ``stop`` is a pre-execute check
    in each task that skips it once a task of the DAG run failed; ``continue`` is Airflow's default
    trigger rule (only steps downstream of a failure are left out).

    A scheduled deployment needs Airflow workers that can run ``python -m zenml`` (the Python
    written into the DAG, with this project's dependencies) at the same project path, reaching
    the same stores (the same ``ZEN_*`` settings); across machines, a shared metadata DB
    (MySQL/PostgreSQL), a shared artifact store (S3/GCS) and a DAGs folder the scheduler reads.
    Airflow creates new DAGs paused: ``airflow dags unpause zenml_<pipeline>`` starts the schedule.
    """

    supported_resources: ClassVar[frozenset[str]] = frozenset({"cpu"})

    def __init__(
        self,
        dags_folder: str | None = None,
        schedule: str | None = None,
        airflow_home: str | None = None,
        pool: str = "default_pool",
        dags_test_timeout: float = 900.0,
    ) -> None:
        if dags_folder is not None and not dags_folder.strip():
            raise ConfigError("AirflowOrchestrator dags_folder is empty; pass a folder path or leave it unset")
        if airflow_home is not None and not airflow_home.strip():
            raise ConfigError("AirflowOrchestrator airflow_home is empty; pass a folder path or leave it unset")
        if schedule is not None:
            check_schedule(schedule)
        if not pool.strip() or len(pool) > 256:
            raise ConfigError(f"AirflowOrchestrator pool {pool!r} is invalid; pass an Airflow pool name (1-256 chars)")
        if not dags_test_timeout > 0:
            raise ConfigError(f"AirflowOrchestrator needs dags_test_timeout > 0 seconds, got {dags_test_timeout}")
        self.dags_folder = dags_folder
        self.schedule = schedule
        self.airflow_home = airflow_home
        self.pool = pool
        self.dags_test_timeout = dags_test_timeout

    def check_available(self) -> None:
        """Airflow must be installed (checked when the run is compiled)."""
        require_module("airflow", "AirflowOrchestrator", "airflow")

    def home_path(self, project_root: Path) -> Path:
        """Airflow's home for runs of this project."""
        chosen = self.airflow_home or os.environ.get("AIRFLOW_HOME")
        return _resolve(chosen, project_root) if chosen else project_root / ZEN_DIR / "airflow"

    def dags_path(self, project_root: Path) -> Path:
        """The folder DAG files are written to."""
        if self.dags_folder:
            return _resolve(self.dags_folder, project_root)
        return self.home_path(project_root) / "dags"

    def preflight(self, stores: Stores) -> None:
        """Refuse in-memory stores, an unwritable DAGs folder, and a run now without Airflow, before recording."""
        recipe_of(stores, "airflow")
        check_writable(self.dags_path(stores.project_root))
        if self.schedule is None:  # a deployment may target an Airflow installed elsewhere
            require_airflow()

    def check_spec(self, spec: RunSpec) -> None:
        """Refuse memory and GPU requests (Airflow schedules CPU only, as pool slots) and reserved step names."""
        try:
            super().check_spec(spec)
        except ConfigError as exc:
            raise ConfigError(
                f"{exc} (Airflow's LocalExecutor has no memory or GPU scheduling; a 'cpu' request "
                f"becomes pool slots of pool '{self.pool}')"
            ) from exc
        for reserved in (BEGIN_TASK, END_TASK):
            if self.schedule is not None and reserved in spec.steps:
                raise ConfigError(f"step name '{reserved}' is reserved by the AirflowOrchestrator; rename the step")

    def deploy(self, spec: RunSpec, spec_path: Path, stores: Stores) -> str | None:
        """With a ``schedule``, write a DAG whose every Airflow run is a new zenml run of ``spec``."""
        if self.schedule is None:
            return None
        template = _resolve(str(spec_path), stores.project_root)
        dag = scheduled_dag(spec, template, stores.project_root, self.pool, self.schedule)
        path = self.dags_path(stores.project_root) / f"{dag.dag_id}.py"
        write_atomically(path, dag.render())
        return f"DAG '{dag.dag_id}' (schedule '{self.schedule}') written to {path}"

    def _run(
        self, spec: RunSpec, steps: list[str], stores: Stores, listener: RunListener, use_cache: bool
    ) -> list[StepOutcome]:
        recipe_of(stores, "airflow")
        require_airflow()
        project = stores.project_root
        home, dags = self.home_path(project), self.dags_path(project)
        dag = run_dag(spec, steps, run_spec_path(spec, stores), project, self.pool, use_cache)
        dag_file = dags / f"{dag.dag_id}.py"
        write_atomically(dag_file, dag.render())
        env = airflow_env(home, dags)
        ensure_airflow_db(home, env, project)
        log = home / "logs" / "zenml" / f"{dag.dag_id}.log"
        watcher = StepWatcher(spec, frozenset(steps), stores, listener, began=time.time())
        command = [sys.executable, "-m", "airflow", "dags", "test", dag.dag_id, "-f", str(dag_file)]
        returncode = run_watched(command, env, project, log, watcher, self.dags_test_timeout)
        return watcher.result(steps, returncode, log, self.dags_test_timeout)


def check_schedule(schedule: str) -> None:
    """Accept an Airflow preset (``@daily``) or a 5-field cron expression.

    Raises:
        ConfigError: anything else.
    """
    fields = schedule.split()
    if schedule.strip() in _PRESETS or (len(fields) == 5 and all(_CRON_FIELD.match(part) for part in fields)):
        return
    raise ConfigError(
        f"AirflowOrchestrator schedule {schedule!r} is not a cron expression; pass a preset such as '@daily' "
        "or five cron fields such as '0 3 * * *' (or leave it unset to run now)"
    )


def _resolve(path: str, project_root: Path) -> Path:
    candidate = Path(path).expanduser()
    return (candidate if candidate.is_absolute() else project_root / candidate).resolve()


def check_writable(folder: Path) -> None:
    """Create ``folder`` if needed and prove it is writable by writing and deleting a probe file.

    Raises:
        ConfigError: it cannot be created or written.
    """
    probe = folder / f".zenml-probe-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(
            f"Airflow DAGs folder '{folder}' is not writable ({reason}); pass --backend-opt "
            "orchestrator.dags_folder=PATH with a folder you can write"
        ) from exc


def require_airflow() -> None:
    """Check Airflow is installed, without importing it here (``import zenml`` must stay light).

    Raises:
        BackendError: it is not.
    """
    if importlib.util.find_spec("airflow") is None:
        raise BackendError("AirflowOrchestrator needs Airflow: pip install 'zenml[airflow]'")


def airflow_id(*parts: str) -> str:
    """A DAG or task id from ``parts``: characters Airflow refuses become ``_``."""
    return _UNSAFE_ID.sub("_", "_".join(parts))[:MAX_ID_LENGTH]


def run_spec_path(spec: RunSpec, stores: Stores) -> Path:
    """The spec file the launcher wrote for this run (recorded relative to the project root).

    Raises:
        BackendError: the run is not recorded or its spec file is gone.
    """
    try:
        recorded = stores.metadata.get_run(spec.run_id).spec_path
    except MetadataStoreError as exc:
        raise BackendError(f"run {spec.run_id} is not recorded; the AirflowOrchestrator runs recorded specs") from exc
    path = _resolve(recorded, stores.project_root)
    if not path.is_file():
        raise BackendError(f"run {spec.run_id}: its spec file '{path}' is missing; Airflow tasks need it")
    return path


def write_atomically(path: Path, text: str) -> None:
    """Write ``path`` so that a DAG processor never parses half a file (a hidden ``.tmp`` then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


@dataclass(frozen=True)
class TaskPlan:
    """One Airflow task of a generated DAG."""

    task_id: str
    argv: list[str]
    upstream: list[str] = field(default_factory=list)
    runtime: RuntimeSpec | None = None
    stop_after_failure: bool = False

    def render(self, pool: str) -> str:
        """The ``BashOperator(...)`` expression of this task."""
        settings = [f"task_id={self.task_id!r}", f"bash_command={shlex.join(self.argv)!r}"]
        if self.runtime is not None:
            settings += _runtime_settings(self.runtime, pool)
        if self.stop_after_failure:
            settings.append("pre_execute=stop_after_failure")
        return f"BashOperator({', '.join(settings)}, **COMMON)"


def _runtime_settings(runtime: RuntimeSpec, pool: str) -> list[str]:
    """A step's retries, timeout and CPU request as ``BashOperator`` arguments."""
    # Airflow 3 reads ``retry_exponential_backoff`` as a multiplier (0 = constant delay), like
    # zenml's ``retry_backoff``; it adds jitter (each wait lies between 1x and 2x the delay).
    backoff = runtime.retry_backoff if runtime.retry_backoff > 1 else 0.0
    timeout = None if runtime.timeout is None else runtime.timeout + TIMEOUT_GRACE_SECONDS
    cpu = runtime.resources.cpu
    return [
        f"retries={runtime.retries}",
        f"retry_delay=datetime.timedelta(seconds={runtime.retry_delay!r})",
        f"retry_exponential_backoff={backoff!r}",
        f"execution_timeout={'None' if timeout is None else f'datetime.timedelta(seconds={timeout!r})'}",
        f"pool={pool!r}",
        f"pool_slots={max(1, math.ceil(cpu)) if cpu else 1}",
    ]


_DAG_TEMPLATE = '''\
"""{title} (generated by zenml's AirflowOrchestrator: regenerate it rather than edit it)."""

import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG
from airflow.sdk.exceptions import AirflowSkipException

# every task runs zenml's step executor in the project folder; no output goes to XCom, and no
# exit code means "skipped" (BashOperator's default 99 would hide a failure)
COMMON = {{"cwd": {cwd!r}, "do_xcom_push": False, "skip_on_exit_code": None}}


def stop_after_failure(context):
    """zenml's failure policy 'stop': no step starts once a task of this DAG run has failed.

    DAG-level ``fail_fast`` is not used: it kills running steps, forbids the all-done end task,
    and ``airflow dags test`` still starts tasks it had already picked.
    """
    ti = context["ti"]
    states = ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id]).get(ti.run_id, {{}})
    failed = sorted(task for task, state in states.items() if state == "failed")
    if failed:
        raise AirflowSkipException("zenml failure policy 'stop': " + ", ".join(failed) + " failed")


with DAG(
    dag_id={dag_id!r},
    schedule={schedule!r},
    start_date={start_date},
    catchup=False,
    tags=["zenml"],
) as dag:
    tasks = {{}}
{tasks}
'''


@dataclass(frozen=True)
class DagPlan:
    """A generated DAG: its id, schedule and tasks (in dependency order)."""

    dag_id: str
    title: str
    cwd: Path
    tasks: list[TaskPlan]
    pool: str
    schedule: str | None = None
    start_date: dt.datetime | None = None
    teardown: str | None = None

    def render(self) -> str:
        """The DAG file's Python source (checked to compile)."""
        lines = [f"    tasks[{task.task_id!r}] = {task.render(self.pool)}" for task in self.tasks]
        for task in self.tasks:
            lines += [f"    tasks[{source!r}] >> tasks[{task.task_id!r}]" for source in task.upstream]
        if self.teardown is not None:
            # a teardown ends the DAG run even after failures, yet the run's state stays that of the steps
            lines.append(f"    tasks[{self.teardown!r}].as_teardown(setups=tasks[{BEGIN_TASK!r}])")
        start = "None" if self.start_date is None else _datetime_literal(self.start_date)
        source = _DAG_TEMPLATE.format(
            title=self.title.replace('"""', "'''"),
            cwd=str(self.cwd),
            dag_id=self.dag_id,
            schedule=self.schedule,
            start_date=start,
            tasks="\n".join(lines),
        )
        compile(source, f"{self.dag_id}.py", "exec")
        return source


def _datetime_literal(moment: dt.datetime) -> str:
    utc = moment.astimezone(dt.UTC)
    fields = ", ".join(str(value) for value in (utc.year, utc.month, utc.day, utc.hour, utc.minute))
    return f"datetime.datetime({fields}, tzinfo=datetime.timezone.utc)"


def _zen(*args: str) -> list[str]:
    return [sys.executable, "-m", "zenml", *args]


def run_dag(
    spec: RunSpec, steps: list[str], spec_path: Path, project_root: Path, pool: str, use_cache: bool
) -> DagPlan:
    """The DAG of a one-off run: one task per step still to do, for ``airflow dags test``."""
    stop = spec.failure_policy == "stop"
    cache = [] if use_cache else ["--no-cache"]
    tasks = [
        TaskPlan(
            task_id=name,
            argv=_zen("step", "exec", str(spec_path), name, "--stack", spec.stack.name, "--single-attempt", *cache),
            upstream=[source for source in spec.steps[name].upstream() if source in steps],
            runtime=spec.steps[name].runtime,
            stop_after_failure=stop,
        )
        for name in steps
    ]
    title = f"zenml run {spec.run_id} of pipeline '{spec.pipeline.name}'"
    return DagPlan(airflow_id("zenml", spec.pipeline.name, spec.run_id), title, project_root, tasks, pool)


def scheduled_dag(spec: RunSpec, template: Path, project_root: Path, pool: str, schedule: str) -> DagPlan:
    """The DAG of a deployment: begin, the steps, end; each Airflow run is a new zenml run."""
    scheduled = ["--scheduled-run", "{{ run_id }}", "--stack", spec.stack.name]
    stop = spec.failure_policy == "stop"
    order = BaseOrchestrator.execution_order(spec)
    tasks = [TaskPlan(BEGIN_TASK, _zen("step", "begin", str(template), *scheduled))]
    for name in order:
        upstream = spec.steps[name].upstream() or [BEGIN_TASK]
        argv = _zen("step", "exec", str(template), name, *scheduled, "--single-attempt")
        tasks.append(TaskPlan(name, argv, upstream, spec.steps[name].runtime, stop))
    leaves = [name for name in order if not spec.downstream_of(name)]
    tasks.append(TaskPlan(END_TASK, _zen("step", "end", str(template), *scheduled), leaves))
    title = f"zenml pipeline '{spec.pipeline.name}' on schedule {schedule} (template run {spec.run_id})"
    return DagPlan(
        airflow_id("zenml", spec.pipeline.name),
        title,
        project_root,
        tasks,
        pool,
        schedule=schedule,
        start_date=dt.datetime.now(dt.UTC),
        teardown=END_TASK,
    )


def airflow_env(home: Path, dags: Path) -> dict[str, str]:
    """The environment of this process (so the ``ZEN_*`` store settings reach the tasks) plus Airflow's."""
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }


def ensure_airflow_db(home: Path, env: dict[str, str], cwd: Path) -> None:
    """Run ``airflow db migrate`` once per Airflow home and version (about 3 s on SQLite).

    Raises:
        BackendError: the migration failed.
    """
    marker = home / ".zenml-db-migrated"
    version = importlib.metadata.version("apache-airflow-core")
    if _migrated(marker, home, env, version):
        return
    with _locked(home / ".zenml-db-migrate.lock"):
        if _migrated(marker, home, env, version):  # another run migrated it while this one waited
            return
        try:
            done = subprocess.run(
                [sys.executable, "-m", "airflow", "db", "migrate"],
                env=env,
                cwd=cwd,
                capture_output=True,
                text=True,
                check=False,
                timeout=MIGRATE_TIMEOUT_SECONDS,
            )
        except subprocess.TimeoutExpired as exc:
            raise BackendError(
                f"'airflow db migrate' in {home} did not finish within {MIGRATE_TIMEOUT_SECONDS:g} s; "
                "is another process holding Airflow's database?"
            ) from exc
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-OUTPUT_TAIL_LINES:])
            raise BackendError(f"'airflow db migrate' failed in {home} (exit {done.returncode}):\n{tail}")
        marker.write_text(version)


def _migrated(marker: Path, home: Path, env: dict[str, str], version: str) -> bool:
    default_db = "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" not in env
    exists = marker.is_file() and marker.read_text() == version
    return exists and (not default_db or (home / "airflow.db").is_file())


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` across processes (concurrent runs must not migrate at once)."""
    import fcntl  # POSIX only, like Airflow itself

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class StepWatcher:
    """Follows a run's step records while Airflow executes it, reporting them to the listener."""

    def __init__(
        self, spec: RunSpec, steps: frozenset[str], stores: Stores, listener: RunListener, began: float
    ) -> None:
        self.spec, self.steps, self.stores, self.listener = spec, steps, stores, listener
        self.began = began
        self.started: set[str] = set()
        self.finished: dict[str, StepRunRecord] = {}
        self.running: dict[str, StepRunRecord] = {}

    def poll(self, final: bool = False) -> None:
        """Report steps that started or ended since the last poll."""
        for record in self.stores.metadata.step_runs(self.spec.run_id):
            # records of an earlier attempt of this run (before a resume) are not this execution's
            if record.name not in self.steps or record.name in self.finished or (record.started_at or 0) < self.began:
                continue
            if record.name not in self.started:
                self.started.add(record.name)
                self.listener.step_started(record.name)
            if self._final(record, final):
                self.finished[record.name] = record
                self.running.pop(record.name, None)
                self.listener.step_finished(outcome_of(record))
            else:
                self.running[record.name] = record

    def _final(self, record: StepRunRecord, final: bool) -> bool:
        if record.status not in FINISHED:
            return False
        # a failed attempt is final unless Airflow may still retry it (known once dags test ended)
        return record.status not in FAILED or final or self.spec.steps[record.name].runtime.retries == 0

    def abandon_running(self, reason: str) -> None:
        """Record steps left ``running`` once Airflow is done as failed (their task was killed)."""
        for record in self.running.values():
            self.stores.metadata.fail_step(
                record.id, status="failed", error_type="AirflowTaskError", error_message=reason
            )
        self.running.clear()
        self.poll(final=True)

    def result(self, steps: list[str], returncode: int | None, log: Path, timeout: float) -> list[StepOutcome]:
        """The outcomes once ``airflow dags test`` ended; raise the first failure.

        Raises:
            StepError: a step failed or timed out.
            BackendError: Airflow failed, or timed out, without a failed step.
        """
        self.poll(final=True)
        ended = "was stopped after its timeout" if returncode is None else f"ended (exit {returncode})"
        self.abandon_running(f"its Airflow task ended before the step finished: 'airflow dags test' {ended}; see {log}")
        failures = sorted((r for r in self.finished.values() if r.status in FAILED), key=lambda r: r.ended_at or 0)
        missing = [name for name in steps if name not in self.finished]
        if failures:
            for name in missing:
                self.listener.step_finished(StepOutcome(name, "skipped", 0.0))
            first = failures[0]
            raise step_error(first)
        if returncode is None:
            raise BackendError(
                f"'airflow dags test' did not finish within {timeout:g} s (dags_test_timeout); "
                f"see {log}:\n{output_tail(log)}"
            )
        if returncode != 0 or missing:
            what = f"exit {returncode}" if returncode else f"steps never ran: {', '.join(missing)}"
            raise BackendError(f"'airflow dags test' failed ({what}){explain(log)}; see {log}:\n{output_tail(log)}")
        return [outcome_of(self.finished[name]) for name in steps]


def step_error(record: StepRunRecord) -> StepError:
    """The ``StepError`` a failed or timed-out step record stands for."""
    return StepError(
        record.name, record.error_type or "Error", record.error_message or "(no message)", status=record.status
    )


def outcome_of(record: StepRunRecord) -> StepOutcome:
    """How a finished step record ended, as the listener and ``run`` report it."""
    error = step_error(record) if record.status in FAILED else None
    return StepOutcome(record.name, record.status, record.duration or 0.0, error)


def run_watched(
    command: list[str], env: dict[str, str], cwd: Path, log: Path, watcher: StepWatcher, timeout: float
) -> int | None:
    """Run ``command`` (output to ``log``), polling the watcher; ``None`` when it timed out and was killed."""
    log.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    with log.open("w") as output:
        # its own session, so the whole tree (dags test, bash, zen step exec) can be stopped together
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            while process.poll() is None:
                if time.monotonic() > deadline:
                    _stop(process)
                    return None
                watcher.poll()
                time.sleep(POLL_SECONDS)
        except BaseException:
            _stop(process)
            raise
    return process.returncode


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group (Airflow stops its tasks), then SIGKILL what is left after 10 s."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def explain(log: Path, limit: int = 3) -> str:
    """``: <error>; ...`` for the first DAG import errors and ``zen`` errors in an Airflow log ("" if none)."""
    found: list[str] = []
    try:
        with log.open(errors="replace") as handle:
            for line in handle:
                for pattern in _EXPLANATIONS:
                    match = pattern.search(line)
                    if match and match[1] not in found:
                        found.append(match[1])
                if len(found) >= limit:
                    break
    except OSError:
        return ""
    return f": {'; '.join(found[:limit])}" if found else ""


def output_tail(log: Path, lines: int = OUTPUT_TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file."""
    try:
        with log.open(errors="replace") as handle:
            return "".join(deque(handle, maxlen=lines)).rstrip()
    except OSError:
        return "(no output)"
