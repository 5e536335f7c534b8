"""Legacy ZenML (0.1 to 0.5) spellings and what they are called here, for the errors that meet them.

A constructor or ``run(...)`` given a legacy keyword answers with today's name (or what replaced
it) instead of a bare ``TypeError``; docs/guides/legacy.md has the whole porting table.
"""

from __future__ import annotations

from collections.abc import Iterable

#: A legacy keyword's replacement: today's parameter name, or (when nothing has that role) a
#: phrase saying what replaced it.
Replacement = str

_FEED_FORWARD = {
    "dropout_chance": "dropout",
    "hidden_activation": "activation",
    "epoch": "epochs",
}
_DATASOURCE = {
    "name": "a datasource is a step: its name is its pipeline slot ('datasource'), or .configure(name=...)",
}
_SQL = {
    key: "put it in 'url' (postgresql://USER:PASSWORD@HOST:PORT/DATABASE)"
    for key in ("username", "password", "host", "port", "database")
}

#: by the class the parameters belong to (its ``__name__``; subclasses inherit the entries)
PARAMETERS: dict[str, dict[str, Replacement]] = {
    "BaseDatasource": _DATASOURCE,
    "SQLDatasource": {
        **_SQL,
        "table": "select it in 'query' ('SELECT * FROM TABLE')",
        "query_limit": "limit it in 'query' ('... LIMIT N')",
    },
    "RandomSplit": {"split_map": "ratios"},
    "CategoricalDomainSplit": {"categorical_column": "column", "split_map": "domains"},
    "CategoricalRatioSplit": {"categorical_column": "column", "split_ratio": "ratios"},
    "TensorflowFeedForwardTrainer": _FEED_FORWARD,
    "PyTorchFeedForwardTrainer": _FEED_FORWARD,
    "BaseEvaluatorStep": {
        "label_key": "label",
        "prediction_key": "predictions arrive from the trainer's 'predictions' output; name the label with 'label'",
    },
}

#: legacy ``TrainingPipeline(...)`` keywords
PIPELINE_ARGUMENTS: dict[str, Replacement] = {
    "enable_cache": "caching is chosen per run: pipeline.run(enable_cache=False), or per step with .configure()",
    "steps_dict": "add steps with add_datasource/add_split/add_preprocessor/add_trainer/add_evaluator or add_step",
    "backend": "backends are chosen per run: pipeline.run(orchestrator=..., processing=..., training=...)",
    "datasource": "add it with pipeline.add_datasource(...)",
    "pipeline_name": "name",
}

_STACK = (
    "stores belong to a stack: 'zen stack register NAME --artifact-store URL --metadata-store URL', "
    "then run(stack='NAME')"
)

#: legacy ``pipeline.run(...)`` keywords
RUN_OPTIONS: dict[str, Replacement] = {
    "backend": "orchestrator",
    "artifact_store": _STACK,
    "metadata_store": _STACK,
}


def parameter_replacement(classes: Iterable[type], name: str) -> Replacement | None:
    """What legacy ZenML's keyword ``name`` is for the first of ``classes`` (an MRO) that knows it."""
    for klass in classes:
        found = PARAMETERS.get(klass.__name__, {}).get(name)
        if found is not None:
            return found
    return None


def replacement_hint(name: str, replacement: Replacement | None, known: Iterable[str]) -> str | None:
    """``; did you mean 'ratios'? (legacy ZenML's name)`` for a rename, ``; legacy ZenML's 'x': …`` otherwise."""
    if replacement is None:
        return None
    if replacement in set(known):
        return f"; did you mean '{replacement}'? ('{name}' is legacy ZenML's name)"
    return f"; legacy ZenML's '{name}': {replacement}"


_GUIDE = "see docs/guides/legacy.md"
_DEPLOYER = (
    "from zenml.steps.deployer import LocalDeployer (pipeline.add_deployer(...) exports a model bundle, "
    "which zenml.serving.load_bundle scores)"
)
_ORCHESTRATORS = "orchestrators are chosen per run: --orchestrator local|parallel|dask|airflow"

#: legacy ZenML names, by the package they were imported from → what to import here instead
NAMES: dict[str, dict[str, Replacement]] = {
    "zenml.pipelines": {
        "TrainingPipeline": "from zenml.pipelines import SimplePipeline",
        "DataPipeline": "from zenml.pipelines import SimplePipeline (a datasource and the data steps you need)",
        "InferencePipeline": "from zenml.pipelines import BatchInferencePipeline",
        "NLPPipeline": "from zenml.pipelines import SimplePipeline",
    },
    "zenml.steps.trainer": {
        "TFFeedForwardTrainer": "from zenml.steps.trainer import TensorflowFeedForwardTrainer",
        "TorchFeedForwardTrainer": "from zenml.steps.trainer import PyTorchFeedForwardTrainer",
        "TFBaseTrainerStep": "from zenml.steps.trainer import TensorflowBaseTrainer",
        "TorchBaseTrainerStep": "from zenml.steps.trainer import PyTorchBaseTrainer",
    },
    "zenml.steps.evaluator": {
        "TFMAEvaluator": "from zenml.steps.evaluator import ClassificationEvaluator (or RegressionEvaluator)",
        "AgnosticEvaluator": "from zenml.steps.evaluator import ClassificationEvaluator (or RegressionEvaluator)",
    },
    "zenml.steps.deployer": {
        "CortexDeployer": _DEPLOYER,
        "GCAIPDeployer": _DEPLOYER,
    },
    "zenml.steps.preprocessor": {
        "StandardPreprocesser": "from zenml.steps.preprocessor import StandardPreprocessor",
        "BasePreprocesserStep": "from zenml.steps.preprocessor import BasePreprocessorStep",
    },
    "zenml.datasources": {
        "PostgresDatasource": "from zenml.datasources import SQLDatasource (url='postgresql://USER:PASSWORD@HOST/DB')",
        "MySQLDatasource": "from zenml.datasources import SQLDatasource (url='mysql+pymysql://USER:PASSWORD@HOST/DB')",
        "BigQueryDatasource": "none ships; ParquetDatasource, DataFrameDatasource or a data step of your own",
        "ImageDatasource": "none ships; a data step of your own (docs/guides/data-steps.md)",
    },
    "zenml.backends.orchestrator": {
        "OrchestratorGCPBackend": _ORCHESTRATORS,
        "OrchestratorAWSBackend": _ORCHESTRATORS,
        "OrchestratorKubernetesBackend": _ORCHESTRATORS,
        "OrchestratorBeamBackend": _ORCHESTRATORS,
        "OrchestratorBaseBackend": "from zenml.backends.orchestrator.base import BaseOrchestrator",
    },
}

#: legacy ZenML modules that do not exist here (the module and everything under it) → where to look
MODULES: dict[str, Replacement] = {
    "zenml.core": "import from zenml.pipelines, zenml.steps, zenml.datasources or zenml.repository "
    "(zenml.core was the 0.1/0.2 layout)",
    "zenml.repo": "from zenml.repository import Repository",
    "zenml.steps.preprocesser": "from zenml.steps.preprocessor import StandardPreprocessor",
    "zenml.backends.training.training_gcaip_backend": "training backends: --training local|torch-ddp|tensorflow",
    "zenml.backends.processing.processing_dataflow_backend": "BeamProcessing(runner='DataflowRunner', ...)",
    "zenml.metadata.mysql_metadata_wrapper": "a stack with --metadata-store mysql+pymysql://USER@HOST/DB",
    "zenml.metadata.sqlite_metadata_wrapper": "a stack with --metadata-store sqlite:///PATH",
    "zenml.annotations": "steps declare inputs and outputs by their signature (docs/guides/writing-steps.md)",
}


def legacy_name_error(package: str, name: str) -> ImportError | None:
    """The error for ``from PACKAGE import NAME`` when ``NAME`` is legacy ZenML's, else ``None``.

    An ``ImportError`` rather than ``AttributeError``: Python turns the latter into a bare
    ``cannot import name`` and the hint would be lost.
    """
    replacement = NAMES.get(package, {}).get(name)
    if replacement is None:
        return None
    return ImportError(f"{name} is legacy ZenML's; here: {replacement} ({_GUIDE})", name=package)


class LegacyModuleFinder:
    """Last on ``sys.meta_path``: a legacy ZenML module no other finder found is refused with where to look."""

    @classmethod
    def find_spec(cls, fullname: str, path: object = None, target: object = None) -> None:
        """Raise ``ModuleNotFoundError`` naming the replacement for a legacy module; ``None`` for any other."""
        for module, replacement in MODULES.items():
            if fullname == module or fullname.startswith(module + "."):
                raise ModuleNotFoundError(
                    f"No module named '{fullname}': legacy ZenML's module; here: {replacement} ({_GUIDE})",
                    name=fullname,
                )


def install_legacy_module_finder() -> None:
    """Append ``LegacyModuleFinder`` to ``sys.meta_path`` once (after every real finder)."""
    import sys

    if LegacyModuleFinder not in sys.meta_path:
        sys.meta_path.append(LegacyModuleFinder)
