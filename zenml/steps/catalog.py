"""The table of step classes zenml ships, plus those plugins register (entry-point group ``zenml.steps``).

Every concrete step class zenml and its contrib packages ship is listed: datasources, statistics,
splits, the preprocessor, trainers, evaluators, batch inference and the deployer. ``zen steps list`` and the
conformance tests read it; a test checks that no shipped concrete step class is missing.
Importing a trainer's module imports no framework, so listing them all stays cheap.
"""

from __future__ import annotations

from zenml.steps.base import BaseStep
from zenml.utils.entry_points import entry_points
from zenml.utils.importing import import_object

#: dotted paths of every shipped step class
SHIPPED_STEPS: tuple[str, ...] = (
    "zenml.datasources.csv.CSVDatasource",
    "zenml.datasources.parquet.ParquetDatasource",
    "zenml.datasources.dataframe.DataFrameDatasource",
    "zenml.datasources.sql.SQLDatasource",
    "zenml.steps.statistics.StatisticsStep",
    "zenml.steps.split.random.RandomSplit",
    "zenml.steps.split.categorical.CategoricalDomainSplit",
    "zenml.steps.split.categorical.CategoricalRatioSplit",
    "zenml.steps.split.none.NoSplit",
    "zenml.steps.preprocessor.standard.StandardPreprocessor",
    "zenml.steps.trainer.tensorflow_trainer.TensorflowFeedForwardTrainer",
    "zenml.steps.trainer.torch_trainer.PyTorchFeedForwardTrainer",
    "zenml_sklearn.trainer.SklearnTrainer",
    "zenml.steps.evaluator.classification.ClassificationEvaluator",
    "zenml.steps.evaluator.regression.RegressionEvaluator",
    "zenml.steps.inference.BatchInferrer",
    "zenml.steps.deployer.LocalDeployer",
)


def shipped_steps() -> dict[str, type[BaseStep]]:
    """Shipped and plugin step classes by dotted path (imported on demand)."""
    paths = list(SHIPPED_STEPS)
    paths += [entry.value.replace(":", ".") for entry in entry_points("zenml.steps")]
    found: dict[str, type[BaseStep]] = {}
    for path in paths:
        klass = import_object(path)
        if isinstance(klass, type) and issubclass(klass, BaseStep):
            found[path] = klass
    return found
