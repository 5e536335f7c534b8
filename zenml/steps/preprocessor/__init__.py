"""The preprocessor tree: ``BasePreprocessorStep`` (fit on train, transform all) and ``StandardPreprocessor``."""

from __future__ import annotations

from typing import Any

from zenml.steps.preprocessor.base import BasePreprocessorStep, PreprocessOutput, Transform
from zenml.steps.preprocessor.standard import StandardPreprocessor
from zenml.utils.deprecation import moved_attribute as _moved_attribute
from zenml.utils.legacy import legacy_name_error as _legacy_name_error

__all__ = ["BasePreprocessorStep", "PreprocessOutput", "StandardPreprocessor", "Transform"]

#: renamed by the Base<Role> convention for extension points (docs/contributing/naming.md); one release
_RENAMED = {"PreprocessorStep": "zenml.steps.preprocessor.BasePreprocessorStep"}


def __getattr__(name: str) -> Any:
    if name in _RENAMED:
        return _moved_attribute(__name__, name, _RENAMED)
    legacy = _legacy_name_error(__name__, name)  # ``from PKG import TrainingPipeline``: say what it is here
    if legacy is not None:
        raise legacy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
