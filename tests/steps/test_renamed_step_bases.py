"""The step-family bases and the materializer base follow the ``Base<Role>`` convention; the old names
still import for one release, from the module that defined them and from the package that exported
them, with a warning naming the new path."""

from __future__ import annotations

import importlib
import re

import numpy as np
import pyarrow as pa
import pytest

from zenml.artifacts import BaseMaterializer
from zenml.steps.deployer import BaseDeployerStep
from zenml.steps.evaluator import BaseEvaluatorStep
from zenml.steps.preprocessor import BasePreprocessorStep
from zenml.steps.split import BaseSplitStep
from zenml.utils.importing import import_object

#: (module that serves the old name, old name, the class, the path the warning names)
RENAMED = [
    ("zenml.steps.split.base", "SplitStep", BaseSplitStep, "zenml.steps.split.base.BaseSplitStep"),
    ("zenml.steps.split", "SplitStep", BaseSplitStep, "zenml.steps.split.BaseSplitStep"),
    (
        "zenml.steps.preprocessor.base",
        "PreprocessorStep",
        BasePreprocessorStep,
        "zenml.steps.preprocessor.base.BasePreprocessorStep",
    ),
    (
        "zenml.steps.preprocessor",
        "PreprocessorStep",
        BasePreprocessorStep,
        "zenml.steps.preprocessor.BasePreprocessorStep",
    ),
    ("zenml.steps.evaluator.base", "EvaluatorStep", BaseEvaluatorStep, "zenml.steps.evaluator.base.BaseEvaluatorStep"),
    ("zenml.steps.evaluator", "EvaluatorStep", BaseEvaluatorStep, "zenml.steps.evaluator.BaseEvaluatorStep"),
    ("zenml.steps.deployer", "DeployerStep", BaseDeployerStep, "zenml.steps.deployer.BaseDeployerStep"),
    (
        "zenml.artifacts.materializers",
        "Materializer",
        BaseMaterializer,
        "zenml.artifacts.materializers.BaseMaterializer",
    ),
    ("zenml.artifacts", "Materializer", BaseMaterializer, "zenml.artifacts.BaseMaterializer"),
]
IDS = [f"{module}.{old}" for module, old, _, _ in RENAMED]


@pytest.mark.parametrize(("module", "old", "new", "path"), RENAMED, ids=IDS)
def test_the_old_name_is_the_new_class_and_warns_naming_it(module: str, old: str, new: type, path: str) -> None:
    namespace: dict[str, object] = {}
    message = rf"{re.escape(module)}\.{old} is deprecated.*use {re.escape(path)} instead"
    with pytest.warns(DeprecationWarning, match=message):
        exec(f"from {module} import {old}", namespace)  # the import statement users wrote
    assert namespace[old] is new
    assert import_object(path) is new


@pytest.mark.parametrize(("module", "old", "new", "path"), RENAMED, ids=IDS)
def test_the_old_name_is_not_exported(module: str, old: str, new: type, path: str) -> None:
    exported = getattr(importlib.import_module(module), "__all__", [])
    assert old not in exported
    assert module.endswith((".base", ".materializers")) or new.__name__ in exported


@pytest.mark.parametrize(("module", "old", "new", "path"), RENAMED, ids=IDS)
def test_an_old_class_path_still_resolves(module: str, old: str, new: type, path: str) -> None:
    """A dotted path written before the rename (a spec, a config, a stored record) still loads, with the warning."""
    with pytest.warns(DeprecationWarning, match=re.escape(path)):
        assert import_object(f"{module}.{old}") is new


def test_a_subclass_of_an_old_name_is_a_subclass_of_the_new_one() -> None:
    with pytest.warns(DeprecationWarning):
        from zenml.steps.split import SplitStep

    class Halves(SplitStep):  # type: ignore[misc]  # written before the rename (an Any to mypy)
        def split_names(self) -> list[str]:
            return ["a", "b"]

        def partition_fn(self, batch: pa.RecordBatch) -> np.ndarray:
            return np.arange(batch.num_rows) % 2

    assert issubclass(Halves, BaseSplitStep)
    assert Halves().partition_fn(pa.record_batch({"x": [1, 2, 3]})).tolist() == [0, 1, 0]


@pytest.mark.parametrize(
    "module", ["zenml.steps.split", "zenml.steps.split.base", "zenml.steps.evaluator.base", "zenml.steps.deployer"]
)
def test_other_missing_names_are_still_attribute_errors(module: str) -> None:
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        getattr(importlib.import_module(module), "Nope")
