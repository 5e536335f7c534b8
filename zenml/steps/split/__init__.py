"""The split tree: ``BaseSplitStep`` and its random, categorical and no-op splits."""

from typing import Any

from zenml.steps.split.base import BaseSplitStep, SplitOutput
from zenml.steps.split.categorical import CategoricalDomainSplit, CategoricalRatioSplit
from zenml.steps.split.none import NoSplit
from zenml.steps.split.random import RandomSplit
from zenml.utils.deprecation import moved_attribute as _moved_attribute

__all__ = ["BaseSplitStep", "CategoricalDomainSplit", "CategoricalRatioSplit", "NoSplit", "RandomSplit", "SplitOutput"]

#: renamed by the Base<Role> convention for extension points (docs/contributing/naming.md); one release
_RENAMED = {"SplitStep": "zenml.steps.split.BaseSplitStep"}


def __getattr__(name: str) -> Any:
    return _moved_attribute(__name__, name, _RENAMED)
