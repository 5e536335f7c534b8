"""The read side of zenml: what was recorded, and what can be said about it.

``runs``: recorded runs, their steps and artifacts; ``compare``: two runs side by side; ``reports``:
HTML pages of a run or a comparison; ``integrity``: do the stores agree (``zen doctor``). Layered
inside (``pyproject.toml``): runs > reports > compare | integrity > status; the names below load
lazily, so importing one module of the package does not load the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ArtifactView": "zenml.history.runs",
    "Lineage": "zenml.history.runs",
    "PipelineRun": "zenml.history.runs",
    "StepView": "zenml.history.runs",
    "RunComparison": "zenml.history.compare",
    "StepComparison": "zenml.history.compare",
    "compare_runs": "zenml.history.compare",
    "compare_with_first": "zenml.history.compare",
}

__all__ = [
    "ArtifactView",
    "Lineage",
    "PipelineRun",
    "RunComparison",
    "StepComparison",
    "StepView",
    "compare_runs",
    "compare_with_first",
]

if TYPE_CHECKING:
    from zenml.history.compare import RunComparison, StepComparison, compare_runs, compare_with_first
    from zenml.history.runs import ArtifactView, Lineage, PipelineRun, StepView


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'zenml.history' has no attribute '{name}'")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
