"""Trainer fixtures: a small generated table (binary, multi-class and regression labels) in a module-wide
repository, and a runner that trains a trainer step on it through a real pipeline."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROWS = 240
#: columns of the generated table: three numeric features, a categorical one, and the labels
FEATURES = ["x1", "x2", "x3", "kind"]
LABELS = {"binary": "label", "multiclass": "color", "regression": "target"}


def write_table(path: Path, rows: int = ROWS, seed: int = 0) -> Path:
    """A CSV whose labels a small network learns in a few epochs.

    ``label`` (yes/no) is linearly separable in ``x1 - x2``; ``color`` (red/green/blue) is the
    largest of ``x1``, ``x2`` and ``-(x1 + x2)`` (three cones, separable by a linear softmax);
    ``target`` is ``3 x1 - 2 x2 + 0.5 x3`` plus a little noise; ``flag`` is ``label`` as a number (0/1).
    """
    rng = np.random.default_rng(seed)
    x1, x2, x3 = rng.normal(size=(3, rows))
    kind = rng.choice(["p", "q"], rows)
    label = np.where(x1 - x2 > 0, "yes", "no")
    color = np.array(["red", "green", "blue"])[np.argmax(np.stack([x1, x2, -(x1 + x2)]), axis=0)]
    target = 3 * x1 - 2 * x2 + 0.5 * x3 + rng.normal(0, 0.1, rows)
    flag = (x1 - x2 > 0).astype(int)
    lines = ["x1,x2,x3,kind,label,color,target,flag"]
    lines += [f"{a:.5f},{b:.5f},{c:.5f},{k},{y},{z},{t:.5f},{f}"
              for a, b, c, k, y, z, t, f in zip(x1, x2, x3, kind, label, color, target, flag, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def trainer_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A repository (the working directory) holding ``data.csv``, shared by a test module so the data
    steps run once and are cached for every trainer it trains."""
    from zenml.repository import Repository

    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("ZEN_") and not name.startswith("ZEN_TEST_"):
                patch.delenv(name)
        root = tmp_path_factory.mktemp("trainer-repo")
        patch.chdir(root)
        write_table(root / "data.csv")
        repository = Repository.init(root)
        yield root
        repository.close()


@dataclass
class TrainerResult:
    """What one trainer run produced."""

    run: Any
    history: dict[str, list[float]]
    model: Any
    predictions: Any


def trainer_pipeline(trainer: Any, task: str = "binary", features: Sequence[str] = FEATURES,
                     labels: Sequence[str] | None = None, name: str = "trainer_test") -> Any:
    """CSV → random split (train/eval) → standard preprocessing → ``trainer``."""
    from zenml.datasources import CSVDatasource
    from zenml.pipelines import SimplePipeline
    from zenml.steps.preprocessor import StandardPreprocessor
    from zenml.steps.split import RandomSplit

    pipeline = SimplePipeline(name=name)
    pipeline.add_datasource(CSVDatasource(path="data.csv"))
    pipeline.add_split(RandomSplit(ratios={"train": 0.75, "eval": 0.25}, seed=3))
    chosen = list(labels) if labels is not None else [LABELS[task]]
    pipeline.add_preprocessor(StandardPreprocessor(features=list(features), labels=chosen))
    pipeline.add_trainer(trainer)
    return pipeline


class TrainerRunner:
    """Trains a trainer step through a real pipeline in the module's repository."""

    def __call__(self, trainer: Any, task: str = "binary", *, features: Sequence[str] = FEATURES,
                 labels: Sequence[str] | None = None, **run_options: Any) -> TrainerResult:
        run = trainer_pipeline(trainer, task, features, labels).run(**run_options)
        step = run.steps["trainer"]
        return TrainerResult(run, dict(step.outputs["history"].read()), step.outputs["model"].read(),
                             step.outputs["predictions"].read())


@pytest.fixture
def trainer_runner(trainer_repo: Path) -> TrainerRunner:
    """Train a trainer on the module's table: ``trainer_runner(trainer, "multiclass")``."""
    return TrainerRunner()
