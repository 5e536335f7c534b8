"""Step runtime settings (retries, timeout, resources): validation, the run spec, the cache, and execution."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from zenml import BaseStep, pipeline, step
from zenml.engine import compile_pipeline, run_pipeline, write_spec
from zenml.exceptions import ConfigError, StepError
from zenml.pipelines import BasePipeline
from zenml.pipelines.spec import RunSpec
from zenml.repository import Repository
from zenml.runtime import Stores, execute_step
from zenml.steps.options import ResourcesSpec, RuntimeSpec, parse_memory, runtime_from

GIB = 2**30

# -- steps and pipelines (module level, so they can be rebuilt from the spec) -------------------------


@step
def numbers(count: int = 3) -> list[int]:
    return list(range(count))


@step
def total(values: list[int]) -> int:
    return sum(values)


class Offset(BaseStep):
    def __init__(self, by: int = 1):
        self.by = by

    def process(self, x: int) -> int:
        return x + self.by


def _attempts_so_far(counter: str) -> int:
    """Count this attempt in a file of the working directory (the test's repository)."""
    path = Path(counter)
    done = int(path.read_text()) if path.exists() else 0
    path.write_text(str(done + 1))
    return done + 1


@step(retries=2, retry_delay=0.01)
def flaky(succeed_on: int = 3) -> int:
    attempt = _attempts_so_far("flaky-attempts")
    print(f"flaky attempt {attempt} begins")
    if attempt < succeed_on:
        raise ValueError(f"transient failure on attempt {attempt}")
    return attempt


@step(retries=1, retry_delay=0.0)
def hopeless() -> int:
    attempt = _attempts_so_far("hopeless-attempts")
    print(f"hopeless attempt {attempt}")
    raise RuntimeError(f"always broken (attempt {attempt})")


@step(timeout=0.3)
def sleeper() -> int:
    print("about to sleep for a long time")
    time.sleep(30)
    return 0


@step(timeout=0.3, retries=1)
def sleeps_then_recovers() -> int:
    attempt = _attempts_so_far("sleep-attempts")
    if attempt == 1:
        time.sleep(30)
    return attempt


@step(timeout=0.3)
def stubborn() -> int:
    began = time.monotonic()
    while time.monotonic() - began < 30:
        try:
            time.sleep(30)
        except Exception:  # noqa: BLE001,S112 -- a step that tries to swallow everything
            continue
    return 0


@step(timeout=5)
def quick() -> int:
    return 7


@pipeline
def flaky_flow() -> None:
    flaky()


@pipeline
def hopeless_flow() -> None:
    hopeless()


@pipeline
def sleepy_flow() -> None:
    Offset()(x=sleeper())


@pipeline
def recovering_flow() -> None:
    sleeps_then_recovers()


@pipeline
def stubborn_flow() -> None:
    stubborn()


@pipeline
def quick_flow() -> None:
    quick()


@pipeline
def configured_flow() -> None:
    values = numbers.configure(retries=2, retry_delay=0.5, retry_backoff=2, timeout=30)()
    total.configure(resources={"cpu": 1, "memory": "1GiB"})(values)
    Offset(by=2).configure(name="offset", timeout=12.5, resources={"gpu": 0})(x=total(numbers()))


def _summing(name: str, **runtime: object) -> BasePipeline:
    """The same two steps under the same pipeline name, with ``runtime`` settings on both."""
    return (
        BasePipeline(name)
        .add_step("numbers", numbers.configure(**runtime))  # type: ignore[arg-type]
        .add_step("total", total.configure(**runtime), inputs={"values": "numbers"})  # type: ignore[arg-type]
    )


# -- validation -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"timeout": 0}, r"invalid runtime setting 'timeout': Input should be greater than 0"),
        ({"timeout": -1.5}, r"invalid runtime setting 'timeout': Input should be greater than 0"),
        ({"retries": -1}, r"invalid runtime setting 'retries': Input should be greater than or equal to 0"),
        ({"retry_delay": -0.1}, r"invalid runtime setting 'retry_delay': .*greater than or equal to 0"),
        ({"retry_backoff": 0.5}, r"invalid runtime setting 'retry_backoff': .*greater than or equal to 1"),
        ({"resources": {"tpu": 1}}, r"resource 'tpu' is unknown; use cpu, memory, gpu"),
        ({"resources": {"memory": "lots"}}, r"memory must be a size such as '4GiB'.*got 'lots'"),
        ({"resources": {"memory": "4 parsecs"}}, r"memory must be a size"),
        ({"resources": {"memory": -5}}, r"memory must be a positive size, got -5"),
        ({"resources": {"cpu": 0}}, r"invalid runtime setting 'resources.cpu': Input should be greater than 0"),
        ({"resources": {"gpu": -1}}, r"invalid runtime setting 'resources.gpu'"),
    ],
)
def test_configure_refuses_bad_runtime_settings(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        numbers.configure(**settings)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=message):
        step(**settings)(lambda: 1)  # type: ignore[call-overload]
    with pytest.raises(ConfigError, match=message):
        Offset().configure(**settings)  # type: ignore[arg-type]


def test_runtime_from_names_what_it_validates() -> None:
    with pytest.raises(ConfigError, match=r"^step 'fit': invalid runtime setting 'timeout'"):
        runtime_from({"timeout": 0}, "step 'fit'")
    with pytest.raises(ConfigError, match=r"^step 'fit': invalid runtime setting 'resources': resource 'tpu'"):
        runtime_from({"resources": {"tpu": 1}}, "step 'fit'")


def test_step_decorator_refuses_an_unknown_setting() -> None:
    with pytest.raises(ConfigError, match=r"@step got unknown setting 'retry'; use name, enable_cache or one of"):

        @step(retry=3)  # type: ignore[call-overload]
        def typo() -> int:
            return 1


def test_settings_are_kept_and_merged_by_configure() -> None:
    first = numbers.configure(retries=2, timeout=10)
    second = first.configure(resources={"cpu": 2})
    assert second.options.runtime == RuntimeSpec(retries=2, timeout=10, resources=ResourcesSpec(cpu=2))
    assert numbers.options.runtime == RuntimeSpec()  # the original step is unchanged
    assert first.options.runtime.resources == ResourcesSpec()
    assert flaky.options.runtime.retries == 2 and flaky.options.runtime.retry_delay == 0.01


def test_resources_are_normalised() -> None:
    resources = ResourcesSpec.model_validate({"cpu": 1.5, "memory": "4GiB", "gpu": 0})
    assert (resources.cpu, resources.memory, resources.gpu) == (1.5, 4 * GIB, 0)
    assert resources.requested() == {"cpu": 1.5, "memory": float(4 * GIB)}  # gpu 0 asks for nothing
    assert ResourcesSpec().requested() == {}


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ("4GiB", 4 * GIB),
        ("4gib", 4 * GIB),
        ("2Gi", 2 * GIB),
        ("512MB", 512 * 10**6),
        ("512MiB", 512 * 2**20),
        ("1.5 GB", 1_500_000_000),
        ("1KB", 1000),
        ("1KiB", 1024),
        ("1TiB", 2**40),
        ("10k", 10_000),
        ("100B", 100),
        ("100", 100),
        (2048, 2048),
        (2e9, 2_000_000_000),
    ],
)
def test_parse_memory_units(value: int | float | str, size: int) -> None:
    assert parse_memory(value) == size


@pytest.mark.parametrize("value", ["", "GiB", "4 XB", "four GiB", "-1GiB", 0, -1, float("nan"), float("inf"), True])
def test_parse_memory_refuses_what_is_not_a_positive_size(value: object) -> None:
    with pytest.raises(ValueError, match="memory must be"):
        parse_memory(value)  # type: ignore[arg-type]


def test_retry_delays_grow_by_the_backoff() -> None:
    runtime = RuntimeSpec(retries=3, retry_delay=0.5, retry_backoff=3)
    assert [runtime.delay_before(attempt) for attempt in (2, 3, 4)] == [0.5, 1.5, 4.5]
    assert RuntimeSpec(retries=3).delay_before(3) == 0.0


# -- the run spec and the cache ---------------------------------------------------------------------------


def test_settings_appear_in_the_run_spec(repo: Repository) -> None:
    run = run_pipeline(configured_flow, repository=repo)
    assert run.status == "completed"
    steps = run.spec.steps
    assert steps["numbers"].runtime == RuntimeSpec(retries=2, retry_delay=0.5, retry_backoff=2, timeout=30)
    assert steps["total"].runtime.resources == ResourcesSpec(cpu=1, memory=GIB)
    assert steps["total"].runtime.retries == 0 and steps["total"].runtime.timeout is None
    assert steps["offset"].runtime.timeout == 12.5 and steps["offset"].runtime.resources.gpu == 0
    assert steps["numbers_2"].runtime == RuntimeSpec()  # the unconfigured use of the same step


def test_the_spec_yaml_round_trips_the_settings(repo: Repository) -> None:
    spec, _, _ = compile_pipeline(configured_flow, repository=repo)
    text = spec.to_yaml()
    assert "retry_backoff: 2.0" in text and f"memory: {GIB}" in text
    again = RunSpec.from_yaml(text)
    assert again == spec
    assert again.steps["total"].runtime.resources.memory == GIB
    written = write_spec(spec, repo)
    assert RunSpec.from_yaml(written.read_text(), str(written)).steps["numbers"].runtime.retries == 2


def test_a_spec_with_a_bad_runtime_setting_is_refused(repo: Repository) -> None:
    spec, _, _ = compile_pipeline(configured_flow, repository=repo)
    text = spec.to_yaml().replace("timeout: 30.0", "timeout: -1")
    assert "timeout: -1" in text
    with pytest.raises(ConfigError, match="timeout"):
        RunSpec.from_yaml(text, "edited.yaml")


def test_changing_runtime_settings_keeps_the_cache(repo: Repository) -> None:
    first = run_pipeline(_summing("summing"), repository=repo)
    assert {s.status for s in first.steps.values()} == {"completed"}
    changed = _summing("summing", retries=3, retry_delay=1.0, timeout=60, resources={"cpu": 1, "memory": "1MiB"})
    second = run_pipeline(changed, repository=repo)
    assert {name: s.status for name, s in second.steps.items()} == {"numbers": "cached", "total": "cached"}
    assert second.steps["total"].output() == 3
    assert second.spec.steps["numbers"].runtime.retries == 3
    first_keys = {r.name: r.cache_key for r in repo.stores().metadata.step_runs(first.id)}
    second_keys = {r.name: r.cache_key for r in repo.stores().metadata.step_runs(second.id)}
    assert first_keys == second_keys
    components = repo.stores().metadata.step_runs(second.id)[0].cache_components
    assert "runtime" not in components and "retries" not in str(components)


# -- execution: retries and timeouts ----------------------------------------------------------------------


def test_a_flaky_step_is_retried_and_each_attempt_keeps_its_log(repo: Repository) -> None:
    run = run_pipeline(flaky_flow, repository=repo)
    assert run.status == "completed"
    view = run.steps["flaky"]
    assert view.status == "completed" and view.output() == 3
    assert len(repo.stores().metadata.step_runs(run.id)) == 1  # one record, its last attempt
    logs = view.logs()
    assert [label.rsplit("-", 1)[1] for label, _ in logs] == ["attempt1", "attempt2", "attempt3"]
    for number, (_, text) in enumerate(logs[:2], start=1):
        assert f"flaky attempt {number} begins" in text
        assert "Traceback (most recent call last)" in text
        assert f"ValueError: transient failure on attempt {number}" in text
    assert "flaky attempt 3 begins" in logs[2][1]
    assert "Traceback" not in logs[2][1]


def test_a_step_failing_every_attempt_fails_with_the_last_error(repo: Repository) -> None:
    with pytest.raises(StepError, match=r"always broken \(attempt 2\)") as info:
        run_pipeline(hopeless_flow, repository=repo)
    assert info.value.status == "failed" and info.value.error_type == "RuntimeError"
    run = repo.run(info.value.run_id)  # type: ignore[attr-defined]
    assert run.status == "failed"
    assert run.steps["hopeless"].status == "failed"
    assert Path("hopeless-attempts").read_text() == "2"
    texts = [text for _, text in run.steps["hopeless"].logs()]
    assert len(texts) == 2
    assert "RuntimeError: always broken (attempt 1)" in texts[0]
    assert "RuntimeError: always broken (attempt 2)" in texts[1]


def test_single_attempt_ignores_retries(repo: Repository) -> None:
    spec, _, stack = compile_pipeline(flaky_flow, repository=repo)
    stores: Stores = repo.stores(stack)
    path = write_spec(spec, repo)
    stores.metadata.create_run(
        run_id=spec.run_id, pipeline=spec.pipeline.name, spec_path=str(path), spec_sha256=spec.sha256(),
        orchestrator="local", created_at=spec.created_at.timestamp(), git=None,
    )  # fmt: skip
    with pytest.raises(StepError, match="transient failure on attempt 1") as info:
        execute_step(spec, "flaky", stores, single_attempt=True)
    assert info.value.status == "failed"
    assert Path("flaky-attempts").read_text() == "1"
    [record] = stores.metadata.step_runs(spec.run_id)
    assert record.status == "failed" and record.error_type == "ValueError"
    assert len(repo.run(spec.run_id).steps["flaky"].logs()) == 1
    # without single_attempt the same spec retries: attempts 2 fails, 3 succeeds
    assert execute_step(spec, "flaky", stores).status == "completed"
    assert Path("flaky-attempts").read_text() == "3"


def test_a_step_past_its_timeout_is_stopped_and_recorded_timed_out(repo: Repository) -> None:
    began = time.monotonic()
    with pytest.raises(StepError) as info:
        run_pipeline(sleepy_flow, repository=repo)
    assert time.monotonic() - began < 15  # a 0.3 s timeout stopped a 30 s sleep
    error = info.value
    assert (error.step, error.status, error.error_type) == ("sleeper", "timed_out", "StepTimeout")
    assert "timeout of 0.3 s" in error.error_message
    run = repo.run(error.run_id)  # type: ignore[attr-defined]
    assert run.status == "failed"
    assert run.record.error_type == "StepTimeout"
    assert {name: s.status for name, s in run.steps.items()} == {"sleeper": "timed_out", "offset": "skipped"}
    record = run.steps["sleeper"].record
    assert record.error_type == "StepTimeout" and record.duration is not None and record.duration < 10
    [(_, text)] = run.steps["sleeper"].logs()
    assert "about to sleep for a long time" in text and "StepTimeout" in text


def test_a_timed_out_attempt_is_retried(repo: Repository) -> None:
    run = run_pipeline(recovering_flow, repository=repo)
    assert run.status == "completed"
    assert run.steps["sleeps_then_recovers"].output() == 2
    texts = [text for _, text in run.steps["sleeps_then_recovers"].logs()]
    assert len(texts) == 1 and "StepTimeout" in texts[0]  # the successful attempt printed nothing


def test_a_step_catching_exception_cannot_outlive_its_timeout(repo: Repository) -> None:
    began = time.monotonic()
    with pytest.raises(StepError) as info:
        run_pipeline(stubborn_flow, repository=repo)
    assert time.monotonic() - began < 15
    assert info.value.status == "timed_out"


def test_a_step_finishing_within_its_timeout_completes(repo: Repository) -> None:
    run = run_pipeline(quick_flow, repository=repo)
    assert run.steps["quick"].status == "completed" and run.steps["quick"].output() == 7
    time.sleep(0.2)  # nothing is left armed
    import signal

    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0


# -- the failure policy -----------------------------------------------------------------------------------


def test_failure_policy_continue_runs_independent_steps(repo: Repository) -> None:
    flow = (
        BasePipeline("half_broken")
        .add_step("hopeless", hopeless.configure(retries=0))
        .add_step("after", Offset(by=1), inputs={"x": "hopeless"})
        .add_step("numbers", numbers)
        .add_step("total", total, inputs={"values": "numbers"})
    )
    with pytest.raises(StepError, match="always broken") as info:
        run_pipeline(flow, repository=repo, failure_policy="continue")
    run = repo.run(info.value.run_id)  # type: ignore[attr-defined]
    assert run.spec.failure_policy == "continue"
    assert run.status == "failed"
    statuses = {name: s.status for name, s in run.steps.items()}
    assert statuses == {"hopeless": "failed", "numbers": "completed", "total": "completed", "after": "skipped"}
    assert run.steps["total"].output() == 3


def test_failure_policy_stop_runs_nothing_after_the_failure(repo: Repository) -> None:
    flow = (
        BasePipeline("half_broken")
        .add_step("hopeless", hopeless.configure(retries=0))
        .add_step("numbers", numbers)
        .add_step("total", total, inputs={"values": "numbers"})
    )
    with pytest.raises(StepError) as info:
        run_pipeline(flow, repository=repo)
    run = repo.run(info.value.run_id)  # type: ignore[attr-defined]
    assert run.spec.failure_policy == "stop"
    assert {name: s.status for name, s in run.steps.items()} == {
        "hopeless": "failed",
        "numbers": "skipped",
        "total": "skipped",
    }


def test_an_unknown_failure_policy_is_refused_before_recording(repo: Repository) -> None:
    with pytest.raises(ConfigError, match=r"failure policy 'retry' is unknown; use one of stop, continue"):
        run_pipeline(quick_flow, repository=repo, failure_policy="retry")
    assert repo.stores().metadata.runs() == []


def test_errors_name_a_function_step_by_its_function() -> None:
    with pytest.raises(ConfigError, match="step 'fit_model': invalid runtime setting 'timeout'"):

        @step(timeout=0)
        def fit_model() -> int:
            return 1


@pytest.mark.parametrize("timeout", [float("inf"), 1e12])
def test_a_timeout_the_os_timers_cannot_hold_is_refused(timeout: float) -> None:
    with pytest.raises(ConfigError, match="invalid runtime setting 'timeout'"):
        runtime_from({"timeout": timeout}, "step 'x'")


def test_retries_must_be_a_real_integer() -> None:
    with pytest.raises(ConfigError, match="invalid runtime setting 'retries'"):
        runtime_from({"retries": True}, "step 'x'")


def test_memory_below_one_byte_is_refused_and_scientific_strings_are_read() -> None:
    with pytest.raises(ValueError, match="positive size"):
        parse_memory("0.5")
    assert parse_memory("2e9") == 2_000_000_000
