"""Caching: the key covers code, parameters, inputs and formats; hits link earlier outputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from zenml import BaseStep, pipeline, step
from zenml.engine import run_pipeline
from zenml.pipelines.spec import StepSpec
from zenml.repository import Repository
from zenml.runtime.cache import CACHE_FORMAT_VERSION, cache_components, cache_key, uncacheable_reason, warn_uncacheable
from zenml.runtime.codehash import Fingerprint, step_fingerprint

# -- steps and pipelines ------------------------------------------------------------------------------


@step
def source(size: int = 3) -> list[int]:
    return list(range(size))


@step
def doubled(values: list[int]) -> list[int]:
    return [2 * v for v in values]


@step(enable_cache=False)
def uncached_total(values: list[int]) -> int:
    return sum(values)


class Offset(BaseStep):
    def __init__(self, offset: int = 0):
        self.offset = offset

    def process(self, values: list[int]) -> list[int]:
        return [v + self.offset for v in values]


@pipeline
def chain() -> None:
    uncached_total(doubled(source()))


@pipeline
def chain_bigger() -> None:
    uncached_total(doubled(source(size=5)))


@pipeline
def other_chain() -> None:
    Offset(offset=1)(values=doubled(source()))


@pipeline
def shifted_one() -> None:
    Offset(offset=1)(values=source())


@pipeline
def shifted_two() -> None:
    Offset(offset=2)(values=source())


# -- caching through runs -------------------------------------------------------------------------------


def _statuses(run: object) -> dict[str, str]:
    return {name: s.status for name, s in run.steps.items()}  # type: ignore[attr-defined]


def test_second_run_reuses_outputs_and_points_at_the_source(repo: Repository) -> None:
    first = run_pipeline(chain)
    second = run_pipeline(chain)
    assert _statuses(first) == {"source": "completed", "doubled": "completed", "uncached_total": "completed"}
    assert _statuses(second) == {"source": "cached", "doubled": "cached", "uncached_total": "completed"}
    for name in ("source", "doubled"):
        cached, original = second.steps[name], first.steps[name]
        assert cached.record.cached_from_id == original.record.id
        assert cached.record.cache_key == original.record.cache_key
        assert {k: a.id for k, a in cached.outputs.items()} == {k: a.id for k, a in original.outputs.items()}
    assert second.steps["doubled"].inputs["values"].id == first.steps["source"].outputs["output"].id
    assert second.steps["uncached_total"].output() == 6
    assert second.steps["uncached_total"].outputs["output"].id != first.steps["uncached_total"].outputs["output"].id
    stored_runs = {p.parent.name for p in Path(repo.stores().artifacts.storage.root).glob("*/source")}
    assert stored_runs == {first.id}, "a cache hit writes no new artifact"


def test_no_cache_run_executes_every_step(repo: Repository) -> None:
    first = run_pipeline(chain)
    again = run_pipeline(chain, enable_cache=False)
    assert set(_statuses(again).values()) == {"completed"}
    assert all(s.record.cached_from_id is None for s in again.steps.values())
    # same code, parameters and inputs: the same key, recomputed
    assert again.steps["doubled"].record.cache_key == first.steps["doubled"].record.cache_key
    again_output, first_output = again.steps["doubled"].outputs["output"], first.steps["doubled"].outputs["output"]
    assert again_output.content_hash == first_output.content_hash


def test_a_changed_parameter_misses_and_invalidates_downstream(repo: Repository) -> None:
    first = run_pipeline(chain)
    bigger = run_pipeline(chain_bigger)
    assert _statuses(bigger) == {"source": "completed", "doubled": "completed", "uncached_total": "completed"}
    assert bigger.steps["source"].record.cache_key != first.steps["source"].record.cache_key
    assert bigger.steps["uncached_total"].output() == 20
    override = run_pipeline(chain, params={"source": {"size": 5}})
    assert _statuses(override)["source"] == "cached"
    assert override.steps["source"].record.cached_from_id == bigger.steps["source"].record.id


def test_class_step_parameter_change_misses_only_that_step(repo: Repository) -> None:
    run_pipeline(shifted_one)
    two = run_pipeline(shifted_two)
    assert _statuses(two) == {"source": "cached", "offset": "completed"}
    assert two.steps["offset"].output() == [2, 3, 4]


def test_pipelines_sharing_a_step_with_the_same_inputs_share_its_cache(repo: Repository) -> None:
    first = run_pipeline(chain)
    other = run_pipeline(other_chain)
    assert other.pipeline == "other_chain"
    assert _statuses(other) == {"source": "cached", "doubled": "cached", "offset": "completed"}
    assert other.steps["doubled"].record.cached_from_id == first.steps["doubled"].record.id
    assert other.steps["offset"].output() == [1, 3, 5]


def test_backend_choice_is_not_part_of_the_key(repo: Repository) -> None:
    run_pipeline(chain)
    scaled = run_pipeline(chain, backend_options={"processing": {"workers": 2}, "training": {"device": "cpu"}})
    assert _statuses(scaled) == {"source": "cached", "doubled": "cached", "uncached_total": "completed"}


def test_deleted_cached_artifact_makes_the_step_execute_again(repo: Repository) -> None:
    first = run_pipeline(chain)
    shutil.rmtree(first.steps["source"].outputs["output"].uri)
    second = run_pipeline(chain)
    assert second.steps["source"].status == "completed"
    assert second.steps["source"].record.cached_from_id is None
    # the re-computed output has the same content, so downstream is still served from the cache
    assert second.steps["doubled"].status == "cached"
    assert second.steps["source"].output() == [0, 1, 2]
    third = run_pipeline(chain)
    assert third.steps["source"].record.cached_from_id == second.steps["source"].record.id


def test_a_failed_execution_is_never_a_cache_source(repo: Repository) -> None:
    first = run_pipeline(chain)
    store = repo.stores().metadata
    source_id = first.steps["source"].record.id
    store.fail_step(source_id, status="failed", error_type="X", error_message="marked failed")
    second = run_pipeline(chain)
    assert second.steps["source"].status == "completed"


# -- the key itself -------------------------------------------------------------------------------------


def _spec(**changes: object) -> StepSpec:
    fields: dict[str, object] = {
        "type": "flows.train",
        "params": {"lr": 0.1, "layers": [64, 32]},
        "inputs": {"data": "split.train"},
        "outputs": {"model": "json"},
    }
    fields.update(changes)
    return StepSpec(**fields)  # type: ignore[arg-type]


def _fingerprint(code: dict[str, str] | None = None, values: dict[str, str] | None = None) -> Fingerprint:
    return Fingerprint(code=code or {"flows:train": "c1"}, values=values or {"flows.LIMIT": "v1"}, unhashable={})


def _key(spec: StepSpec, code: dict[str, str] | None = None, inputs: dict[str, str] | None = None,
         source_version: str | None = None, values: dict[str, str] | None = None) -> str:
    return cache_key(cache_components(spec, _fingerprint(code, values), inputs or {"data": "blake3:1"},
                                      source_version))


def test_key_is_deterministic_and_ignores_dict_order() -> None:
    reordered = _spec(params={"layers": [64, 32], "lr": 0.1})
    assert _key(_spec()) == _key(reordered)
    assert _key(_spec()).startswith(f"v{CACHE_FORMAT_VERSION}:")
    assert _key(_spec(), code={"b": "2", "a": "1"}) == _key(_spec(), code={"a": "1", "b": "2"})
    assert _key(_spec(), values={"b": "2", "a": "1"}) == _key(_spec(), values={"a": "1", "b": "2"})


@pytest.mark.parametrize(
    "changed",
    [
        {"spec": _spec(params={"lr": 0.2, "layers": [64, 32]})},
        {"spec": _spec(params={"lr": 0.1, "layers": [32, 64]})},
        {"spec": _spec(type="flows.train2")},
        {"spec": _spec(outputs={"model": "npy"})},
        {"code": {"flows:train": "c2"}},
        {"code": {"flows:train": "c1", "flows:helper": "h"}},
        {"inputs": {"data": "blake3:2"}},
        {"source_version": "sha256:data-v2"},
        {"values": {"flows.LIMIT": "v2"}},
        {"values": {"flows.LIMIT": "v1", "settings.WEIGHTS": "w"}},
    ],
    ids=["param-value", "param-list-order", "type", "output-format", "code", "new-helper", "input", "source",
         "value", "new-value"],
)
def test_each_component_changes_the_key(changed: dict[str, object]) -> None:
    spec = changed.get("spec", _spec())
    key = _key(spec, changed.get("code"), changed.get("inputs"), changed.get("source_version"), changed.get("values"))
    assert key != _key(_spec())


def test_backends_cache_flag_and_wiring_are_not_in_the_key() -> None:
    from zenml.pipelines.spec import BackendSpec

    processing = BackendSpec(name="local", type="zenml.backends.processing.local.LocalProcessing",
                             params={"workers": 8})
    assert _key(_spec(processing=processing, enable_cache=False)) == _key(_spec())
    assert _key(_spec(inputs={"data": "other_split.train"})) == _key(_spec()), "only input content counts"
    components = cache_components(_spec(), _fingerprint(), {"data": "blake3:1"})
    assert set(components) == {"type", "code", "values", "params", "inputs", "outputs", "version"}


def test_fingerprint_of_a_step_outside_the_project_uses_its_own_source(tmp_path: Path) -> None:
    fingerprint = step_fingerprint(source, tmp_path)
    assert list(fingerprint.code) == [f"{source.func.__module__}:source"]
    assert fingerprint == step_fingerprint(source.clone().set_params(size=10), tmp_path), "params are not code"
    assert step_fingerprint(doubled, tmp_path) != fingerprint
    class_print = step_fingerprint(Offset(offset=3), tmp_path)
    assert list(class_print.code) == [f"{Offset.__module__}:Offset"]


# -- values that cannot be hashed ------------------------------------------------------------------------


def test_a_step_reading_an_unhashable_value_never_shares_a_key() -> None:
    unhashable = Fingerprint(code={"flows:train": "c1"}, values={}, unhashable={"flows.LOG": "holds a file"})
    first = cache_components(_spec(), unhashable, {"data": "blake3:1"})
    again = cache_components(_spec(), unhashable, {"data": "blake3:1"})
    assert cache_key(first) != cache_key(again), "no later execution may ever be served from this one"
    assert uncacheable_reason(first) == "flows.LOG holds a file"
    assert uncacheable_reason(cache_components(_spec(), _fingerprint(), {"data": "blake3:1"})) is None


def test_the_uncacheable_warning_is_given_once_per_value(caplog: pytest.LogCaptureFixture) -> None:
    reasons = {f"flows.LOG_{id(caplog)}": "holds a _io.TextIOWrapper that cannot be hashed (cannot pickle it)"}
    fingerprint = Fingerprint(code={}, values={}, unhashable=reasons)
    with caplog.at_level("WARNING", logger="zenml"):
        warn_uncacheable("report", fingerprint)
        warn_uncacheable("report", fingerprint)
        warn_uncacheable("summary", fingerprint)
    assert [record.getMessage() for record in caplog.records] == [
        f"step 'report' runs without the cache: it reads flows.LOG_{id(caplog)}, which holds a _io.TextIOWrapper "
        "that cannot be hashed (cannot pickle it). Pass it as a parameter or an input, or create it inside the "
        "step, to make the step cacheable (said once per value)"
    ]
