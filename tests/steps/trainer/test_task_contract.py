"""The task contract end to end: a custom trainer that only defines ``model_fn`` classifies an integer label,
evaluators refuse predictions of another task (at compile time when the trainer fixes it, else at run
time), and ``zen run`` / ``zen runs show`` say which task ran.

The motivating failure: on breast cancer (0/1 integer label) such a trainer trained a regression
and the classification evaluator cast its outputs to int: accuracy 0.70 with AUC 0.995.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from zenml.exceptions import ConfigError

pytestmark = [
    pytest.mark.torch,
    pytest.mark.skipif(
        any(importlib.util.find_spec(name) is None for name in ("torch", "sklearn")),
        reason="needs PyTorch and scikit-learn",
    ),
]

ZEN = str(Path(sys.executable).parent / "zen")

PIPELINES = '''
import torch

from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.evaluator import ClassificationEvaluator, RegressionEvaluator
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit
from zenml.steps.trainer import PyTorchBaseTrainer, PyTorchFeedForwardTrainer


class MyTrainer(PyTorchBaseTrainer):
    def model_fn(self, n_features, n_outputs):
        return torch.nn.Sequential(torch.nn.Linear(n_features, 32), torch.nn.ReLU(), torch.nn.Linear(32, n_outputs))


def build(name, trainer, evaluator):
    pipeline = SimplePipeline(name=name)
    pipeline.add_datasource(CSVDatasource(path=name.split("_")[0] + ".csv"))
    pipeline.add_split(RandomSplit(ratios={"train": 0.7, "eval": 0.3}, seed=1))
    pipeline.add_preprocessor(StandardPreprocessor(labels=["target"]))
    pipeline.add_trainer(trainer)
    pipeline.add_evaluator(evaluator)
    return pipeline


cancer = build("cancer", MyTrainer(epochs=10, lr=0.01), ClassificationEvaluator())
digits = build("digits", MyTrainer(epochs=10, lr=0.01), ClassificationEvaluator())
cancer_as_regression = build("cancer_mse", PyTorchFeedForwardTrainer(loss="mse", epochs=1), ClassificationEvaluator())
cancer_as_classes = build("cancer_classes", MyTrainer(task="binary", epochs=1), RegressionEvaluator())
diabetes = build("diabetes", MyTrainer(epochs=1), ClassificationEvaluator())
diabetes_accuracy = build("diabetes_accuracy", PyTorchFeedForwardTrainer(metrics=["accuracy"], epochs=1),
                          RegressionEvaluator())
'''


def zen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ZEN, *args], cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "TERM": "dumb"}, check=False)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository with breast cancer, digits and diabetes as CSVs and the pipelines above."""
    import sklearn.datasets

    root = tmp_path_factory.mktemp("task-contract")
    for name, loader in (("cancer", "load_breast_cancer"), ("digits", "load_digits"), ("diabetes", "load_diabetes")):
        frame = getattr(sklearn.datasets, loader)(as_frame=True).frame
        frame.columns = [str(column).replace(" ", "_") for column in frame.columns]
        frame.to_csv(root / f"{name}.csv", index=False)
    (root / "flows.py").write_text(PIPELINES)
    assert zen("init", cwd=root).returncode == 0
    return root


def _run_id(output: str) -> str:
    line = next(line for line in output.splitlines() if line.startswith("Run "))
    return line.split()[1]


def test_zen_run_trains_an_integer_label_as_classes_and_zen_runs_show_says_so(project: Path) -> None:
    ran = zen("run", "flows.py:cancer", cwd=project)
    assert ran.returncode == 0, ran.stderr
    shown = zen("runs", "show", _run_id(ran.stdout), cwd=project)
    assert "task of trainer: binary (label 'target': 0, 1)" in shown.stdout
    accuracy = next(line for line in shown.stdout.splitlines() if "│ accuracy" in line)
    assert float(accuracy.split("│")[-1]) > 0.9  # was 0.70: a regression with its outputs cast to int
    report = zen("runs", "report", _run_id(ran.stdout), "--output", "report.html", cwd=project)
    assert report.returncode == 0, report.stderr
    assert "task of trainer</td><td>binary (label &#x27;target&#x27;: 0, 1)" in (project / "report.html").read_text()


def test_python_api_trains_ten_integer_classes(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    monkeypatch.syspath_prepend(str(project))
    from zenml.repository import close_stores

    try:
        flows = importlib.import_module("flows")
        run = flows.digits.run()
        model = run.steps["trainer"].outputs["model"].read()
        assert model.meta["task"] == "multiclass" and model.meta["classes"] == [str(i) for i in range(10)]
        assert run.metrics()["evaluator"]["accuracy"] > 0.9  # was 0.37
        predictions = run.steps["trainer"].outputs["predictions"].read().to_pandas("eval")
        assert predictions.prediction.dtype.kind == "i" and {f"proba_{i}" for i in range(10)} <= set(predictions)
    finally:
        close_stores()


def test_an_evaluator_for_another_task_is_refused_at_compile_time(project: Path) -> None:
    for flow, task, fix in (("cancer_as_regression", "regression", "RegressionEvaluator"),
                            ("cancer_as_classes", "binary", "ClassificationEvaluator")):
        refused = zen("run", f"flows.py:{flow}", cwd=project)
        assert refused.returncode == 2, refused.stderr
        assert "step 'evaluator':" in refused.stderr and f"whose task is {task}; use {fix}" in refused.stderr
        assert "trainer 'trainer' (" in refused.stderr
    assert "cancer_mse" not in zen("runs", "list", cwd=project).stdout  # nothing recorded


def test_an_evaluator_for_another_task_is_refused_when_the_label_decides(project: Path) -> None:
    ran = zen("run", "flows.py:diabetes", cwd=project)
    assert ran.returncode == 1
    # the diabetes score is integer-valued, but has more values than the class cap: the run says so
    assert "label 'target' has more than 20 distinct integer values, so it is treated as a regression" in ran.stderr
    assert ("ClassificationEvaluator cannot score the predictions of the trainer MyTrainer, whose task is "
            "regression; use RegressionEvaluator") in ran.stderr


def test_accuracy_of_a_regression_trainer_is_refused(project: Path) -> None:
    refused = zen("run", "flows.py:diabetes_accuracy", cwd=project)
    assert refused.returncode == 1
    assert ("PyTorchFeedForwardTrainer metric 'accuracy' is for classification, but the trainer's task is "
            "regression; use mae or mse") in refused.stderr


def test_accuracy_with_a_regression_loss_is_refused_at_compile_time() -> None:
    from zenml.steps.trainer import PyTorchFeedForwardTrainer

    with pytest.raises(ConfigError, match="metric 'accuracy' is for classification, but the trainer's task is"):
        PyTorchFeedForwardTrainer(loss="mae", metrics=["accuracy"]).preflight()
    with pytest.raises(ConfigError, match="task='binary' asks for binary but loss='mse' asks for regression"):
        PyTorchFeedForwardTrainer(task="binary", loss="mse").preflight()


def test_classification_evaluator_never_rounds_values_into_classes(tmp_path: Path) -> None:
    import numpy as np
    import pyarrow as pa

    from zenml.artifacts.dataset import Dataset
    from zenml.steps.context import StepContext
    from zenml.steps.evaluator import ClassificationEvaluator

    table = pa.table({"y": [0, 1, 1], "prediction": np.array([0.2, 0.79, 1.0]), "score": [0.2, 0.79, 1.0]})
    data = Dataset.from_tables(str(tmp_path / "predictions"), {"eval": table})
    context = StepContext(step_name="evaluator", run_id="r", pipeline_name="p", scratch_dir=str(tmp_path))
    with pytest.raises(ConfigError, match="column 'prediction' holds non-integer values \\(e.g. 0.2\\)"):
        ClassificationEvaluator(label="y").process(data, context)


@pytest.mark.parametrize(("estimator", "evaluator", "message"), [
    ("sklearn.linear_model.Ridge", "ClassificationEvaluator",
     "whose task is regression; use RegressionEvaluator for them, or give the trainer task='binary'"),
    ("sklearn.linear_model.LogisticRegression", "RegressionEvaluator",
     "whose task is classification; use ClassificationEvaluator for them, or give the trainer task='regression'"),
])
def test_a_scikit_learn_estimator_fixes_the_task_before_any_data(estimator: str, evaluator: str, message: str,
                                                                  project: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from zenml_sklearn import SklearnTrainer

    from zenml.datasources import CSVDatasource
    from zenml.pipelines import SimplePipeline
    from zenml.steps import evaluator as evaluators
    from zenml.steps.preprocessor import StandardPreprocessor
    from zenml.steps.split import RandomSplit

    pipeline = SimplePipeline(name="wired")
    monkeypatch.chdir(project)
    pipeline.add_datasource(CSVDatasource(path="cancer.csv"))
    pipeline.add_split(RandomSplit(ratios={"train": 0.7, "eval": 0.3}))
    pipeline.add_preprocessor(StandardPreprocessor(labels=["target"]))
    pipeline.add_trainer(SklearnTrainer(estimator=estimator))
    pipeline.add_evaluator(getattr(evaluators, evaluator)())
    with pytest.raises(ConfigError, match=rf"step 'evaluator': {evaluator} cannot score the predictions of trainer "
                                          rf"'trainer' \(SklearnTrainer\), {message}"):
        pipeline.validate()
