"""``AirflowOrchestrator``: runs as Airflow 3 DAGs executed by ``airflow dags test``, and scheduled deployments."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from zenml import pipeline, step
from zenml.backends.orchestrator.airflow import AirflowOrchestrator, airflow_env, run_dag
from zenml.engine import compile_pipeline, run_pipeline
from zenml.exceptions import BackendError, ConfigError, StepError
from zenml.history.runs import PipelineRun
from zenml.repository import Repository
from zenml.runtime import StepOutcome
from zenml.testing.orchestrators import add, broken_flow, diamond_flow, fan_flow, seed

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(180)]
# not ``pytest.importorskip``: importing Airflow here would install a root log handler printing to
# stdout (seen by every later test's capsys) and create ~/airflow; only subprocesses import it
if importlib.util.find_spec("airflow") is None:
    pytest.skip("needs Airflow: pip install 'zenml[airflow]'", allow_module_level=True)


@step
def flaky(x: int, marker: str = "") -> int:
    """Fails on its first attempt (it leaves ``marker`` behind), succeeds on the next."""
    if not Path(marker).exists():
        Path(marker).write_text("failed once")
        raise RuntimeError("first attempt fails")
    return x + 1


@step
def slow(x: int, seconds: float = 30.0) -> int:
    time.sleep(seconds)
    return x


@pipeline
def retried_and_slow() -> None:
    """``flaky`` needs one Airflow retry; ``slow`` runs past its timeout."""
    value = seed()
    flaky.configure(retries=1, retry_delay=0.0)(value)
    slow.configure(timeout=1.0)(value)


@pipeline
def memory_hungry() -> None:
    add.configure(name="big", resources={"memory": "1GiB"})(seed())


@pipeline
def gpu_hungry() -> None:
    add.configure(name="gpu", resources={"gpu": 1})(seed())


@pipeline
def cpu_hungry() -> None:
    add.configure(name="wide", resources={"cpu": 2.5})(seed())


class Recorder:
    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[tuple[str, str]] = []

    def step_started(self, name: str) -> None:
        self.started.append(name)

    def step_finished(self, outcome: StepOutcome) -> None:
        self.finished.append((outcome.name, outcome.status))


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Airflow home (config + SQLite DB) for the module, so ``airflow db migrate`` runs once."""
    return tmp_path_factory.mktemp("airflow-home")


@pytest.fixture
def orchestrator(airflow_home: Path) -> AirflowOrchestrator:
    return AirflowOrchestrator(airflow_home=str(airflow_home), dags_test_timeout=120.0)


@pytest.fixture
def importable_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow tasks run ``python -m zenml step exec`` afresh: let them import this module's steps."""
    paths = [str(Path(__file__).parent), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))


def _airflow_states(airflow_home: Path, dag_id: str) -> tuple[str, dict[str, tuple[str, int]]]:
    """What Airflow's own DB says: the DAG run's state and each task's (state, try number)."""
    with sqlite3.connect(airflow_home / "airflow.db") as db:
        (run_state,) = db.execute("SELECT state FROM dag_run WHERE dag_id = ?", (dag_id,)).fetchone()
        rows = db.execute("SELECT task_id, state, try_number FROM task_instance WHERE dag_id = ?", (dag_id,))
        return run_state, {task: (state, tries) for task, state, tries in rows}


def _dag_id(run: PipelineRun | str, pipeline_name: str) -> str:
    run_id = run if isinstance(run, str) else run.id
    return f"zenml_{pipeline_name}_{run_id}"


def _tasks_in_dag_file(path: Path) -> dict[str, str]:
    """task_id → bash command of every ``BashOperator`` in a generated DAG file (parsed, not run)."""
    tasks = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "BashOperator":
            keywords = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg in ("task_id", "bash_command")}
            tasks[keywords["task_id"]] = keywords["bash_command"]
    return tasks


def _hashes(run: PipelineRun) -> dict[tuple[str, str], str]:
    return {(s, o): a.content_hash for s, view in run.steps.items() for o, a in view.outputs.items()}


def test_a_run_is_an_airflow_dag_whose_tasks_all_succeed(
    orchestrator: AirflowOrchestrator, airflow_home: Path, repo: Repository
) -> None:
    local = run_pipeline(fan_flow, orchestrator="local", repository=repo, enable_cache=False)
    recorder = Recorder()
    run = run_pipeline(fan_flow, orchestrator=orchestrator, repository=repo, enable_cache=False, listener=recorder)

    assert run.status == "completed", run.error
    assert run.spec.backends.orchestrator.name == "airflow"
    assert run.steps["total"].output() == [3, 4, 5, 6, 18]
    assert _hashes(run) == _hashes(local)
    assert {status for _, status in recorder.finished} == {"completed"}
    assert sorted(recorder.started) == sorted(run.spec.steps)

    dag_id = _dag_id(run, "fan_flow")
    dag_file = airflow_home / "dags" / f"{dag_id}.py"
    tasks = _tasks_in_dag_file(dag_file)
    assert sorted(tasks) == sorted(run.spec.steps)
    spec_path = (repo.root / repo.stores().metadata.get_run(run.id).spec_path).resolve()
    assert tasks["total"].startswith(f"{sys.executable} -m zenml step exec {spec_path} total --stack default")
    assert tasks["total"].endswith("--single-attempt --no-cache")

    run_state, states = _airflow_states(airflow_home, dag_id)
    assert run_state == "success"
    assert states == dict.fromkeys(run.spec.steps, ("success", 1))


def test_a_failing_step_raises_and_stops_the_run(
    orchestrator: AirflowOrchestrator, airflow_home: Path, repo: Repository
) -> None:
    recorder = Recorder()
    with pytest.raises(StepError) as raised:
        run_pipeline(broken_flow, orchestrator=orchestrator, repository=repo, enable_cache=False, listener=recorder)
    error = raised.value
    assert error.step == "explode" and error.error_type == "RuntimeError"
    assert "exploded on 3" in error.error_message
    run = repo.run(error.run_id)  # type: ignore[attr-defined]
    assert run.status == "failed"
    statuses = {name: view.status for name, view in run.steps.items()}
    assert statuses["explode"] == "failed" and statuses["join"] == "skipped"  # never started
    assert ("explode", "failed") in recorder.finished and ("join", "skipped") in recorder.finished

    run_state, states = _airflow_states(airflow_home, _dag_id(run, "broken_flow"))
    assert run_state == "failed"
    assert states["explode"][0] == "failed" and states["join"][0] == "upstream_failed"
    # failure policy 'stop': 'right' either ran before 'explode' failed or was skipped after it
    assert states["right"][0] == ("skipped" if statuses["right"] == "skipped" else "success")


def test_failure_policy_continue_runs_independent_branches(
    orchestrator: AirflowOrchestrator, airflow_home: Path, repo: Repository
) -> None:
    with pytest.raises(StepError) as raised:
        run_pipeline(
            broken_flow, orchestrator=orchestrator, repository=repo, enable_cache=False, failure_policy="continue"
        )
    run = repo.run(raised.value.run_id)  # type: ignore[attr-defined]
    assert {name: view.status for name, view in run.steps.items()} == {
        "seed": "completed",
        "explode": "failed",
        "right": "completed",
        "join": "skipped",  # downstream of the failure: never started
    }
    _, states = _airflow_states(airflow_home, _dag_id(run, "broken_flow"))
    assert states["right"][0] == "success" and states["join"][0] == "upstream_failed"


def test_airflow_retries_a_step_and_enforces_its_timeout(
    orchestrator: AirflowOrchestrator, airflow_home: Path, repo: Repository, tmp_path: Path, importable_steps: None
) -> None:
    params = {"flaky": {"marker": str(tmp_path / "flaky-failed-once")}}
    with pytest.raises(StepError) as raised:
        run_pipeline(
            retried_and_slow,
            orchestrator=orchestrator,
            repository=repo,
            params=params,
            enable_cache=False,
            failure_policy="continue",
        )
    error = raised.value
    assert error.step == "slow" and error.status == "timed_out", error
    run = repo.run(error.run_id)  # type: ignore[attr-defined]
    assert run.steps["flaky"].status == "completed" and run.steps["flaky"].output() == 4
    assert run.steps["slow"].status == "timed_out"

    _, states = _airflow_states(airflow_home, _dag_id(run, "retried_and_slow"))
    assert states["flaky"] == ("success", 2)  # the retry was Airflow's: zenml ran one attempt per task
    assert states["slow"] == ("failed", 1)


def test_runtime_settings_become_task_arguments(airflow_home: Path, repo: Repository, tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    orchestrator = AirflowOrchestrator(airflow_home=str(airflow_home), dags_folder=str(dags), pool="zen")
    spec, _, _ = compile_pipeline(cpu_hungry, repository=repo)
    source = run_dag(spec, list(spec.steps), tmp_path / "spec.yaml", repo.root, orchestrator.pool, True).render()
    assert "pool='zen', pool_slots=3" in source  # cpu 2.5 → 3 slots
    assert "--no-cache" not in source
    assert "schedule=None" in source and "catchup=False" in source


def test_an_unwritable_dags_folder_is_refused_before_recording(
    airflow_home: Path, repo: Repository, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    orchestrator = AirflowOrchestrator(airflow_home=str(airflow_home), dags_folder=str(blocker / "dags"))
    with pytest.raises(ConfigError, match=r"Airflow DAGs folder '.*a-file/dags' is not writable \(.*\); pass"):
        run_pipeline(diamond_flow, orchestrator=orchestrator, repository=repo)
    assert repo.stores().metadata.runs() == []


@pytest.mark.parametrize(("flow", "resource"), [(memory_hungry, "memory"), (gpu_hungry, "gpu")])
def test_memory_and_gpu_requests_are_refused_before_recording(
    orchestrator: AirflowOrchestrator, repo: Repository, flow: Any, resource: str
) -> None:
    with pytest.raises(ConfigError, match=f"resource '{resource}'.*LocalExecutor has no memory or GPU scheduling"):
        run_pipeline(flow, orchestrator=orchestrator, repository=repo)
    assert repo.stores().metadata.runs() == []


@pipeline
def reserved_name() -> None:
    add.configure(name="zenml_end")(seed())


def test_a_step_named_like_the_end_task_cannot_be_scheduled(airflow_home: Path, repo: Repository) -> None:
    orchestrator = AirflowOrchestrator(airflow_home=str(airflow_home), schedule="@daily")
    with pytest.raises(ConfigError, match="step name 'zenml_end' is reserved"):
        run_pipeline(reserved_name, orchestrator=orchestrator, repository=repo)
    assert repo.stores().metadata.runs() == []


def test_missing_airflow_is_refused_before_recording(
    orchestrator: AirflowOrchestrator, repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "airflow" else real(name, *a))
    # bad input, refused when the run is compiled (exit 2 from the CLI), not when the first step runs
    missing = r"AirflowOrchestrator needs airflow, which is not installed: pip install 'zenml\[airflow\]'"
    with pytest.raises(ConfigError, match=missing):
        run_pipeline(diamond_flow, orchestrator=orchestrator, repository=repo)
    assert repo.stores().metadata.runs() == []


def test_a_dag_airflow_cannot_import_is_a_backend_error_with_its_output(
    orchestrator: AirflowOrchestrator, repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zenml.backends.orchestrator.airflow import orchestrator as module

    def broken_dag(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\nraise RuntimeError('this DAG file is broken on purpose')\n")

    monkeypatch.setattr(module, "write_atomically", broken_dag)
    with pytest.raises(BackendError, match="'airflow dags test' failed") as raised:
        run_pipeline(diamond_flow, orchestrator=orchestrator, repository=repo, enable_cache=False)
    first_line, *tail = str(raised.value).splitlines()
    assert "Error loading DAG from zenml_diamond_flow_" in first_line and "broken on purpose" in first_line
    assert 0 < len(tail) <= 20


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"schedule": "every day"}, "schedule 'every day' is not a cron expression"),
        ({"dags_test_timeout": 0.0}, "dags_test_timeout > 0"),
        ({"pool": ""}, "pool '' is invalid"),
        ({"dags_folder": " "}, "dags_folder is empty"),
    ],
)
def test_bad_parameters_are_config_errors(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        AirflowOrchestrator(**params)


def test_parameters_round_trip_through_the_spec(tmp_path: Path) -> None:
    orchestrator = AirflowOrchestrator(dags_folder="dags", schedule="0 3 * * *", pool="zen", dags_test_timeout=60)
    assert AirflowOrchestrator.from_config(orchestrator.to_config()).get_params() == orchestrator.get_params()
    assert orchestrator.dags_path(tmp_path) == tmp_path / "dags"


def test_zen_run_with_the_airflow_orchestrator(
    airflow_home: Path, repo: Repository, capsys: pytest.CaptureFixture[str]
) -> None:
    from zenml.cli.app import main

    code = main(
        [
            "run",
            "zenml.testing.orchestrators:diamond_flow",
            "--orchestrator",
            "airflow",
            "--backend-opt",
            f"orchestrator.airflow_home={airflow_home}",
            "--no-cache",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    (run,) = repo.runs()
    assert run.status == "completed" and run.spec.backends.orchestrator.name == "airflow"
    assert run.steps["join"].output() == 3 + 10 + 3 + 100


def test_a_scheduled_deployment_makes_each_airflow_run_a_new_zenml_run(
    airflow_home: Path, repo: Repository, tmp_path: Path
) -> None:
    dags = tmp_path / "scheduled-dags"
    orchestrator = AirflowOrchestrator(airflow_home=str(airflow_home), dags_folder=str(dags), schedule="@daily")
    template = run_pipeline(diamond_flow, orchestrator=orchestrator, repository=repo, enable_cache=False)
    assert template.status == "deployed"

    dag_file = dags / "zenml_diamond_flow.py"
    source = dag_file.read_text()
    assert "schedule='@daily'" in source and "catchup=False" in source
    tasks = _tasks_in_dag_file(dag_file)
    assert sorted(tasks) == sorted([*template.spec.steps, "zenml_begin", "zenml_end"])
    assert "step begin" in tasks["zenml_begin"] and "step end" in tasks["zenml_end"]
    assert "--scheduled-run '{{ run_id }}'" in tasks["join"] and tasks["join"].endswith("--single-attempt")

    # one Airflow run of the deployed DAG, exactly as the scheduler would start it
    command = [sys.executable, "-m", "airflow", "dags", "test", "zenml_diamond_flow", "-f", str(dag_file)]
    done = subprocess.run(
        command, env=airflow_env(airflow_home, dags), cwd=repo.root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    runs = [run for run in repo.runs() if run.id != template.id]
    assert len(runs) == 1, [(run.id, run.status) for run in repo.runs()]
    (scheduled,) = runs
    assert scheduled.status == "completed", scheduled.error
    assert scheduled.steps["join"].output() == 3 + 10 + 3 + 100
    run_state, states = _airflow_states(airflow_home, "zenml_diamond_flow")
    assert run_state == "success"
    assert {state for state, _ in states.values()} == {"success"}


def test_the_dag_file_imports_in_airflow(
    orchestrator: AirflowOrchestrator, airflow_home: Path, repo: Repository
) -> None:
    """The generated file is valid for Airflow's own DAG loader, not only valid Python."""
    run = run_pipeline(diamond_flow, orchestrator="local", repository=repo)
    orchestrator.schedule = "@hourly"
    description = orchestrator.deploy(
        run.spec, repo.root / repo.stores().metadata.get_run(run.id).spec_path, repo.stores()
    )
    dags = airflow_home / "dags"
    assert description == f"DAG 'zenml_diamond_flow' (schedule '@hourly') written to {dags / 'zenml_diamond_flow.py'}"
    script = (
        "import json, sys\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        "bag = DagBag(dag_folder=sys.argv[1])\n"
        "dag = bag.get_dag('zenml_diamond_flow')\n"
        "print(json.dumps({'errors': {k: str(v) for k, v in bag.import_errors.items()},\n"
        "                  'tasks': sorted(dag.task_dict) if dag else None,\n"
        "                  'teardown': [t.task_id for t in dag.tasks if t.is_teardown] if dag else None}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(dags / "zenml_diamond_flow.py")],
        env={**airflow_env(airflow_home, dags), "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["errors"] == {}
    assert report["tasks"] == sorted(["seed", "left", "right", "join", "zenml_begin", "zenml_end"])
    assert report["teardown"] == ["zenml_end"]
