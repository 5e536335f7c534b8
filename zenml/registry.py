"""The backend registry: readable tables of ``(name, dotted path)``, resolved lazily.

Nothing listed here is imported until it is used, so ``--orchestrator dask`` costs nothing
unless chosen. Third-party packages add entries through the ``zenml.backends`` entry-point
group with names of the form ``KIND.NAME`` (e.g. ``orchestrator.kubeflow = pkg.mod:Class``).
"""

from __future__ import annotations

from functools import cache

from zenml.exceptions import ConfigError
from zenml.utils.entry_points import entry_points

BACKEND_KINDS = ("orchestrator", "processing", "training")

BUILTIN_BACKENDS: dict[str, list[tuple[str, str]]] = {
    "orchestrator": [
        ("local", "zenml.backends.orchestrator.local.LocalOrchestrator"),
        ("parallel", "zenml.backends.orchestrator.parallel.ParallelOrchestrator"),
        ("dask", "zenml.backends.orchestrator.dask.DaskOrchestrator"),
        ("airflow", "zenml.backends.orchestrator.airflow.orchestrator.AirflowOrchestrator"),
    ],
    "processing": [
        ("local", "zenml.backends.processing.local.LocalProcessing"),
        ("beam", "zenml.backends.processing.beam.BeamProcessing"),
        ("spark", "zenml.backends.processing.spark.SparkProcessing"),
    ],
    "training": [
        ("local", "zenml.backends.training.local.LocalTraining"),
        ("torch", "zenml.backends.training.torch_distributed.TorchDistributedTraining"),
        ("tensorflow", "zenml.backends.training.tensorflow.TensorflowDistributedTraining"),
    ],
}


@cache
def _entry_point_backends() -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {kind: [] for kind in BACKEND_KINDS}
    for entry in entry_points("zenml.backends"):
        kind, _, name = entry.name.partition(".")
        if kind in found and name:
            found[kind].append((name, entry.value.replace(":", ".")))
    return found


def backend_table(kind: str) -> dict[str, str]:
    """Name → dotted class path of every backend of ``kind`` (built-in first, then plugins)."""
    if kind not in BACKEND_KINDS:
        raise ConfigError(f"unknown backend kind '{kind}'; kinds are {', '.join(BACKEND_KINDS)}")
    table = dict(BUILTIN_BACKENDS[kind])
    if any(name not in table for name, _ in _plugin_entries(kind)):
        table.update({name: path for name, path in _plugin_entries(kind) if name not in table})
    return table


def _plugin_entries(kind: str) -> list[tuple[str, str]]:
    return _entry_point_backends()[kind]


def resolve_backend(kind: str, name: str) -> str:
    """The dotted class path registered as ``name`` for ``kind``.

    Raises:
        ConfigError: the name is unknown (the message lists the known ones).
    """
    builtin = dict(BUILTIN_BACKENDS.get(kind, ()))
    if name in builtin:  # plugins never replace a built-in name, so no entry-point scan is needed
        return builtin[name]
    table = backend_table(kind)
    if name in table:
        return table[name]
    raise ConfigError(f"unknown {kind} backend '{name}'; known {kind} backends: {', '.join(table)}")


def name_of_backend(kind: str, type_path: str) -> str:
    """The registry name of a backend class path, or the path itself when it is not registered."""
    for name, path in backend_table(kind).items():
        if path == type_path:
            return name
    return type_path
