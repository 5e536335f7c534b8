"""Step options: how a step runs (name, cache, backends, retries, timeout, resources), never what it computes."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from zenml.exceptions import excerpt
from zenml.utils.validation import config_error


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


RESOURCE_NAMES = ("cpu", "memory", "gpu")
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([KMGT]i?B?|B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


def parse_memory(value: int | float | str) -> int:
    """``4GiB``, ``512MB``, ``2e9`` or a number of bytes → bytes.

    Raises:
        ValueError: not a positive size.
    """
    if isinstance(value, bool):
        raise ValueError(f"memory must be a size such as '4GiB' or a number of bytes, got {excerpt(value)}")
    if isinstance(value, (int, float)):
        size = float(value)
    else:
        match = _MEMORY.match(value)
        if match is None:
            example = "a size such as '4GiB', '512MB' or a number of bytes"
            raise ValueError(f"memory must be {example}, got {excerpt(value)}")
        unit = (match.group(2) or "").lower()
        scale = 1024 ** "bkmgt".index(unit[0]) if unit.endswith("ib") or unit in ("ki", "mi", "gi", "ti") else None
        size = float(match.group(1)) * (scale or _UNITS[unit[:1]])
    if not math.isfinite(size) or size < 1:
        raise ValueError(f"memory must be a positive size, got {excerpt(value)}")
    return int(size)


class ResourcesSpec(_Model):
    """What one execution of a step needs: CPU cores, memory in bytes, GPUs (``None``: no request)."""

    cpu: float | None = Field(default=None, gt=0)
    memory: int | None = Field(default=None, gt=0)
    gpu: int | None = Field(default=None, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _known(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(RESOURCE_NAMES))
            if unknown:
                raise ValueError(f"resource '{unknown[0]}' is unknown; use {', '.join(RESOURCE_NAMES)}")
            if data.get("memory") is not None:
                data = {**data, "memory": parse_memory(data["memory"])}
        return data

    def requested(self) -> dict[str, float]:
        """The resources asked for, by name (``gpu: 0`` is no request)."""
        values = {"cpu": self.cpu, "memory": self.memory, "gpu": self.gpu or None}
        return {name: float(value) for name, value in values.items() if value is not None}


MAX_TIMEOUT = 366 * 24 * 3600.0  # a year: beyond it the OS timers overflow; use no timeout instead


class RuntimeSpec(_Model):
    """How a step executes, never what it computes (so not part of the cache key).

    Attributes:
        retries: further attempts after a failed or timed-out one.
        retry_delay: seconds before the first retry.
        retry_backoff: each further retry waits this many times longer.
        timeout: seconds an attempt may run before it is stopped and recorded ``timed_out``.
        resources: what an attempt needs; orchestrators that cannot provide it refuse the run.
    """

    retries: int = Field(default=0, ge=0, strict=True)
    retry_delay: float = Field(default=0.0, ge=0)
    retry_backoff: float = Field(default=1.0, ge=1)
    timeout: float | None = Field(default=None, gt=0, le=MAX_TIMEOUT)
    resources: ResourcesSpec = Field(default_factory=ResourcesSpec)

    def delay_before(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt`` (2 is the first retry)."""
        return self.retry_delay * self.retry_backoff ** max(attempt - 2, 0)


@dataclass(frozen=True)
class StepOptions:
    """How a step runs, as opposed to what it computes (never part of the parameters).

    Attributes:
        name: the step's name in a ``@pipeline`` (default: derived from the class or function).
        enable_cache: whether an unchanged step may be served from the cache.
        processing: a processing backend config ``{"type", "params"}`` for this step only.
        training: a training backend config for this step only.
        runtime: retries, retry delay/backoff, timeout and resources (``RuntimeSpec`` fields).
    """

    name: str | None = None
    enable_cache: bool = True
    processing: dict[str, Any] | None = None
    training: dict[str, Any] | None = None
    runtime: RuntimeSpec = field(default_factory=RuntimeSpec)


def runtime_from(settings: dict[str, Any], what: str) -> RuntimeSpec:
    """Validate runtime settings given to ``configure``/``@step``.

    Raises:
        ConfigError: a negative retry count, a timeout <= 0, an unknown resource, ...
    """
    try:
        return RuntimeSpec.model_validate(settings)
    except ValidationError as exc:
        raise config_error(exc, what, field="runtime setting", whole="runtime", bare=True) from exc


__all__ = [
    "MAX_TIMEOUT",
    "RESOURCE_NAMES",
    "ResourcesSpec",
    "RuntimeSpec",
    "StepOptions",
    "parse_memory",
    "runtime_from",
]
