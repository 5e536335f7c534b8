"""``trainers``: the feed-forward trainers against hand-written loops of the same model on the same data.

Times only the training (the step machinery's overhead, not framework start-up): zenml's trainer
``train`` on prepared arrays versus a hand-written PyTorch loop / Keras ``fit``; and the same
PyTorch model on 2-process DDP next to single-process.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.report import Figure, print_table

ROWS, FEATURES, EPOCHS, BATCH = 20_000, 20, 5, 64
TARGET = 1.15


def _data(root: Path) -> tuple[object, object]:
    import numpy as np
    import pyarrow as pa

    from zenml.artifacts.dataset import Dataset
    from zenml.steps.preprocessor.base import Transform

    rng = np.random.default_rng(0)
    x = rng.normal(size=(ROWS, FEATURES)).astype("float64")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    table = pa.table({**{f"f{i}": x[:, i] for i in range(FEATURES)}, "label": y.astype("float64")})
    cut = int(ROWS * 0.8)
    data = Dataset.from_tables(str(root / "data"), {"train": table.slice(0, cut), "eval": table.slice(cut)})
    state = {"inputs": [*table.column_names], "features": [f"f{i}" for i in range(FEATURES)], "labels": ["label"],
             "columns": {"label": {"kind": "numeric", "label": True, "transform": "float"},
                         **{f"f{i}": {"kind": "numeric", "label": False, "transform": "none", "fill": 0.0}
                            for i in range(FEATURES)}}}
    transform = Transform({"preprocessor": {"type": "zenml.steps.preprocessor.standard.StandardPreprocessor",
                                            "params": {"features": None, "labels": ["label"], "overwrite": None}},
                           "state": state})
    return data, transform


def _zen(trainer: object, data: object, transform: object, training: object) -> float:
    from zenml.steps.trainer.base import TrainJob

    with tempfile.TemporaryDirectory() as workdir:
        started = time.perf_counter()
        training.launch(TrainJob(trainer.to_config(), data, transform, workdir))  # type: ignore[attr-defined]
        return time.perf_counter() - started


def _torch_by_hand(data: object) -> float:
    import torch

    frame = data.to_pandas("train")  # type: ignore[attr-defined]
    x = torch.tensor(frame.drop(columns=["label"]).to_numpy(), dtype=torch.float32)
    y = torch.tensor(frame["label"].to_numpy(), dtype=torch.float32)
    started = time.perf_counter()
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(FEATURES, 64), torch.nn.ReLU(), torch.nn.Linear(64, 32),
                                torch.nn.ReLU(), torch.nn.Linear(32, 1))
    optimizer, loss = torch.optim.Adam(model.parameters(), lr=1e-3), torch.nn.BCEWithLogitsLoss()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=BATCH, shuffle=True)
    for _ in range(EPOCHS):
        for features, labels in loader:
            optimizer.zero_grad()
            loss(model(features)[:, 0], labels).backward()
            optimizer.step()
    return time.perf_counter() - started


def _keras_by_hand(data: object) -> float:
    import keras

    frame = data.to_pandas("train")  # type: ignore[attr-defined]
    x, y = frame.drop(columns=["label"]).to_numpy("float32"), frame["label"].to_numpy("float32")
    started = time.perf_counter()
    model = keras.Sequential([keras.Input((FEATURES,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    model.fit(x, y, epochs=EPOCHS, batch_size=BATCH, verbose=0)
    return time.perf_counter() - started


def run() -> list[Figure]:
    """One warm-up, then the median of three of each."""
    from statistics import median

    from zenml.backends.training import LocalTraining, TorchDistributedTraining
    from zenml.steps.trainer import PyTorchFeedForwardTrainer, TensorflowFeedForwardTrainer

    common = {"hidden_layers": [64, 32], "epochs": EPOCHS, "batch_size": BATCH, "lr": 1e-3,
              "last_activation": "sigmoid", "metrics": ["accuracy"]}
    with tempfile.TemporaryDirectory(prefix="zen-bench-train-") as tmp:
        data, transform = _data(Path(tmp))
        torch_trainer, tf_trainer = PyTorchFeedForwardTrainer(**common), TensorflowFeedForwardTrainer(**common)
        local = LocalTraining(device="cpu")
        timings = {
            "zenml PyTorch": [_zen(torch_trainer, data, transform, local) for _ in range(4)][1:],
            "PyTorch by hand": [_torch_by_hand(data) for _ in range(4)][1:],
            "zenml TensorFlow": [_zen(tf_trainer, data, transform, local) for _ in range(4)][1:],
            "Keras fit by hand": [_keras_by_hand(data) for _ in range(4)][1:],
            "zenml PyTorch, DDP 2 processes": [_zen(torch_trainer, data, transform,
                                                    TorchDistributedTraining(nproc_per_node=2)) for _ in range(2)],
        }
    seconds = {name: median(values) for name, values in timings.items()}
    figures = [
        Figure("trainers", "PyTorch trainer / hand-written loop", seconds["zenml PyTorch"] / seconds["PyTorch by hand"],
               "x", TARGET),
        Figure("trainers", "TensorFlow trainer / Keras fit", seconds["zenml TensorFlow"] / seconds["Keras fit by hand"],
               "x", TARGET),
        *[Figure("trainers", name, value, "s") for name, value in seconds.items()],
    ]
    print_table(["figure", "value", "target"], [[f.name, f"{f.value:.2f} {f.unit}", f"{f.target or '-'}"]
                                                 for f in figures])
    return figures
