"""Airflow 3 as a zenml orchestrator, in four parts (importing none of them imports Airflow).

- ``orchestrator``: ``AirflowOrchestrator``, the backend a run names (``--orchestrator airflow``).
- ``dag``: the DAG files it generates from a run spec, run now or on a schedule.
- ``environment``: Airflow's home, folders, environment and database for a project.
- ``supervision``: running ``airflow dags test`` and reading the step records it leaves.
"""

from zenml.backends.orchestrator.airflow.dag import (
    BEGIN_TASK,
    END_TASK,
    MAX_ID_LENGTH,
    TIMEOUT_GRACE_SECONDS,
    DagPlan,
    TaskPlan,
    airflow_id,
    check_schedule,
    run_dag,
    scheduled_dag,
)
from zenml.backends.orchestrator.airflow.environment import (
    MIGRATE_TIMEOUT_SECONDS,
    airflow_env,
    check_writable,
    ensure_airflow_db,
    require_airflow,
    write_atomically,
)
from zenml.backends.orchestrator.airflow.orchestrator import AirflowOrchestrator, run_spec_path
from zenml.backends.orchestrator.airflow.supervision import (
    FAILED,
    FINISHED,
    OUTPUT_TAIL_LINES,
    POLL_SECONDS,
    StepWatcher,
    explain,
    outcome_of,
    output_tail,
    run_watched,
    step_error,
)
from zenml.utils.names import ZEN_DIR

# every name ``zenml.backends.orchestrator.airflow`` defined while it was one module, so imports of it keep working
__all__ = [
    "BEGIN_TASK",
    "END_TASK",
    "FAILED",
    "FINISHED",
    "MAX_ID_LENGTH",
    "MIGRATE_TIMEOUT_SECONDS",
    "OUTPUT_TAIL_LINES",
    "POLL_SECONDS",
    "TIMEOUT_GRACE_SECONDS",
    "ZEN_DIR",
    "AirflowOrchestrator",
    "DagPlan",
    "StepWatcher",
    "TaskPlan",
    "airflow_env",
    "airflow_id",
    "check_schedule",
    "check_writable",
    "ensure_airflow_db",
    "explain",
    "outcome_of",
    "output_tail",
    "require_airflow",
    "run_dag",
    "run_spec_path",
    "run_watched",
    "scheduled_dag",
    "step_error",
    "write_atomically",
]
