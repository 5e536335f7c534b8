"""``AirflowOrchestrator``: a run as an Airflow 3 DAG of ``zen step exec`` tasks, run now or on a schedule."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import ClassVar

from zenml.backends.base import require_module
from zenml.backends.orchestrator.airflow.dag import BEGIN_TASK, END_TASK, check_schedule, run_dag, scheduled_dag
from zenml.backends.orchestrator.airflow.environment import (
    airflow_env,
    check_writable,
    ensure_airflow_db,
    require_airflow,
    resolve_path,
    write_atomically,
)
from zenml.backends.orchestrator.airflow.supervision import StepWatcher, run_watched
from zenml.backends.orchestrator.base import BaseOrchestrator
from zenml.backends.orchestrator.worker import recipe_of
from zenml.exceptions import BackendError, ConfigError, MetadataStoreError
from zenml.pipelines.spec import RunSpec
from zenml.runtime.events import RunListener, StepOutcome
from zenml.runtime.stores import Stores
from zenml.utils.names import ZEN_DIR


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
        return resolve_path(chosen, project_root) if chosen else project_root / ZEN_DIR / "airflow"

    def dags_path(self, project_root: Path) -> Path:
        """The folder DAG files are written to."""
        if self.dags_folder:
            return resolve_path(self.dags_folder, project_root)
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
        template = resolve_path(str(spec_path), stores.project_root)
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


def run_spec_path(spec: RunSpec, stores: Stores) -> Path:
    """The spec file the launcher wrote for this run (recorded relative to the project root).

    Raises:
        BackendError: the run is not recorded or its spec file is gone.
    """
    try:
        recorded = stores.metadata.get_run(spec.run_id).spec_path
    except MetadataStoreError as exc:
        raise BackendError(f"run {spec.run_id} is not recorded; the AirflowOrchestrator runs recorded specs") from exc
    path = resolve_path(recorded, stores.project_root)
    if not path.is_file():
        raise BackendError(f"run {spec.run_id}: its spec file '{path}' is missing; Airflow tasks need it")
    return path
