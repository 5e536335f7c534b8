"""Cache keys: a step is served from the cache when its code, parameters, inputs and formats match."""

from __future__ import annotations

import inspect
from typing import Any

from zenml.pipelines.spec import StepSpec
from zenml.steps.base import BaseStep
from zenml.steps.function import SimpleStep
from zenml.utils.hashing import hash_json, sha256_text

#: bump when the meaning of a cache key changes, so old entries stop matching
CACHE_FORMAT_VERSION = 1


def _source_of(obj: Any) -> str:
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        # Defined where no source file exists (an interactive session): fall back to bytecode.
        codes = (
            [value.__code__ for value in vars(obj).values() if hasattr(value, "__code__")]
            if isinstance(obj, type)
            else [obj.__code__]
        )
        return repr([(code.co_code, code.co_consts, code.co_names) for code in codes])


def code_hash(step: BaseStep) -> str:
    """Hash of the source of the step's function or of every user class in its class hierarchy."""
    if isinstance(step, SimpleStep):
        return sha256_text(_source_of(step.func))
    sources = [
        _source_of(klass)
        for klass in type(step).__mro__
        if klass.__module__.split(".")[0] not in ("zenml", "builtins", "abc")
    ]
    return sha256_text("\n".join(sources))


def cache_key(spec: StepSpec, step_code_hash: str, input_hashes: dict[str, str]) -> str:
    """The content address of a step execution (backends, run ids and times are deliberately absent)."""
    return "v{}:{}".format(
        CACHE_FORMAT_VERSION,
        hash_json(
            {
                "type": spec.type,
                "code": step_code_hash,
                "params": spec.params,
                "inputs": dict(sorted(input_hashes.items())),
                "outputs": dict(sorted(spec.outputs.items())),
                "version": CACHE_FORMAT_VERSION,
            }
        ),
    )
