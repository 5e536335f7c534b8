"""What this machine can give a step (CPUs, memory, GPUs), for orchestrators that run steps here."""

from __future__ import annotations

import os
from pathlib import Path

from zenml.exceptions import ConfigError
from zenml.pipelines.spec import RunSpec


def machine_capacity() -> dict[str, float]:
    """CPU cores, physical memory in bytes and NVIDIA GPUs of this machine (0 when unknown)."""
    return {"cpu": float(os.cpu_count() or 1), "memory": float(_physical_memory()), "gpu": float(_gpu_count())}


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def _gpu_count() -> int:
    """GPUs the NVIDIA driver lists, narrowed by ``CUDA_VISIBLE_DEVICES`` when it is set."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([device for device in visible.split(",") if device.strip() not in ("", "-1")])
    driver = Path("/proc/driver/nvidia/gpus")
    return len(list(driver.iterdir())) if driver.is_dir() else 0


def check_capacity(spec: RunSpec, capacity: dict[str, float], where: str) -> None:
    """Refuse a step whose resource request exceeds ``capacity`` (one place a step can run).

    Raises:
        ConfigError: names the step, the resource, what it asked and what ``where`` has.
    """
    for name, step in spec.steps.items():
        for resource, amount in step.runtime.resources.requested().items():
            available = capacity.get(resource, 0.0)
            if amount > available:
                raise ConfigError(
                    f"step '{name}' asks for {resource}={_show(resource, amount)} but {where} has "
                    f"{_show(resource, available)}; lower the request or run it where there is more"
                )


def _show(resource: str, amount: float) -> str:
    if resource == "memory":
        return f"{amount / 2**30:.1f} GiB"
    return f"{amount:g}"
