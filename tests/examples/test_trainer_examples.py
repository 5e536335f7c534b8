"""The PyTorch classification and regression examples learn as well as a hand-written network.

Each example runs once, through ``zen examples run`` (the ``example_run`` fixture, shared with
``test_examples.py``); then the same network shape is trained by hand, with plain PyTorch, on the
very same preprocessed split, and the metrics must agree within 2 points.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from example_helpers import ExampleRun

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch", reason="the PyTorch examples need the torch extra")
pytest.importorskip("sklearn", reason="the examples read scikit-learn's bundled datasets")

Runner = Callable[[str], ExampleRun]


def hand_written(
    work: Path, pipeline: str, hidden: list[int], epochs: int, lr: float, batch: int, loss: torch.nn.Module, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Train the same network with plain PyTorch on the pipeline's own preprocessed split."""
    from zenml.repository import Repository

    run = Repository(work).runs(pipeline=pipeline)[0]
    data = run.steps["preprocessor"].outputs["data"].read()
    label = run.steps["preprocessor"].outputs["transform"].read()["state"]["labels"][0]

    def arrays(split: str) -> tuple[torch.Tensor, torch.Tensor]:
        frame = data.to_pandas(split)
        return (
            torch.tensor(frame.drop(columns=[label]).to_numpy(), dtype=torch.float32),
            torch.tensor(frame[label].to_numpy(), dtype=torch.float32),
        )

    x, y = arrays("train")
    torch.manual_seed(seed)
    layers: list[torch.nn.Module] = []
    width = x.shape[1]
    for units in hidden:
        layers += [torch.nn.Linear(width, units), torch.nn.ReLU()]
        width = units
    model = torch.nn.Sequential(*layers, torch.nn.Linear(width, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, y),
        batch_size=batch,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    for _ in range(epochs):
        model.train()
        for features, labels in loader:
            optimizer.zero_grad()
            loss(model(features)[:, 0], labels).backward()
            optimizer.step()
    x_eval, y_eval = arrays("eval")
    with torch.no_grad():
        return model(x_eval)[:, 0].numpy(), y_eval.numpy()


@pytest.mark.timeout(600)
def test_breast_cancer_matches_a_hand_written_network(example_run: Runner) -> None:
    from zenml.repository import Repository

    work = example_run("pytorch_classifier").succeeded()
    ours = Repository(work).runs(pipeline="breast_cancer_torch")[0].metrics()["evaluator"]["accuracy"]
    logits, truth = hand_written(work, "breast_cancer_torch", [32, 16], 30, 1e-3, 32, torch.nn.BCEWithLogitsLoss(), 7)
    theirs = float(np.mean((logits >= 0) == (truth == 1)))
    assert ours >= 0.9
    assert abs(ours - theirs) <= 0.02, (ours, theirs)


@pytest.mark.timeout(600)
def test_diabetes_regression_matches_a_hand_written_network(example_run: Runner) -> None:
    from zenml.repository import Repository

    work = example_run("regression").succeeded()
    ours = Repository(work).runs(pipeline="diabetes_regression")[0].metrics()["evaluator"]
    predicted, truth = hand_written(work, "diabetes_regression", [32], 50, 1e-2, 32, torch.nn.MSELoss(), 1)
    mae = float(np.mean(np.abs(predicted - truth)))
    assert ours["r2"] > 0.2
    assert abs(ours["mae"] - mae) <= 0.02 * mae, (ours["mae"], mae)


@pytest.mark.tensorflow
@pytest.mark.timeout(600)
def test_tensorflow_quickstart_matches_a_hand_written_keras_model(example_run: Runner) -> None:
    pytest.importorskip("tensorflow", reason="the quickstart trains with TensorFlow")
    import keras

    from zenml.repository import Repository

    work = example_run("quickstart").succeeded()
    run = Repository(work).runs(pipeline="quickstart")[0]
    ours = run.metrics()["evaluator"]["accuracy"]
    data = run.steps["preprocessor"].outputs["data"].read()
    train, evaluation = data.to_pandas("train"), data.to_pandas("eval")
    keras.utils.set_random_seed(7)
    model = keras.Sequential(
        [
            keras.Input((train.shape[1] - 1,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(
        train.drop(columns=["malignant"]).to_numpy("float32"),
        train["malignant"].to_numpy("float32"),
        epochs=30,
        batch_size=32,
        verbose=0,
    )
    _loss, theirs = model.evaluate(
        evaluation.drop(columns=["malignant"]).to_numpy("float32"),
        evaluation["malignant"].to_numpy("float32"),
        verbose=0,
    )
    assert ours >= 0.9
    assert abs(ours - theirs) <= 0.02, (ours, theirs)
