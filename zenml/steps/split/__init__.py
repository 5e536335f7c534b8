"""The split tree: ``SplitStep`` and its random, categorical and no-op splits."""

from zenml.steps.split.base import SplitOutput, SplitStep
from zenml.steps.split.categorical import CategoricalDomainSplit, CategoricalRatioSplit
from zenml.steps.split.none import NoSplit
from zenml.steps.split.random import RandomSplit

__all__ = ["CategoricalDomainSplit", "CategoricalRatioSplit", "NoSplit", "RandomSplit", "SplitOutput", "SplitStep"]
