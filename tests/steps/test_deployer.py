"""Deployer steps: the conformance kit, the gate, parameter checks, the SimplePipeline slot and legacy spellings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from zenml.datasources import CSVDatasource
from zenml.exceptions import ConfigError
from zenml.pipelines import SimplePipeline
from zenml.steps.deployer import LocalDeployer, gate
from zenml.steps.evaluator import ClassificationEvaluator
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit
from zenml.steps.trainer import PyTorchFeedForwardTrainer
from zenml.testing import parametrize_with_checks

EXAMPLES = [
    LocalDeployer(target="models/{pipeline}"),
    LocalDeployer(target="s3://bucket/{pipeline}/{run_id}", min_metrics={"accuracy": 0.9}, max_metrics={"log_loss": 1}),
]


@parametrize_with_checks(EXAMPLES)
def test_deployers_pass_the_conformance_kit(step: Any, check: Any) -> None:
    check(step)


def test_the_gate_names_the_first_metric_that_misses() -> None:
    metrics = {"accuracy": 0.93, "log_loss": 0.4}
    assert gate(metrics, {"accuracy": 0.9}, {"log_loss": 0.5}) is None
    assert gate(metrics, {"accuracy": 0.95}, None) == "accuracy 0.93 is not at least 0.95"
    assert gate(metrics, None, {"log_loss": 0.25}) == "log_loss 0.4 is not at most 0.25"
    with pytest.raises(ConfigError, match="max_metrics names metric 'logloss'; did you mean 'log_loss'"):
        gate(metrics, None, {"logloss": 1.0})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"target": ""}, "LocalDeployer target must be a folder or an fsspec URL"),
        ({"target": "models/{run}"}, "placeholder '{run}'; did you mean 'run_id'?"),
        ({"target": "models/{"}, "is not a valid template"),
        ({"min_metrics": {"accuracy": "high"}}, "parameter 'min_metrics' of LocalDeployer must be"),
        ({"max_metrics": ["mae"]}, "parameter 'max_metrics' of LocalDeployer must be"),
    ],
)
def test_bad_parameters_are_refused_with_the_fix(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("{", "\\{").replace("(", "\\(").replace("?", "\\?")):
        LocalDeployer(target="models").set_params(**params)


def test_a_deployer_is_not_served_from_the_cache_unless_asked() -> None:
    deployer = LocalDeployer(target="m")
    assert deployer.options.enable_cache is False
    assert deployer.configure(enable_cache=True).options.enable_cache is True


def test_the_deployer_slot_runs_after_the_evaluator_and_wires_itself() -> None:
    flow = SimplePipeline(name="slots")
    flow.add_deployer(LocalDeployer(target="m"))
    flow.add_datasource(CSVDatasource(path="x.csv"))
    flow.add_split(RandomSplit())
    flow.add_preprocessor(StandardPreprocessor(labels=["y"]))
    flow.add_trainer(PyTorchFeedForwardTrainer())
    flow.add_evaluator(ClassificationEvaluator())
    assert flow.order()[-2:] == ["evaluator", "deployer"]
    assert flow.resolved_inputs()["deployer"] == {
        "transform": "preprocessor.transform",
        "model": "trainer.model",
        "metrics": "evaluator.metrics",
    }


def test_legacy_add_deployment_says_what_it_is_here() -> None:
    with pytest.raises(AttributeError, match=r"use add_deployer\(LocalDeployer\(target=...\)\)"):
        SimplePipeline(name="legacy").add_deployment  # noqa: B018 -- the attribute access is the test


def test_zen_steps_list_lists_the_deployer() -> None:
    zen = str(Path(sys.executable).parent / "zen")
    listed = subprocess.run([zen, "steps", "list"], capture_output=True, text=True, timeout=120, check=False,
                            env={"COLUMNS": "250", "PATH": str(Path(sys.executable).parent)})
    assert listed.returncode == 0, listed.stderr
    line = next(line for line in listed.stdout.splitlines() if "zenml.steps.deployer.LocalDeployer" in line)
    assert "target, min_metrics, max_metrics" in line and "Exports the model bundle" in line
