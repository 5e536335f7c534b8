"""Cache keys: a step is served from the cache when its code, values, parameters, inputs and formats match.

The key is the hash of its *components*, which are stored with every step run so ``zen plan``
can explain a miss by comparing them with the closest earlier execution.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from zenml.pipelines.spec import StepSpec
from zenml.runtime.codehash import Fingerprint
from zenml.utils.hashing import hash_json

logger = logging.getLogger("zenml")

#: bump when the meaning of a cache key changes, so old entries stop matching
#: (2: project values a step observes joined the key, as ``values``)
CACHE_FORMAT_VERSION = 2

_warned: set[str] = set()  # unhashable values already reported by this process


def cache_components(
    spec: StepSpec, fingerprint: Fingerprint, input_hashes: dict[str, str], source: str | None = None
) -> dict[str, Any]:
    """What a step execution depends on (backends, run ids and times are deliberately absent).

    ``source`` is the version of external data a step reads (a datasource's content hash). A step
    that observes a value which cannot be hashed gets an ``uncacheable`` component holding the
    reasons and a fresh nonce, so its key never equals another execution's: no lookup can serve it.
    """
    components: dict[str, Any] = {
        "type": spec.type,
        "code": dict(sorted(fingerprint.code.items())),
        "values": dict(sorted(fingerprint.values.items())),
        "params": spec.params,
        "inputs": dict(sorted(input_hashes.items())),
        "outputs": dict(sorted(spec.outputs.items())),
        "version": CACHE_FORMAT_VERSION,
    }
    if source is not None:
        components["source"] = source
    if fingerprint.unhashable:
        components["uncacheable"] = {"values": dict(fingerprint.unhashable), "nonce": uuid.uuid4().hex}
    return components


def cache_key(components: dict[str, Any]) -> str:
    """The content address of a step execution."""
    return f"v{CACHE_FORMAT_VERSION}:{hash_json(components)}"


def code_hash(fingerprint: Fingerprint) -> str:
    """One hash over a step's code and the project values it reads (what ``zen runs compare`` calls code)."""
    if not fingerprint.values:
        return hash_json(fingerprint.code)
    return hash_json({"code": fingerprint.code, "values": fingerprint.values})


def uncacheable_reason(components: dict[str, Any]) -> str | None:
    """Why an execution cannot be cached (``flow.LOG holds a _io.TextIOWrapper that …``), or None."""
    unhashable: dict[str, str] = components.get("uncacheable", {}).get("values", {})
    return "; ".join(f"{what} {why}" for what, why in unhashable.items()) or None


def warn_uncacheable(step_name: str, fingerprint: Fingerprint) -> None:
    """Say once per process and value that a step reading an unhashable value runs without the cache."""
    fresh = {what: why for what, why in fingerprint.unhashable.items() if what not in _warned}
    _warned.update(fresh)
    for what, why in fresh.items():
        logger.warning(
            "step '%s' runs without the cache: it reads %s, which %s. Pass it as a parameter or an input, "
            "or create it inside the step, to make the step cacheable (said once per value)",
            step_name, what, why,
        )  # fmt: skip
