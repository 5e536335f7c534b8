"""``zen run --on-failure``, ``zen runs logs`` and ``zen step exec --single-attempt``: runtime settings on the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cli_helpers import Flow, Result, store_state, write_flow

from zenml.repository import Repository

Zen = Callable[..., Result]

RUNTIME_FLOW = '''\
"""Pipelines with chatty, flaky and slow steps for the CLI runtime tests."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from zenml import pipeline, step

logger = logging.getLogger("zenml.flow")


def count(name: str) -> int:
    path = Path(name)
    done = int(path.read_text()) if path.exists() else 0
    path.write_text(str(done + 1))
    return done + 1


@step
def load() -> int:
    print("loading the numbers")
    logger.warning("the source is small")
    return 4


@step
def square(x: int) -> int:
    print(f"squaring {x}")
    return x * x


@step
def quiet(x: int) -> int:
    return x


@step(retries=2, retry_delay=0.0)
def shaky(x: int) -> int:
    attempt = count("shaky-attempts")
    print(f"shaky attempt {attempt}")
    if Path("broken").exists():
        raise ValueError(f"shaky gave up on attempt {attempt}")
    return x + attempt


@step
def after(x: int) -> int:
    return x + 1


@step(timeout=0.3)
def slow(x: int) -> int:
    time.sleep(30)
    return x


@pipeline
def chatty() -> None:
    quiet(square(load()))


@pipeline
def branches() -> None:
    value = load()
    after(shaky(value))
    square(value)


@pipeline
def sleepy() -> None:
    slow(load())
'''


def _flow(tmp_path: Path) -> Flow:
    return write_flow(tmp_path, RUNTIME_FLOW, prefix="runtime")


def _newest_id(repo: Repository) -> str:
    return repo.runs(limit=1)[0].id


# -- zen runs logs --------------------------------------------------------------------------------------


def test_runs_logs_prints_each_steps_output(zen: Zen, repo: Repository, tmp_path: Path) -> None:
    flow = _flow(tmp_path)
    assert zen("run", flow.target("chatty"), "--quiet").code == 0
    run_id = _newest_id(repo)
    logs = zen("runs", "logs", run_id)
    assert logs.code == 0, logs.err
    assert "loading the numbers" in logs.out
    assert "WARNING zenml.flow: the source is small" in logs.out
    assert "squaring 4" in logs.out
    assert logs.out.index("loading the numbers") < logs.out.index("squaring 4")  # in run order
    assert "load · " in logs.out and "square · " in logs.out
    assert "quiet · " not in logs.out  # it printed nothing: no log stored
    only_square = zen("runs", "logs", run_id[:-2], "square")  # a unique prefix works too
    assert only_square.code == 0, only_square.err
    assert "squaring 4" in only_square.out
    assert "loading the numbers" not in only_square.out


def test_runs_logs_of_a_silent_step_says_so(zen: Zen, repo: Repository, tmp_path: Path) -> None:
    flow = _flow(tmp_path)
    assert zen("run", flow.target("chatty"), "--quiet").code == 0
    silent = zen("runs", "logs", _newest_id(repo), "quiet")
    assert silent.code == 0, silent.err
    assert "No logs stored for step 'quiet'" in silent.out


def test_runs_logs_of_an_unknown_step_is_bad_input(zen: Zen, repo: Repository, tmp_path: Path) -> None:
    flow = _flow(tmp_path)
    assert zen("run", flow.target("chatty"), "--quiet").code == 0
    run_id = _newest_id(repo)
    unknown = zen("runs", "logs", run_id, "sqaure")
    assert unknown.code == 2
    assert len(unknown.error_lines) == 1
    assert f"run {run_id} has no recorded step 'sqaure'" in unknown.err
    assert "load, square, quiet" in unknown.err


def test_runs_logs_of_an_unknown_run_is_bad_input(zen: Zen, repo: Repository, tmp_path: Path) -> None:
    unknown = zen("runs", "logs", "19990101-000000-deadbeef")
    assert unknown.code == 2
    assert len(unknown.error_lines) == 1


def test_runs_logs_shows_every_attempt_with_its_traceback(zen: Zen, repo: Repository, tmp_path: Path) -> None:
    flow = _flow(tmp_path)
    Path("broken").touch()
    failed = zen("run", flow.target("branches"), "--quiet")
    assert failed.code == 1
    assert Path("shaky-attempts").read_text() == "3"  # retries=2: three attempts
    logs = zen("runs", "logs", _newest_id(repo), "shaky")
    assert logs.code == 0, logs.err
    for attempt in (1, 2, 3):
        assert f"shaky attempt {attempt}" in logs.out
        assert f"ValueError: shaky gave up on attempt {attempt}" in logs.out
        assert f"attempt{attempt}" in logs.out  # the attempt label heads each section
    assert logs.out.count("Traceback (most recent call last)") == 3


# -- zen run --on-failure ---------------------------------------------------------------------------------


def test_on_failure_continue_runs_independent_steps(zen: Zen, repo: Repository, tmp_path: Path) -> None:
    flow = _flow(tmp_path)
    Path("broken").touch()
    result = zen("run", flow.target("branches"), "--on-failure", "continue")
    assert result.code == 1
    assert "shaky" in result.err and "shaky gave up on attempt 3" in result.err
    run = repo.runs()[0]
    assert run.status == "failed"
    assert run.spec.failure_policy == "continue"
    statuses = {name: step.status for name, step in run.steps.items()}
    assert statuses == {"load": "completed", "shaky": "failed", "square": "completed", "after": "skipped"}
    assert run.steps["square"].output() == 16


def test_on_failure_stop_is_the_default(zen: Zen, repo: Repository, tmp_path: Path) -> None:
    flow = _flow(tmp_path)
    Path("broken").touch()
    assert zen("run", flow.target("branches"), "--quiet").code == 1
    run = repo.runs()[0]
    assert run.spec.failure_policy == "stop"
    statuses = {name: step.status for name, step in run.steps.items()}
    assert statuses["shaky"] == "failed"
    assert statuses["after"] == "skipped"  # never started
    explicit = zen("run", flow.target("branches"), "--quiet", "--on-failure", "stop")
    assert explicit.code == 1
    assert repo.runs()[0].spec.failure_policy == "stop"


def test_an_unknown_failure_policy_is_bad_input(zen: Zen, repo: Repository, tmp_path: Path) -> None:
    flow = _flow(tmp_path)
    before = store_state(tmp_path)
    result = zen("run", flow.target("branches"), "--on-failure", "ignore")
    assert result.code == 2
    assert result.error_lines == ["Error: failure policy 'ignore' is unknown; use one of stop, continue"]
    assert store_state(tmp_path) == before


def test_a_timed_out_step_fails_the_cli_run(zen: Zen, repo: Repository, tmp_path: Path) -> None:
    flow = _flow(tmp_path)
    result = zen("run", flow.target("sleepy"), "--quiet")
    assert result.code == 1
    assert "timed out" in result.err and "StepTimeout" in result.err
    run = repo.runs()[0]
    assert run.steps["slow"].status == "timed_out"
    shown = zen("runs", "show", run.id)
    assert shown.code == 0 and "timed_out" in shown.out


# -- zen step exec --single-attempt -----------------------------------------------------------------------


def test_step_exec_single_attempt_ignores_retries(zen: Zen, repo: Repository, tmp_path: Path) -> None:
    flow = _flow(tmp_path)
    Path("broken").touch()
    assert zen("run", flow.target("branches"), "--quiet").code == 1
    assert Path("shaky-attempts").read_text() == "3"
    run = repo.runs()[0]
    spec = run.record.spec_path
    once = zen("step", "exec", spec, "shaky", "--single-attempt")
    assert once.code == 1
    assert "shaky gave up on attempt 4" in once.err
    assert Path("shaky-attempts").read_text() == "4"
    assert len(repo.run(run.id).steps["shaky"].logs()) == 4
    retried = zen("step", "exec", spec, "shaky")
    assert retried.code == 1
    assert Path("shaky-attempts").read_text() == "7"  # without the flag: the step's own three attempts
    Path("broken").unlink()
    fixed = zen("step", "exec", spec, "shaky", "--single-attempt")
    assert fixed.code == 0, fixed.err
    assert "step shaky completed" in fixed.out
    assert repo.run(run.id).steps["shaky"].output() == 4 + 8
    assert len(repo.runs()) == 1  # still the same run
