"""A model whose loader class lives in the project reads back from any script that can import the project.

Reading follows the trust rules of run specs (``zenml.utils.trust``): the repository root is
trusted once a ``Repository`` opens it, a module elsewhere is still refused by name.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

MODELS = '''\
"""A project's own trainer and model class: predicts the training split's positive rate."""

import json
import os

import numpy as np

from zenml.steps.trainer.base import BaseTrainerStep, TrainedModel


class RateModel(TrainedModel):
    framework = "rate"

    def predict_arrays(self, features):
        with open(os.path.join(self.path, "rate.json")) as handle:
            rate = json.load(handle)["rate"]
        return np.tile([1 - rate, rate], (len(features), 1))


class RateTrainer(BaseTrainerStep):
    def task_hint(self):
        return "binary"

    def model_class(self):
        return RateModel

    def train(self, training, context, workdir):
        folder = os.path.join(workdir, "model")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "rate.json"), "w") as handle:
            json.dump({"rate": float(np.mean(training.arrays["train"][1]))}, handle)
        self.save_meta(folder, training)
        return {"epoch": [1.0], "loss": [0.0]}
'''

PIPELINE = """\
from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit

from models import RateTrainer

cancer = SimplePipeline(name="cancer_rate")
cancer.add_datasource(CSVDatasource(path="cancer.csv"))
cancer.add_split(RandomSplit(ratios={"train": 0.7, "eval": 0.3}, seed=1))
cancer.add_preprocessor(StandardPreprocessor(labels=["target"]))
cancer.add_trainer(RateTrainer())
"""

READ = """\
import sys

from zenml.repository import Repository

root = sys.argv[1] if len(sys.argv) > 1 else None
if root:
    sys.path.insert(0, root)  # the project's code is importable, the working directory is elsewhere
model = Repository(root).runs()[0].steps["trainer"].outputs["model"].read()
print(type(model).__module__, type(model).__name__, round(float(model.predict_arrays([[0.0]] * 2)[0, 1]), 2))
"""


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, env={**environment, **env}, timeout=240)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder with its own model module, after one ``zen run`` of its pipeline."""
    from sklearn.datasets import load_breast_cancer

    root = tmp_path_factory.mktemp("project")
    frame = load_breast_cancer(as_frame=True).frame.iloc[:, -4:]
    frame.columns = [str(c).replace(" ", "_") for c in frame.columns]
    frame.to_csv(root / "cancer.csv", index=False)
    (root / "models.py").write_text(MODELS)
    (root / "flow.py").write_text(PIPELINE)
    (root / "read_model.py").write_text(READ)
    zen = str(Path(sys.executable).with_name("zen"))
    assert _run([zen, "init"], root).returncode == 0
    ran = _run([zen, "run", "flow.py:cancer"], root)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return root


def test_a_plain_script_in_the_repository_root_reads_the_model(project: Path) -> None:
    read = _run([sys.executable, "read_model.py"], project)
    assert read.returncode == 0, read.stderr
    module, name, rate = read.stdout.split()
    assert (module, name) == ("models", "RateModel") and 0.5 < float(rate) < 0.8


def test_a_script_elsewhere_reads_it_with_the_project_on_sys_path(project: Path, tmp_path: Path) -> None:
    read = _run([sys.executable, str(project / "read_model.py"), str(project)], tmp_path)
    assert read.returncode == 0, read.stderr
    assert read.stdout.split()[:2] == ["models", "RateModel"]


def test_a_loader_module_outside_the_project_is_still_refused(tmp_path: Path) -> None:
    """Trained with the module on PYTHONPATH (trusted); read with it only on sys.path: refused by name."""
    from sklearn.datasets import load_breast_cancer

    library, root = tmp_path / "library", tmp_path / "project"
    library.mkdir()
    root.mkdir()
    (library / "outside_models.py").write_text(MODELS)
    load_breast_cancer(as_frame=True).frame.iloc[:, -3:].to_csv(root / "cancer.csv", index=False)
    (root / "flow.py").write_text(PIPELINE.replace("from models", "from outside_models"))
    reader = READ.replace("sys.path.insert(0, root)", f"sys.path.insert(0, {str(library)!r})")
    (root / "read_model.py").write_text(reader)
    zen = str(Path(sys.executable).with_name("zen"))
    assert _run([zen, "init"], root).returncode == 0
    ran = _run([zen, "run", "flow.py:cancer"], root, PYTHONPATH=str(library))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    read = _run([sys.executable, "read_model.py", str(root)], root)
    assert read.returncode == 1
    assert "refusing to import 'outside_models.RateModel'" in read.stderr and "outside zenml" in read.stderr
