"""Cache keys: a step is served from the cache when its code, parameters, inputs and formats match.

The key is the hash of its *components*, which are stored with every step run so ``zen plan``
can explain a miss by comparing them with the closest earlier execution.
"""

from __future__ import annotations

from typing import Any

from zenml.pipelines.spec import StepSpec
from zenml.utils.hashing import hash_json

#: bump when the meaning of a cache key changes, so old entries stop matching
CACHE_FORMAT_VERSION = 1


def cache_components(
    spec: StepSpec, fingerprint: dict[str, str], input_hashes: dict[str, str], source: str | None = None
) -> dict[str, Any]:
    """What a step execution depends on (backends, run ids and times are deliberately absent).

    ``source`` is the version of external data a step reads (a datasource's content hash).
    """
    components: dict[str, Any] = {
        "type": spec.type,
        "code": dict(sorted(fingerprint.items())),
        "params": spec.params,
        "inputs": dict(sorted(input_hashes.items())),
        "outputs": dict(sorted(spec.outputs.items())),
        "version": CACHE_FORMAT_VERSION,
    }
    if source is not None:
        components["source"] = source
    return components


def cache_key(components: dict[str, Any]) -> str:
    """The content address of a step execution."""
    return f"v{CACHE_FORMAT_VERSION}:{hash_json(components)}"


def code_hash(fingerprint: dict[str, str]) -> str:
    """One hash over a step's code fingerprint."""
    return hash_json(fingerprint)
