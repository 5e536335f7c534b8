"""``plan``: say, per step, whether a run would execute it or serve it from the cache, and why.

For a miss, the reason compares the step's cache-key components with the closest earlier
execution (same step name in the same pipeline, else the same step type): which function's code,
which project value (``settings.WEIGHTS``), which parameter, which input, which output format changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zenml.metadata.records import ArtifactRecord, StepRunRecord
from zenml.pipelines.spec import RunSpec, parse_reference
from zenml.runtime.cache import cache_components, cache_key, uncacheable_reason
from zenml.runtime.codehash import step_fingerprint
from zenml.runtime.data import short_version, snapshot
from zenml.runtime.executor import resolve_inputs, trainer_signature
from zenml.runtime.loading import add_code_paths, load_step
from zenml.runtime.reuse import damaged_output
from zenml.runtime.stores import Stores
from zenml.utils.status import StepStatus

_SHORT = 12


@dataclass(frozen=True)
class StepPlan:
    """What would happen to one step.

    Attributes:
        name: the step.
        action: ``run`` or ``cached``.
        reason: why (for ``cached``, where the outputs come from).
        cache_key: the step's cache key, when its inputs are already known.
    """

    name: str
    action: str
    reason: str
    cache_key: str | None = None


def plan_spec(spec: RunSpec, stores: Stores, *, use_cache: bool = True) -> list[StepPlan]:
    """Plan every step of ``spec`` in order, without running or recording anything."""
    add_code_paths(spec, stores.project_root)
    known: dict[str, dict[str, ArtifactRecord]] = {}  # step → outputs it would have, if cached
    plans: list[StepPlan] = []
    for name, step_spec in spec.steps.items():
        plan, outputs = _plan_step(spec, name, stores, known, use_cache)
        plans.append(plan)
        if outputs is not None:
            known[name] = outputs
        _ = step_spec
    return plans


def _plan_step(
    spec: RunSpec, name: str, stores: Stores, known: dict[str, dict[str, ArtifactRecord]], use_cache: bool
) -> tuple[StepPlan, dict[str, ArtifactRecord] | None]:
    step_spec = spec.steps[name]
    pin = spec.data_from.get(name)
    if pin is not None:  # served from the snapshot whatever the cache holds; a gone snapshot fails here
        read = snapshot(stores, pin, name, list(step_spec.outputs))
        reason = f"pinned to data version {short_version(pin.version)} (run {pin.run}); the source is not read"
        return StepPlan(name, StepStatus.CACHED, reason), read.outputs
    waiting = [
        step
        for run_id, step, _ in map(parse_reference, step_spec.inputs.values())
        if run_id is None and step not in known
    ]
    if waiting:
        return StepPlan(name, "run", f"upstream step '{waiting[0]}' will run, so its outputs are not known yet"), None
    own = {inp: ref for inp, ref in step_spec.inputs.items() if parse_reference(ref)[0] is None}
    external = {inp: ref for inp, ref in step_spec.inputs.items() if inp not in own}
    input_hashes = {
        inp: known[parse_reference(ref)[1]][parse_reference(ref)[2]].content_hash for inp, ref in own.items()
    }
    if external:
        records = resolve_inputs(spec, name, step_spec.model_copy(update={"inputs": external}), stores)
        input_hashes.update({inp: record.content_hash for inp, record in records.items()})
    step = load_step(name, step_spec)
    components = cache_components(
        step_spec, step_fingerprint(step, stores.project_root), input_hashes, step.source_version()
    )
    training = trainer_signature(spec, name, step)
    if training:
        components["training"] = training
    key = cache_key(components)
    if not use_cache:
        return StepPlan(name, "run", "caching is off for this run (--no-cache)", key), None
    if not step_spec.enable_cache:
        return StepPlan(name, "run", "caching is disabled for this step (enable_cache=False)", key), None
    unhashable = uncacheable_reason(components)
    if unhashable:
        return StepPlan(name, "run", f"cannot be cached: {unhashable}"), None
    damaged_reason = None
    for earlier, outputs in stores.metadata.find_cached(key):
        damaged = damaged_output(outputs, stores)  # the very check a run makes before a hit
        if damaged is None:
            reason = f"same code, values, parameters and inputs as run {earlier.run_id}"
            return StepPlan(name, StepStatus.CACHED, reason, key), outputs
        damaged_reason = damaged_reason or f"the output '{damaged[0]}' cached by run {earlier.run_id} is {damaged[2]}"
    if damaged_reason is not None:
        return StepPlan(name, "run", damaged_reason, key), None
    closest = stores.metadata.closest_execution(spec.pipeline.name, name, step_spec.type)
    return StepPlan(name, "run", explain_miss(components, closest), key), None


def explain_miss(current: dict[str, Any], closest: StepRunRecord | None) -> str:
    """Describe which cache-key components differ from the closest earlier execution."""
    if closest is None or closest.cache_components is None:
        return "never executed before"
    earlier = closest.cache_components
    reasons: list[str] = []
    if earlier.get("type") != current["type"]:
        reasons.append(f"step type changed: {earlier.get('type')} → {current['type']}")
    reasons += _diff_code(earlier.get("code", {}), current["code"])
    if "values" in earlier:  # absent before cache format 2: the version line below says why
        reasons += _diff_read(earlier["values"], current["values"])
    reasons += _diff_values("parameter", earlier.get("params", {}), current["params"], show=True)
    reasons += _diff_values("input", earlier.get("inputs", {}), current["inputs"], show=False)
    if earlier.get("outputs") != current["outputs"]:
        reasons.append(f"output formats changed: {earlier.get('outputs')} → {current['outputs']}")
    reasons += _diff_source(earlier.get("source"), current.get("source"))
    if earlier.get("version") != current["version"]:
        reasons.append("zenml's cache format version changed")
    if not reasons and uncacheable_reason(earlier):
        return f"run {closest.run_id} could not cache it ({uncacheable_reason(earlier)})"
    if not reasons:
        if closest.status != StepStatus.COMPLETED:
            return f"the same execution in run {closest.run_id} did not complete ({closest.status})"
        return f"the outputs cached by run {closest.run_id} are missing from the artifact store"
    return f"vs run {closest.run_id}: " + "; ".join(reasons)


def _diff_source(old: str | None, new: str | None) -> list[str]:
    if old == new:
        return []
    if old and new and old.split(":", 1)[0] != new.split(":", 1)[0]:
        # zenml hashed data versions with BLAKE3 before it used XXH3-128 for data and artifacts alike
        return [f"the data version is now hashed with {new.split(':', 1)[0]} (was {old.split(':', 1)[0]})"]
    return ["the source data changed (new content hash)"]


def _diff_code(old: dict[str, str], new: dict[str, str]) -> list[str]:
    reasons = [f"code of {key} changed" for key in new if key in old and old[key] != new[key]]
    reasons += [f"now uses {key}" for key in new if key not in old]
    reasons += [f"no longer uses {key}" for key in old if key not in new]
    return reasons


def _diff_read(old: dict[str, str], new: dict[str, str]) -> list[str]:
    reasons = [f"{key} changed" for key in new if key in old and old[key] != new[key]]
    reasons += [f"now reads {key}" for key in new if key not in old]
    reasons += [f"no longer reads {key}" for key in old if key not in new]
    return reasons


def _diff_values(what: str, old: dict[str, Any], new: dict[str, Any], *, show: bool) -> list[str]:
    reasons: list[str] = []
    for key in sorted(set(old) | set(new)):
        if key not in old:
            reasons.append(f"new {what} '{key}'")
        elif key not in new:
            reasons.append(f"{what} '{key}' removed")
        elif old[key] != new[key]:
            change = (
                f": {old[key]!r} → {new[key]!r}"
                if show
                else f" ({str(old[key])[-_SHORT:]} → {str(new[key])[-_SHORT:]})"
            )
            reasons.append(f"{what} '{key}' changed{change}")
    return reasons
