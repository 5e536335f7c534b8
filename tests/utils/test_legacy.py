"""Constructors and ``run()`` answer unknown keywords, legacy ZenML's spellings included, with one line
naming the likely name and the valid ones (a ``ConfigError``; exit 2 on the command line)."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from zenml.backends.orchestrator import LocalOrchestrator
from zenml.datasources import CSVDatasource, SQLDatasource
from zenml.exceptions import ConfigError
from zenml.pipelines import BasePipeline, SimplePipeline
from zenml.steps import BaseStep
from zenml.steps.evaluator import ClassificationEvaluator
from zenml.steps.split import CategoricalDomainSplit, RandomSplit
from zenml.steps.trainer import PyTorchFeedForwardTrainer, TensorflowFeedForwardTrainer
from zenml.utils import legacy

CASES: dict[str, tuple[Callable[[], Any], str]] = {
    "split_map": (lambda: RandomSplit(split_map={"train": 1.0}), "did you mean 'ratios'?"),
    "categorical_column": (lambda: CategoricalDomainSplit(categorical_column="c"), "did you mean 'column'?"),
    "dropout_chance": (lambda: TensorflowFeedForwardTrainer(dropout_chance=0.2), "did you mean 'dropout'?"),
    "hidden_activation": (lambda: PyTorchFeedForwardTrainer(hidden_activation="relu"), "did you mean 'activation'?"),
    "epoch": (lambda: PyTorchFeedForwardTrainer(epoch=3), "did you mean 'epochs'?"),
    "label_key": (lambda: ClassificationEvaluator(label_key="y"), "did you mean 'label'?"),
    "name": (lambda: CSVDatasource(name="diabetes", path="d.csv"), ".configure(name=...)"),
    "table": (lambda: SQLDatasource(table="t"), "SELECT * FROM TABLE"),
    "enable_cache": (lambda: SimplePipeline(name="p", enable_cache=False), "run(enable_cache=False)"),
}


@pytest.mark.parametrize("keyword", list(CASES))
def test_a_legacy_keyword_names_what_it_is_called_now(keyword: str) -> None:
    build, hint = CASES[keyword]
    with pytest.raises(ConfigError) as raised:
        build()
    message = str(raised.value)
    assert f"no parameter '{keyword}'" in message and hint in message, message
    assert "(parameters: " in message and "\n" not in message


def test_a_misspelling_gets_a_did_you_mean_and_the_valid_names() -> None:
    with pytest.raises(ConfigError) as raised:
        RandomSplit(ratioz={"train": 1.0})
    message = str(raised.value)
    assert message.startswith(
        "RandomSplit has no parameter 'ratioz'; did you mean 'ratios'? (parameters: ratios, seed, key_columns)"
    )
    assert re.search(r" \(at \S*test_legacy\.py, line \d+\)$", message), message  # the call in this file


def test_backends_and_user_subclasses_answer_the_same_way() -> None:
    with pytest.raises(ConfigError, match=r"LocalOrchestrator has no parameter 'workers' \(parameters: none\)"):
        LocalOrchestrator(workers=2)

    class MyTrainer(PyTorchFeedForwardTrainer):  # inherits the legacy spellings of its base
        pass

    with pytest.raises(ConfigError, match="did you mean 'dropout'"):
        MyTrainer(dropout_chance=0.1)

    class Scale(BaseStep):
        def __init__(self, factor: float = 1.0):
            self.factor = factor

        def process(self, x: float) -> float:
            return x * self.factor

    with pytest.raises(ConfigError, match=r"Scale\(\.\.\.\): too many positional arguments"):
        Scale(1.0, 2.0)  # type: ignore[call-arg]


def test_a_type_error_raised_inside_init_is_not_rewritten() -> None:
    class Fussy(BaseStep):
        def __init__(self, n: int = 1):
            self.n = n
            if n < 0:
                raise TypeError("n must not be negative")

        def process(self) -> int:
            return self.n

    with pytest.raises(TypeError, match="n must not be negative"):
        Fussy(n=-1)


def test_legacy_keywords_in_set_params_are_explained_too() -> None:
    with pytest.raises(ConfigError, match="did you mean 'ratios'"):
        RandomSplit().set_params(split_map={"train": 1.0})


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"artifact_store": "/tmp/a"}, "then run(stack='NAME')"),
        ({"metadata_store": "sqlite://"}, "zen stack register NAME"),
        ({"backend": "local"}, "did you mean 'orchestrator'?"),
        ({"orchestrater": "local"}, "did you mean 'orchestrator'?"),
    ],
)
def test_run_with_an_unknown_option_lists_the_valid_ones(options: dict[str, Any], fragment: str) -> None:
    pipeline = BasePipeline("p")
    with pytest.raises(ConfigError) as raised:
        pipeline.run(**options)
    message = str(raised.value)
    assert message.startswith(f"run() has no option '{next(iter(options))}'") and fragment in message, message
    assert "(options: orchestrator, processing, training," in message
    assert "run_pipeline" not in message


def test_plan_with_an_unknown_option_lists_its_own() -> None:
    with pytest.raises(ConfigError, match=r"plan\(\) has no option 'orchestrator'.*\(options: params, stack"):
        BasePipeline("p").plan(orchestrator="local")


def test_every_legacy_rename_names_a_real_parameter() -> None:
    """A table entry that renames must point at a parameter the class has (else it is a phrase, not a name)."""
    from zenml.steps.catalog import shipped_steps

    classes = {klass.__name__: klass for klass in shipped_steps().values()}
    for owner, entries in legacy.PARAMETERS.items():
        for name, replacement in entries.items():
            if replacement.isidentifier() and owner in classes:
                assert replacement in classes[owner].__new__(classes[owner]).param_specs(), (owner, name)


def test_zen_run_of_a_legacy_script_exits_2_with_the_hint(repo: Any, tmp_path: Path) -> None:
    script = tmp_path / "legacy_flow.py"
    script.write_text(
        textwrap.dedent(
            """
            from zenml.pipelines import SimplePipeline
            from zenml.steps.split import RandomSplit

            training = SimplePipeline(name="legacy")
            training.add_split(RandomSplit(split_map={"train": 0.7, "eval": 0.3}))
            """
        )
    )
    zen = Path(sys.executable).parent / "zen"
    done = subprocess.run([str(zen), "run", "legacy_flow.py:training"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "did you mean 'ratios'?" in errors[0], done.stderr
    assert "Traceback" not in done.stderr


# Legacy ZenML 0.1-0.5 imports, as its examples and docs wrote them: each says what to import here.
LEGACY_IMPORTS = [
    ("from zenml.pipelines import TrainingPipeline", "from zenml.pipelines import SimplePipeline"),
    ("from zenml.pipelines import DataPipeline", "SimplePipeline"),
    ("from zenml.pipelines import InferencePipeline", "BatchInferencePipeline"),
    ("from zenml.steps.trainer import TFFeedForwardTrainer", "TensorflowFeedForwardTrainer"),
    ("from zenml.steps.trainer import TorchFeedForwardTrainer", "PyTorchFeedForwardTrainer"),
    ("from zenml.steps.trainer import TFBaseTrainerStep", "TensorflowBaseTrainer"),
    ("from zenml.steps.evaluator import TFMAEvaluator", "ClassificationEvaluator"),
    ("from zenml.steps.evaluator import AgnosticEvaluator", "ClassificationEvaluator"),
    ("from zenml.steps.preprocessor import StandardPreprocesser", "StandardPreprocessor"),
    ("from zenml.steps.preprocessor import BasePreprocesserStep", "BasePreprocessorStep"),
    ("from zenml.datasources import PostgresDatasource", "SQLDatasource"),
    ("from zenml.datasources import ImageDatasource", "a data step of your own"),
    ("from zenml.backends.orchestrator import OrchestratorGCPBackend", "--orchestrator"),
    ("from zenml.repo import Repository", "from zenml.repository import Repository"),
    ("from zenml.core.repo.repo import Repository", "zenml.repository"),
    ("from zenml.core.pipelines.training_pipeline import TrainingPipeline", "zenml.pipelines"),
    ("from zenml.core.datasources.csv_datasource import CSVDatasource", "zenml.datasources"),
    (
        "from zenml.steps.preprocesser.standard_preprocesser.standard_preprocesser import StandardPreprocesser",
        "StandardPreprocessor",
    ),
    ("from zenml.steps.deployer import CortexDeployer", "from zenml.steps.deployer import LocalDeployer"),
    ("from zenml.backends.processing.processing_dataflow_backend import ProcessingDataFlowBackend", "DataflowRunner"),
    ("from zenml.metadata.sqlite_metadata_wrapper import SQLiteMetadataStore", "--metadata-store sqlite"),
]


@pytest.mark.parametrize(("statement", "hint"), LEGACY_IMPORTS, ids=[s for s, _ in LEGACY_IMPORTS])
def test_a_legacy_import_says_what_to_import_here(statement: str, hint: str) -> None:
    """Run in a fresh interpreter, as a ported script meets it: an ImportError naming today's import."""
    done = subprocess.run([sys.executable, "-c", statement], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(("ImportError", "ModuleNotFoundError")), done.stderr
    assert hint in last and "docs/guides/legacy.md" in last, last


# Legacy ZenML's base classes for steps of one's own: the same names and packages here (no hint, no warning).
LEGACY_BASES = [
    "from zenml.steps.split import BaseSplitStep",
    "from zenml.steps.evaluator import BaseEvaluatorStep",
    "from zenml.steps.deployer import BaseDeployerStep",
    "from zenml.steps.trainer import BaseTrainerStep",
]


@pytest.mark.parametrize("statement", LEGACY_BASES)
def test_legacy_base_classes_import_as_they_did(statement: str) -> None:
    namespace: dict[str, Any] = {}
    exec(statement, namespace)  # filterwarnings=error: a deprecation or legacy hint would fail here
    name = statement.rsplit(" ", 1)[-1]
    assert isinstance(namespace[name], type) and issubclass(namespace[name], BaseStep)
    assert all(name not in names for names in legacy.NAMES.values())


def test_unknown_names_stay_ordinary_attribute_errors() -> None:
    """Only legacy names raise ImportError; ``hasattr`` and ``getattr(..., default)`` work for any other."""
    import zenml.pipelines

    assert not hasattr(zenml.pipelines, "NoSuchThing")
    assert getattr(zenml.pipelines, "NoSuchThing", None) is None
    with pytest.raises(ModuleNotFoundError, match="No module named 'zenml.nosuch'$"):
        __import__("zenml.nosuch")
