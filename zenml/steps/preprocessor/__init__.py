"""The preprocessor tree: ``PreprocessorStep`` (fit on train, transform all) and ``StandardPreprocessor``."""

from __future__ import annotations

from typing import Any

from zenml.steps.preprocessor.base import PreprocessorStep, PreprocessOutput, Transform
from zenml.steps.preprocessor.standard import StandardPreprocessor
from zenml.utils.legacy import legacy_name_error as _legacy_name_error

__all__ = ["PreprocessOutput", "PreprocessorStep", "StandardPreprocessor", "Transform"]


def __getattr__(name: str) -> Any:
    legacy = _legacy_name_error(__name__, name)  # ``from PKG import TrainingPipeline``: say what it is here
    if legacy is not None:
        raise legacy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
