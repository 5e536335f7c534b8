"""The orchestrator conformance checks: every orchestrator must pass them (like ``check_step``).

Each check takes an orchestrator (a registry name such as ``"parallel"`` or a configured object
such as ``DaskOrchestrator(n_workers=2)``) and a fresh ``Repository`` whose stores other processes
can open (a folder artifact store and a database file or server). The steps and pipelines the
checks run are defined here, at module level, so worker processes import them by module name.

Examples:
    >>> @parametrize_orchestrator_checks(["local", "parallel"])  # doctest: +SKIP
    ... def test_conformance(orchestrator, check, repo):
    ...     check(orchestrator, repo)
"""

from __future__ import annotations

import logging
import os
import signal
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from zenml.backends.base import BaseBackend
from zenml.engine import resume_run, run_pipeline
from zenml.exceptions import ConfigError, StepError
from zenml.history.runs import PipelineRun
from zenml.pipelines.decorator import pipeline
from zenml.registry import resolve_backend
from zenml.repository import Repository
from zenml.steps.function import step
from zenml.utils.importing import import_object
from zenml.utils.status import RunStatus, StepStatus

Orchestrator = str | BaseBackend
OrchestratorCheck = Callable[[Orchestrator, Repository], None]


@step
def seed(value: int = 3) -> int:
    """The source of every check pipeline."""
    return value


@step
def add(x: int, amount: int = 1) -> int:
    """A branch: ``x + amount``."""
    return x + amount


@step
def join(a: int, b: int) -> int:
    """Fan in two branches."""
    return a + b


@step
def total(a: int, b: int, c: int, d: int) -> list[int]:
    """Fan in four branches (a list, so the artifact has some structure to hash)."""
    return [a, b, c, d, a + b + c + d]


@step
def explode(x: int) -> int:
    """Always fails."""
    raise RuntimeError(f"exploded on {x}")


@step
def gate(x: int, release_file: str = "") -> int:
    """Fails until ``release_file`` exists (a failure that a resumed run gets past)."""
    if release_file and not Path(release_file).exists():
        raise RuntimeError(f"the gate is closed until {release_file} exists")
    return x * 10


@step
def flaky(x: int, marker_dir: str = "", failures: int = 1) -> int:
    """Fails its first ``failures`` attempts (counted in files, so across worker processes too)."""
    folder = Path(marker_dir)
    attempt = len(list(folder.glob("attempt-*"))) + 1
    (folder / f"attempt-{attempt}").touch()
    print(f"flaky attempt {attempt}")
    if attempt <= failures:
        raise RuntimeError(f"flaky attempt {attempt} fails on purpose")
    return x + attempt


@step
def sleeper(x: int, seconds: float = 60.0) -> int:
    """Sleeps (in short naps, so every way of stopping a thread can reach it), then passes ``x`` on."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.05)
    return x


@step
def blocked(x: int, seconds: float = 60.0) -> int:
    """Sleeps in one C call (``time.sleep``): a thread is only reached again when it returns."""
    time.sleep(seconds)
    return x


@step
def perish(x: int, release_file: str = "", signum: int = 0) -> int:
    """Ends its own process (``os._exit(3)``, or signal ``signum``) until ``release_file`` exists."""
    if release_file and Path(release_file).exists():
        return x * 10
    if signum:
        os.kill(os.getpid(), signum)
    os._exit(3)


@step
def chatty(x: int, marker: str = "hello") -> int:
    """Prints and logs ``marker``."""
    print(f"printed {marker}")
    logging.getLogger("zenml.testing").warning("logged %s", marker)
    return x


@pipeline
def diamond_flow() -> None:
    """A diamond: seed → (left, right) → join."""
    value = seed()
    join(a=add.configure(name="left")(value, amount=10), b=add.configure(name="right")(value, amount=100))


@pipeline
def fan_flow() -> None:
    """Fan-out and fan-in: seed → four branches → total."""
    value = seed()
    branches = [add.configure(name=f"branch_{i}")(value, amount=i) for i in range(4)]
    total(a=branches[0], b=branches[1], c=branches[2], d=branches[3])


@pipeline
def broken_flow() -> None:
    """A diamond whose ``explode`` branch fails."""
    value = seed()
    join(a=explode(value), b=add.configure(name="right")(value, amount=100))


@pipeline
def gated_flow() -> None:
    """A chain seed → before → gate → after; ``gate`` fails until its release file exists."""
    add.configure(name="after")(gate(add.configure(name="before")(seed())), amount=1)


@pipeline
def retry_flow() -> None:
    """A seed, a flaky step with retries, then a chatty one."""
    chatty(flaky.configure(retries=2, retry_delay=0.2, retry_backoff=2.0)(seed()))


@pipeline
def timeout_flow() -> None:
    """A seed, a sleeper with a 1 s timeout, then add."""
    add(sleeper.configure(timeout=1.0)(seed()))


@pipeline
def blocked_flow() -> None:
    """A seed, a step blocked in a C call with a 1 s timeout, then add."""
    add(blocked.configure(timeout=1.0)(seed()))


@pipeline
def perilous_flow() -> None:
    """A diamond whose ``perish`` branch kills its own process."""
    value = seed()
    join(a=perish(value), b=add.configure(name="right")(value, amount=100))


def _statuses(run: PipelineRun) -> dict[str, str]:
    """Every step's status; a step the run never started is ``skipped`` (``run.steps`` lists it so)."""
    return {name: view.status for name, view in run.steps.items()}


def check_dag_order(orchestrator: Orchestrator, repository: Repository) -> None:
    """A diamond completes, and no step starts before the steps it reads from have ended."""
    run = run_pipeline(diamond_flow, orchestrator=orchestrator, repository=repository, enable_cache=False)
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.steps["join"].output() == 3 + 10 + 3 + 100
    records = {r.name: r for r in repository.stores().metadata.step_runs(run.id)}
    for name, step_spec in run.spec.steps.items():
        for source in step_spec.upstream():
            began, ended = records[name].started_at, records[source].ended_at
            assert began is not None and ended is not None and began >= ended - 0.01, (
                f"step '{name}' started before its upstream '{source}' ended"
            )


def check_fan_out_fan_in(orchestrator: Orchestrator, repository: Repository) -> None:
    """Four independent branches and the step that joins them all produce the right results."""
    run = run_pipeline(fan_flow, orchestrator=orchestrator, repository=repository, enable_cache=False)
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.steps["total"].output() == [3, 4, 5, 6, 18]
    assert set(_statuses(run).values()) == {StepStatus.COMPLETED}


def check_failing_step(orchestrator: Orchestrator, repository: Repository) -> None:
    """A failing step raises its StepError, is recorded failed, and its dependents never start."""
    try:
        run_pipeline(broken_flow, orchestrator=orchestrator, repository=repository, enable_cache=False)
    except StepError as error:
        assert error.step == "explode" and error.error_type == "RuntimeError", error
        run_id = error.run_id
        assert run_id is not None, error
    else:
        raise AssertionError("a run with a failing step did not raise StepError")
    run = repository.run(run_id)
    assert run.status == RunStatus.FAILED
    statuses = _statuses(run)
    assert statuses["explode"] == StepStatus.FAILED
    assert statuses["join"] == StepStatus.SKIPPED, "a step whose input failed was started"


def check_continue_after_failure(orchestrator: Orchestrator, repository: Repository) -> None:
    """With the failure policy ``continue`` a branch independent of the failure still completes."""
    try:
        run_pipeline(
            broken_flow, orchestrator=orchestrator, repository=repository, enable_cache=False, failure_policy="continue"
        )
    except StepError as error:
        run_id = error.run_id
        assert run_id is not None, error
    else:
        raise AssertionError("a run with a failing step did not raise StepError")
    run = repository.run(run_id)
    statuses = _statuses(run)
    assert run.status == RunStatus.FAILED and run.spec.failure_policy == "continue"
    assert statuses["explode"] == StepStatus.FAILED and statuses["right"] == StepStatus.COMPLETED, statuses
    assert statuses["join"] == StepStatus.SKIPPED, "a step whose input failed was started"


def check_retries(orchestrator: Orchestrator, repository: Repository) -> None:
    """A step that fails once and has retries left completes on its second attempt; both are logged."""
    markers = tempfile.mkdtemp(prefix="zenml-retries-")
    params = {"flaky": {"marker_dir": markers}}
    run = run_pipeline(retry_flow, orchestrator=orchestrator, repository=repository, params=params, enable_cache=False)
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.steps["flaky"].output() == 3 + 2
    assert len(list(Path(markers).glob("attempt-*"))) == 2
    attempts = run.steps["flaky"].logs()
    assert len(attempts) == 2, [name for name, _ in attempts]
    assert "flaky attempt 1 fails on purpose" in attempts[0][1] and "flaky attempt 2" in attempts[1][1]


def check_timeout(orchestrator: Orchestrator, repository: Repository) -> None:
    """A step running past its timeout is stopped and recorded ``timed_out``; its dependents never start."""
    started = time.monotonic()
    try:
        run_pipeline(timeout_flow, orchestrator=orchestrator, repository=repository, enable_cache=False)
    except StepError as error:
        assert error.step == "sleeper" and error.error_type == "StepTimeout", error
        run_id = error.run_id
        assert run_id is not None, error
    else:
        raise AssertionError("a step sleeping 60 s with a 1 s timeout was not stopped")
    assert time.monotonic() - started < 50, "the step was not stopped at its timeout"
    statuses = _statuses(repository.run(run_id))
    assert statuses["sleeper"] == StepStatus.TIMED_OUT and statuses["add"] == StepStatus.SKIPPED, statuses


def check_timeout_in_c_call(orchestrator: Orchestrator, repository: Repository) -> None:
    """A step blocked in one long C call is stopped at its timeout too (recorded ``timed_out``), not when it returns."""
    started = time.monotonic()
    try:
        run_pipeline(blocked_flow, orchestrator=orchestrator, repository=repository, enable_cache=False)
    except StepError as error:
        assert error.step == "blocked" and error.status == StepStatus.TIMED_OUT, error
        assert error.run_id is not None, "the engine names the run of a failed step"
        run_id: str = error.run_id
    else:
        raise AssertionError("a step blocked in time.sleep(60) with a 1 s timeout was not stopped")
    assert time.monotonic() - started < 40, "the step was stopped only when its C call returned"
    statuses = _statuses(repository.run(run_id))
    assert statuses["blocked"] == StepStatus.TIMED_OUT and statuses["add"] == StepStatus.SKIPPED, statuses


def check_worker_death(orchestrator: Orchestrator, repository: Repository) -> None:
    """A step whose process is killed is recorded failed; its independent branch completes, then resume finishes.

    Under the failure policy ``continue`` the branch that does not depend on the dead step completes
    and its dependents never start; ``resume_run`` finishes the run once the step stops dying.
    """
    release = Path(tempfile.mkdtemp(prefix="zenml-death-")) / "open"
    params = {"perish": {"release_file": str(release), "signum": int(signal.SIGKILL)}}
    try:
        run_pipeline(
            perilous_flow,
            orchestrator=orchestrator,
            repository=repository,
            params=params,
            enable_cache=False,
            failure_policy="continue",
        )
    except StepError as error:
        assert error.step == "perish" and error.status == StepStatus.FAILED, error
        assert error.run_id is not None, "the engine names the run of a failed step"
        run_id: str = error.run_id
    else:
        raise AssertionError("a run whose step killed its own process did not raise StepError")
    run = repository.run(run_id)
    statuses = _statuses(run)
    assert run.status == RunStatus.FAILED, run.status
    assert statuses["perish"] == StepStatus.FAILED and statuses["right"] == StepStatus.COMPLETED, statuses
    assert statuses["join"] == StepStatus.SKIPPED, "a step whose input died was started"
    release.touch()
    resumed = resume_run(run_id, repository=repository, enable_cache=False)
    assert resumed.status == RunStatus.COMPLETED, resumed.error
    assert resumed.steps["join"].output() == 3 * 10 + 3 + 100


def check_logs(orchestrator: Orchestrator, repository: Repository) -> None:
    """What a step prints and logs is stored and readable, whichever process ran it."""
    markers = tempfile.mkdtemp(prefix="zenml-logs-")
    params: dict[str, dict[str, Any]] = {
        "flaky": {"marker_dir": markers, "failures": 0},
        "chatty": {"marker": "marker-4c1d"},
    }
    run = run_pipeline(retry_flow, orchestrator=orchestrator, repository=repository, params=params, enable_cache=False)
    (_, text), *_ = run.steps["chatty"].logs()
    assert "printed marker-4c1d" in text and "logged marker-4c1d" in text, text


def check_cache_from_local_run(orchestrator: Orchestrator, repository: Repository) -> None:
    """A run on this orchestrator reuses the cache of a run made by ``local``: every step is cached."""
    first = run_pipeline(diamond_flow, orchestrator="local", repository=repository)
    second = run_pipeline(diamond_flow, orchestrator=orchestrator, repository=repository)
    assert set(_statuses(second).values()) == {StepStatus.CACHED}, _statuses(second)
    assert second.steps["join"].output() == first.steps["join"].output()


def check_resume_after_failure(orchestrator: Orchestrator, repository: Repository) -> None:
    """Resuming a failed run redoes only the steps that did not finish."""
    release = Path(tempfile.mkdtemp(prefix="zenml-gate-")) / "open"
    params = {"gate": {"release_file": str(release)}}
    try:
        run_pipeline(gated_flow, orchestrator=orchestrator, repository=repository, params=params, enable_cache=False)
    except StepError as error:
        assert error.step == "gate", error
        run_id = error.run_id
        assert run_id is not None, error
    else:
        raise AssertionError("the gated run did not fail")
    before = {r.name: r.id for r in repository.stores().metadata.step_runs(run_id) if r.status == StepStatus.COMPLETED}
    assert set(before) == {"seed", "before"}, before
    release.touch()
    run = resume_run(run_id, repository=repository, enable_cache=False)
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.steps["after"].output() == (3 + 1) * 10 + 1
    kept = {r.name: r.id for r in repository.stores().metadata.step_runs(run_id) if r.name in before}
    assert kept == before, "steps that completed before the failure were run again"


def check_artifacts_match_local(orchestrator: Orchestrator, repository: Repository) -> None:
    """Every output has the same content hash as the ``local`` orchestrator's."""

    def hashes(run: PipelineRun) -> dict[tuple[str, str], str]:
        return {(s, o): a.content_hash for s, view in run.steps.items() for o, a in view.outputs.items()}

    local = run_pipeline(fan_flow, orchestrator="local", repository=repository, enable_cache=False)
    other = run_pipeline(fan_flow, orchestrator=orchestrator, repository=repository, enable_cache=False)
    assert hashes(other) == hashes(local)


ORCHESTRATOR_CHECKS: tuple[OrchestratorCheck, ...] = (
    check_dag_order,
    check_fan_out_fan_in,
    check_failing_step,
    check_continue_after_failure,
    check_retries,
    check_timeout,
    check_timeout_in_c_call,
    check_logs,
    check_cache_from_local_run,
    check_resume_after_failure,
    check_artifacts_match_local,
)


#: Checks for orchestrators that run steps in other processes (``isolates_steps``).
ISOLATION_CHECKS: tuple[OrchestratorCheck, ...] = (check_worker_death,)


def checks_for(orchestrator: Orchestrator) -> tuple[OrchestratorCheck, ...]:
    """The conformance checks that apply to ``orchestrator``."""
    if isinstance(orchestrator, str):
        cls = import_object(resolve_backend("orchestrator", orchestrator))
    else:
        cls = type(orchestrator)
    return ORCHESTRATOR_CHECKS + (ISOLATION_CHECKS if getattr(cls, "isolates_steps", True) else ())


def check_orchestrator(orchestrator: Orchestrator, repository: Repository) -> None:
    """Run every conformance check that applies to ``orchestrator`` in ``repository``."""
    for check in checks_for(orchestrator):
        check(orchestrator, repository)


def parametrize_orchestrator_checks(orchestrators: Sequence[Any]) -> Any:
    """A ``pytest.mark.parametrize`` over (orchestrator, check); entries may be ``pytest.param``s."""
    try:
        import pytest
    except ImportError as exc:
        raise ConfigError("parametrize_orchestrator_checks needs pytest: pip install 'zenml[testing]'") from exc

    pairs = []
    for entry in orchestrators:
        is_param = isinstance(entry, type(pytest.param()))
        values, marks = (entry.values[0], entry.marks) if is_param else (entry, ())
        label = values if isinstance(values, str) else type(values).__name__
        pairs += [
            pytest.param(values, check, marks=marks, id=f"{label}-{check.__name__}") for check in checks_for(values)
        ]
    return pytest.mark.parametrize(("orchestrator", "check"), pairs)
