"""The backend bases renamed by the ``Base*`` convention still import from their old names, with a warning."""

from __future__ import annotations

import importlib
import re

import pytest

from zenml.backends.processing import BaseProcessingBackend
from zenml.backends.training import BaseTrainingBackend

RENAMED = [
    ("zenml.backends.training.base", "TrainingBackend", BaseTrainingBackend),
    ("zenml.backends.training", "TrainingBackend", BaseTrainingBackend),
    ("zenml.backends.processing.base", "ProcessingBackend", BaseProcessingBackend),
    ("zenml.backends.processing", "ProcessingBackend", BaseProcessingBackend),
]


@pytest.mark.parametrize(("module", "old", "new"), RENAMED)
def test_the_old_name_is_the_new_class_and_warns_naming_it(module: str, old: str, new: type) -> None:
    namespace: dict[str, object] = {}
    message = rf"{re.escape(module)}\.{old} is deprecated: use zenml\.backends\.\w+\.{new.__name__} "
    with pytest.warns(DeprecationWarning, match=message):
        exec(f"from {module} import {old}", namespace)  # the import statement users wrote
    assert namespace[old] is new


@pytest.mark.parametrize(("module", "old", "new"), RENAMED)
def test_the_old_name_is_not_exported(module: str, old: str, new: type) -> None:
    assert old not in getattr(importlib.import_module(module), "__all__", [])


@pytest.mark.parametrize("module", ["zenml.backends.training.base", "zenml.backends.processing.base"])
def test_other_missing_names_are_still_attribute_errors(module: str) -> None:
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        getattr(importlib.import_module(module), "Nope")
