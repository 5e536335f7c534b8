"""``zen`` in a real terminal (a pseudo-terminal), where the live display and the step-output capture
both stand in for ``sys.stdout``: runs, resumes and examples must end as they do with piped output,
and Ctrl-C must stop a run within seconds on every orchestrator, cleanly (exit 130).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pty_helpers import ZEN, Terminal, zen_in_terminal

from zenml.cli.example_catalog import load_example
from zenml.repository import Repository

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="pseudo-terminals and /proc as on Linux")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: A step that talks on every channel, a TensorFlow-like training loop, and a quick branch beside it.
TERMINAL_FLOW = '''\
"""Steps that print the way users' steps do."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from zenml import pipeline, step


@step
def talk() -> int:
    print("a line on stdout")
    logging.getLogger("talk").warning("a warning")
    sys.stderr.write("a line on stderr\\n")
    if Path("broken").exists():  # the test decides whether this step fails
        raise ValueError("talk was told to fail")
    return 1


@step
def fit(epochs: int = 4, batches: int = 10, pause: float = 0.05) -> int:
    """As Keras' fit prints: an epoch line, then a bar rewritten after a carriage return per batch;
    a tqdm-like bar on stderr."""
    for epoch in range(1, epochs + 1):
        print(f"Epoch {epoch}/{epochs}")
        for batch in range(1, batches + 1):
            bar = "=" * batch + ">" + "." * (batches - batch)
            sys.stdout.write(f"\\r{batch}/{batches} [{bar}] - loss: {1 / (epoch * batch):.4f}")
            sys.stdout.flush()
            sys.stderr.write(f"\\rbatches: {10 * batch:3d}%|{'#' * batch:<{batches}}| {batch}/{batches}")
            sys.stderr.flush()
            time.sleep(pause)
        sys.stdout.write("\\n")
        sys.stderr.write("\\n")
    return epochs


@step
def quick() -> int:
    return 2


@pipeline
def chatty() -> None:
    talk()


@pipeline
def training() -> None:
    fit()


@pipeline
def branches() -> None:
    fit()
    quick()
'''

# A run that ends is summarised on this line (and a hang never gets to it).
_SUMMARY = re.compile(r"^Run (\S+) (completed|failed) in .*: \d+ steps? \(.*\)$", re.MULTILINE)


@pytest.fixture
def project(repo: Repository, tmp_path: Path) -> Iterator[Path]:
    """A repository holding ``flow.py`` (the steps above); the working directory."""
    (tmp_path / "flow.py").write_text(TERMINAL_FLOW)
    yield tmp_path


def _only_run(project: Path, pipeline: str) -> object:
    (run,) = Repository(project).runs(pipeline=pipeline)
    return run


def _log_of(run: object, step: str) -> str:
    return "".join(text for _name, text in run.steps[step].logs())  # type: ignore[attr-defined]


@pytest.mark.timeout(60)
def test_a_step_printing_logging_and_writing_to_stderr_finishes_as_in_a_pipe(project: Path) -> None:
    code, shown = zen_in_terminal("run", "flow.py:chatty", cwd=project, timeout=30)
    assert code == 0, shown
    for line in ("a line on stdout", "a warning", "a line on stderr"):
        assert line in shown  # shown above the live table
    summary = _SUMMARY.search(shown)
    assert summary and summary.group(2) == "completed", shown
    assert "Traceback" not in shown
    log = _log_of(_only_run(project, "chatty"), "talk")
    for line in ("a line on stdout", "WARNING talk: a warning", "a line on stderr"):
        assert line in log  # and captured to the step's log, once
    assert log.count("a line on stdout") == 1


@pytest.mark.timeout(60)
def test_resume_of_a_failed_run_finishes_in_a_terminal(project: Path) -> None:
    (project / "broken").touch()
    code, shown = zen_in_terminal("run", "flow.py:chatty", cwd=project, timeout=30)
    assert code == 1, shown
    assert "Error: step 'talk' failed: ValueError: talk was told to fail" in shown
    failed = _only_run(project, "chatty")
    (project / "broken").unlink()
    code, shown = zen_in_terminal("runs", "resume", failed.id, cwd=project, timeout=30)  # type: ignore[attr-defined]
    assert code == 0, shown
    assert "a line on stdout" in shown
    assert f"Run {failed.id} completed after resume" in shown  # type: ignore[attr-defined]


@pytest.mark.timeout(60)
def test_a_training_loop_rewriting_its_progress_line_finishes(project: Path) -> None:
    code, shown = zen_in_terminal("run", "flow.py:training", cwd=project, timeout=40)
    assert code == 0, shown
    summary = _SUMMARY.search(shown)
    assert summary and summary.group(2) == "completed", shown
    # each finished line as a terminal leaves it: the bar's last state, once per epoch
    assert "10/10 [==========>] - loss: 0.0250" in shown
    assert "batches: 100%|##########| 10/10" in shown
    assert "Epoch 4/4" in shown
    log = _log_of(_only_run(project, "training"), "fit")
    assert "Epoch 4/4" in log and "10/10 [==========>] - loss: 0.0250" in log  # captured to the step's log too


@pytest.mark.beam
@pytest.mark.timeout(120)
def test_an_example_runs_in_a_terminal(tmp_path: Path) -> None:
    # data_pipeline: its Beam step logs warnings while the live display is up
    example = load_example(EXAMPLES / "data_pipeline")
    if example.missing_extras():
        pytest.skip(f"data_pipeline needs the {', '.join(example.missing_extras())} extra(s)")
    folder = tmp_path / "data_pipeline"
    code, shown = zen_in_terminal("examples", "run", "data_pipeline", "--dir", str(folder), cwd=tmp_path, timeout=100)
    assert code == 0, shown
    assert re.search(r"^Run \S+ completed in .* \(3 completed\)$", shown, re.MULTILINE), shown
    assert shown.rstrip().endswith(f"Example 'data_pipeline' finished in {folder}")


def _interrupt_a_long_step(
    project: Path, orchestrator: str, pipeline: str = "branches", started: str = "Epoch 2/1000"
) -> tuple[int, str, float]:
    """Start a long ``fit`` on ``orchestrator``, press Ctrl-C once ``started`` shows; return code, output, seconds."""
    args = ("run", f"flow.py:{pipeline}", "--orchestrator", orchestrator, "--param", "fit.epochs=1000")
    terminal = Terminal(ZEN, *args, cwd=project)
    try:
        terminal.expect(started, timeout=30 if started.startswith("Epoch") else 120)
        pressed = time.monotonic()
        terminal.press_ctrl_c()
        code = terminal.wait(timeout=20)
        elapsed = time.monotonic() - pressed
        deadline = time.monotonic() + 5
        while terminal.leftovers() and time.monotonic() < deadline:
            time.sleep(0.1)  # a process ending is reaped by its parent a moment later
        assert terminal.leftovers() == [], "worker processes outlived the run"
        return code, terminal.output, elapsed
    finally:
        terminal.close()


def _check_interrupted(project: Path, pipeline: str, code: int, shown: str, elapsed: float) -> None:
    assert code == 130, shown
    assert elapsed < 5, f"Ctrl-C took {elapsed:.1f} s to stop the run"
    assert "Traceback" not in shown, shown
    run = _only_run(project, pipeline)
    assert run.status == "failed"  # type: ignore[attr-defined]
    fit = run.stores.metadata.step_runs(run.id)  # type: ignore[attr-defined]
    (record,) = [step for step in fit if step.name == "fit"]
    assert (record.status, record.error_type, record.error_message) == (
        "failed",
        "KeyboardInterrupt",
        "interrupted (Ctrl-C)",
    )
    assert f"Error: interrupted (Ctrl-C); run {run.id} was recorded as failed" in shown  # type: ignore[attr-defined]
    assert f"zen runs resume {run.id}" in shown  # type: ignore[attr-defined]


@pytest.mark.timeout(60)
def test_ctrl_c_stops_a_local_run(project: Path) -> None:
    code, shown, elapsed = _interrupt_a_long_step(project, "local", "training")
    _check_interrupted(project, "training", code, shown, elapsed)
    assert "KeyboardInterrupt" in _log_of(_only_run(project, "training"), "fit")  # the step recorded it itself


@pytest.mark.timeout(60)
def test_ctrl_c_stops_a_parallel_run_and_its_idle_workers(project: Path) -> None:
    # ``quick`` finishes at once, so one worker is idle when Ctrl-C reaches it
    code, shown, elapsed = _interrupt_a_long_step(project, "parallel")
    _check_interrupted(project, "branches", code, shown, elapsed)


@pytest.mark.timeout(60)
def test_ctrl_c_stops_a_resumed_run_too(project: Path) -> None:
    assert _interrupt_a_long_step(project, "local", "training")[0] == 130
    run_id = _only_run(project, "training").id  # type: ignore[attr-defined]
    terminal = Terminal(ZEN, "runs", "resume", run_id, cwd=project)
    try:
        terminal.expect("Epoch 2/1000", timeout=30)
        terminal.press_ctrl_c()
        assert terminal.wait(timeout=20) == 130, terminal.output
        shown = terminal.output
    finally:
        terminal.close()
    assert f"Run {run_id} failed after resume" in shown
    assert f"finish it with 'zen runs resume {run_id}'" in shown and "Traceback" not in shown
    assert _only_run(project, "training").status == "failed"  # type: ignore[attr-defined]


@pytest.mark.timeout(60)
def test_ctrl_c_of_a_json_run_prints_the_interrupted_run(project: Path) -> None:
    # --json keeps stdout for the document, also when Ctrl-C (SIGINT to the process group) stops the run
    errors = project / "stderr.txt"
    args = ["run", "flow.py:training", "--json", "--param", "fit.epochs=1000"]
    with errors.open("w") as stderr:
        process = subprocess.Popen([ZEN, *args], cwd=project, stdout=subprocess.PIPE, stderr=stderr, text=True,
                                   start_new_session=True)  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while "Epoch 2/1000" not in errors.read_text() and time.monotonic() < deadline:
                time.sleep(0.05)
            os.killpg(process.pid, signal.SIGINT)
            out, _ = process.communicate(timeout=20)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, errors.read_text()
    document = json.loads(out)
    assert document["status"] == "failed"
    assert document["error"]["message"] == "interrupted (Ctrl-C)"
    assert [(step["name"], step["status"]) for step in document["steps"]] == [("fit", "failed")]
    assert "Error: interrupted (Ctrl-C); run" in errors.read_text()


@pytest.mark.dask
@pytest.mark.timeout(90)
def test_ctrl_c_stops_a_dask_run_and_its_local_cluster(project: Path) -> None:
    pytest.importorskip("dask.distributed")
    code, shown, elapsed = _interrupt_a_long_step(project, "dask")
    _check_interrupted(project, "branches", code, shown, elapsed)
    assert "still alive" not in shown and "CancelledError" not in shown  # nothing for Dask to complain about


@pytest.mark.slow
@pytest.mark.airflow
@pytest.mark.timeout(240)
def test_ctrl_c_stops_an_airflow_run(project: Path) -> None:
    if importlib.util.find_spec("airflow") is None:  # not imported here: it would configure logging
        pytest.skip("needs Airflow: pip install 'zenml[airflow]'")
    # Airflow's tasks write to its log, not the terminal: the live table says when the step runs
    code, shown, elapsed = _interrupt_a_long_step(project, "airflow", "training", started="fit  │ running")
    _check_interrupted(project, "training", code, shown, elapsed)


SPARK_FLOW = '''\
"""A data step whose Spark tasks take far longer than anyone waits."""

import time
from pathlib import Path

import pyarrow as pa

from zenml import pipeline, step
from zenml.artifacts.dataset import Dataset
from zenml.steps.context import StepContext

STARTED = Path(__file__).with_name("task-started")


def slow(batch: pa.RecordBatch) -> pa.RecordBatch:
    if batch.num_rows:
        STARTED.touch()  # the test presses Ctrl-C once an executor is inside this task
        time.sleep(300)
    return batch


@step
def crunch(context: StepContext) -> Dataset:
    data = Dataset.from_tables(context.new_path("in"), {"all": pa.table({"x": list(range(10))})})
    print("sending the job to Spark", flush=True)
    return context.processing.map_batches(data, slow, context.new_path("out"))


@pipeline
def sparked() -> None:
    crunch()
'''


@pytest.mark.spark
@pytest.mark.timeout(120)
@pytest.mark.skipif(importlib.util.find_spec("pyspark") is None, reason="needs PySpark (pip install 'zenml[spark]')")
def test_ctrl_c_stops_a_spark_job_and_its_jvm(tmp_path: Path) -> None:
    (tmp_path / "spark_flow.py").write_text(SPARK_FLOW)
    assert subprocess.run([ZEN, "init", "."], cwd=tmp_path, capture_output=True, check=False).returncode == 0
    terminal = Terminal(ZEN, "run", "spark_flow.py:sparked", "--processing", "spark",
                        "--backend-opt", "processing.master=local[2]", cwd=tmp_path)
    try:
        terminal.expect("sending the job to Spark", timeout=90)
        deadline = time.monotonic() + 90
        while not (tmp_path / "task-started").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (tmp_path / "task-started").exists(), terminal.output
        pressed = time.monotonic()
        terminal.press_ctrl_c()
        code = terminal.wait(timeout=30)
        elapsed = time.monotonic() - pressed
        deadline = time.monotonic() + 10
        while terminal.leftovers() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert terminal.leftovers() == [], "Spark's JVM or its Python workers outlived the run"
        shown = terminal.output
    finally:
        terminal.close()
    assert code == 130, shown
    assert elapsed < 10, f"Ctrl-C took {elapsed:.1f} s to stop the Spark job"
    assert "Traceback" not in shown and "py4j" not in shown.lower(), shown
    (run,) = Repository(tmp_path).runs(pipeline="sparked")
    assert run.status == "failed"
    assert "zen runs resume" in shown


SERVER_PROBE = '''\
import os

from zenml import pipeline, step


@step
def server_command() -> str:
    with open(f"/proc/{os.getppid()}/cmdline", "rb") as server:
        return server.read().decode().replace("\\0", " ").strip()


@pipeline
def probed() -> None:
    server_command()
'''


@pytest.mark.timeout(120)
def test_a_parallel_run_in_a_terminal_forks_its_workers_from_zen_itself(project: Path) -> None:
    # the live table starts at the first step, after the run's fork server was forked from this
    # single-threaded process (its refresh thread would have ruled the fork out)
    (project / "probe.py").write_text(SERVER_PROBE)
    code, shown = zen_in_terminal("run", "probe.py:probed", "--orchestrator", "parallel", cwd=project, timeout=100)
    assert code == 0, shown
    assert re.search(r"^Run \S+ completed in .* \(1 completed\)$", shown, re.MULTILINE), shown
    assert "server_command" in shown  # the table was shown
    server = _only_run(project, "probed").steps["server_command"].output()  # type: ignore[attr-defined]
    assert server.endswith("zen run probe.py:probed --orchestrator parallel"), server
