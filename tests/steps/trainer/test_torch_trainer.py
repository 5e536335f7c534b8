"""The PyTorch trainer tree: it learns each task, every feed-forward parameter changes the model or the
training, a user's subclass gets the loop for free, stored models reload, and bad input fails clearly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from zenml.backends.training import LocalTraining
from zenml.exceptions import ConfigError, StepError
from zenml.steps.trainer import PyTorchBaseTrainer, PyTorchFeedForwardTrainer
from zenml.steps.trainer.data import TrainingData
from zenml.testing import check_step

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch", reason="the PyTorch trainer needs the torch extra: pip install 'zenml[torch]'")

#: features after preprocessing: x1, x2, x3 scaled, kind one-hot or indexed (read from the model)
NUMERIC = ["x1", "x2", "x3"]


def ff(**params: Any) -> PyTorchFeedForwardTrainer:
    """A small, quick feed-forward trainer; ``params`` override the defaults used here."""
    chosen: dict[str, Any] = {"hidden_layers": [8], "epochs": 3, "lr": 0.01, "batch_size": 32}
    chosen.update(params)
    return PyTorchFeedForwardTrainer(**chosen)


def weights(result: Any) -> dict[str, np.ndarray]:
    return {name: tensor.numpy() for name, tensor in result.model.state_dict().items()}


def same_weights(a: Any, b: Any) -> bool:
    left, right = weights(a), weights(b)
    return left.keys() == right.keys() and all(np.array_equal(left[k], right[k]) for k in left)


def eval_features(result: Any) -> np.ndarray:
    """The transformed eval split's feature matrix, in the model's column order."""
    data = result.run.steps["preprocessor"].outputs["data"].read().to_table("eval")
    return np.column_stack([data.column(name).to_numpy().astype(np.float32) for name in result.model.meta["features"]])


def column(result: Any, name: str, split: str = "eval") -> np.ndarray:
    return result.predictions.to_table(split).column(name).to_numpy()


def module_names(result: Any) -> list[str]:
    """Class names of the stored TorchScript program's layers."""
    return [child.original_name for child in result.model.module.children()]


# -- it learns ----------------------------------------------------------------------------------------


def test_learns_a_binary_label(trainer_runner: Any) -> None:
    result = trainer_runner(ff(hidden_layers=[16], epochs=12, metrics=["accuracy", "auc"]))
    history = result.history
    assert history["eval_accuracy"][-1] >= 0.9 and history["eval_auc"][-1] >= 0.97
    assert history["loss"][-1] < history["loss"][0] / 2
    assert (result.model.meta["task"], result.model.meta["classes"]) == ("binary", ["no", "yes"])
    predictions = result.predictions.to_table("eval")
    assert {"label", "prediction", "score", *NUMERIC, "kind"} <= set(predictions.column_names)
    accuracy = np.mean(column(result, "prediction") == column(result, "label"))
    assert accuracy == pytest.approx(history["eval_accuracy"][-1])


def test_learns_a_multiclass_label(trainer_runner: Any) -> None:
    result = trainer_runner(ff(hidden_layers=[16], epochs=15), "multiclass")
    assert result.history["eval_accuracy"][-1] >= 0.85
    assert result.model.meta["task"] == "multiclass"
    assert sorted(result.model.meta["classes"]) == ["blue", "green", "red"]
    probabilities = np.column_stack([column(result, f"proba_{i}") for i in range(3)])
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert np.array_equal(probabilities.argmax(axis=1), column(result, "prediction"))


def test_learns_a_regression_target(trainer_runner: Any) -> None:
    result = trainer_runner(ff(hidden_layers=[16], epochs=25), "regression")
    assert result.model.meta["task"] == "regression"
    assert result.history["eval_mae"][-1] < 0.5  # the target's spread is about 3.6
    error = np.abs(column(result, "prediction") - column(result, "target"))
    assert np.mean(error) == pytest.approx(result.history["eval_mae"][-1], rel=1e-4)


# -- every feed-forward parameter changes the model or the training ------------------------------------


def test_hidden_layers_set_the_network_shape(trainer_runner: Any) -> None:
    shapes = {}
    for layers in ([], [8], [16, 4]):
        result = trainer_runner(ff(hidden_layers=layers, epochs=1))
        n_features = len(result.model.meta["features"])
        widths = [n_features, *layers, 1]
        expected = sum(a * b + b for a, b in zip(widths, widths[1:], strict=False))
        assert sum(w.size for w in weights(result).values()) == expected
        shapes[len(layers)] = module_names(result).count("Linear")
    assert shapes == {0: 1, 1: 2, 2: 3}


def test_activation_is_used_between_layers(trainer_runner: Any) -> None:
    relu = trainer_runner(ff(activation="relu"))
    tanh = trainer_runner(ff(activation="tanh"))
    assert "ReLU" in module_names(relu) and "Tanh" in module_names(tanh) and "ReLU" not in module_names(tanh)
    assert not same_weights(relu, tanh)


def test_an_integer_label_is_classes_unless_the_trainer_says_otherwise(trainer_runner: Any) -> None:
    default = trainer_runner(ff(), labels=["flag"])  # 0/1 integers: classes, as type_of_target says
    as_number = trainer_runner(ff(last_activation="linear"), labels=["flag"])
    by_task = trainer_runner(ff(task="regression"), labels=["flag"])
    assert default.model.meta["task"] == "binary" and "accuracy" in default.history
    assert default.model.meta["classes"] == ["0", "1"]
    assert set(np.unique(column(default, "prediction"))) <= {0, 1}
    assert as_number.model.meta["task"] == by_task.model.meta["task"] == "regression" and "mae" in by_task.history


def test_last_activation_softmax_makes_a_two_class_softmax(trainer_runner: Any) -> None:
    sigmoid = trainer_runner(ff(hidden_layers=[4]))
    softmax = trainer_runner(ff(hidden_layers=[4], last_activation="softmax"))
    assert weights(sigmoid)["2.weight"].shape == (1, 4) and weights(softmax)["2.weight"].shape == (2, 4)
    assert softmax.model.meta["task"] == "multiclass"
    assert np.allclose(column(softmax, "proba_0") + column(softmax, "proba_1"), 1.0, atol=1e-6)


@pytest.mark.parametrize(("task", "activation", "message"), [
    ("multiclass", "sigmoid", "last_activation='sigmoid' asks for binary, but label 'color' has 3 classes "
                              r"\(blue, green, red\); use task='multiclass' \(or last_activation='softmax'\)"),
    ("binary", "linear", "last_activation='linear' asks for regression, but label 'label' has the classes no, yes; "
                         "use a classification loss or task"),
    ("regression", "sigmoid", "last_activation='sigmoid' asks for classification, but label 'target' is "
                              "continuous"),
])
def test_last_activation_inconsistent_with_the_label(trainer_runner: Any, task: str, activation: str,
                                                     message: str) -> None:
    with pytest.raises(StepError, match=message) as failure:
        trainer_runner(ff(last_activation=activation), task)
    assert failure.value.error_type == "ConfigError"


def test_output_units_set_the_output_layer(trainer_runner: Any) -> None:
    result = trainer_runner(ff(output_units=3, hidden_layers=[4]), "multiclass")
    assert weights(result)["2.weight"].shape == (3, 4)
    assert column(result, "proba_2").shape == column(result, "prediction").shape


def test_loss_is_what_training_minimises(trainer_runner: Any) -> None:
    mae = trainer_runner(ff(loss="mae", metrics=["mae", "mse"]), "regression")
    mse = trainer_runner(ff(loss="mse", metrics=["mae", "mse"]), "regression")
    assert mae.history["eval_loss"] == pytest.approx(mae.history["eval_mae"], rel=1e-5)
    assert mse.history["eval_loss"] == pytest.approx(mse.history["eval_mse"], rel=1e-5)
    assert not same_weights(mae, mse)
    as_class = trainer_runner(ff(loss="binary_crossentropy"), labels=["flag"])
    assert as_class.model.meta["task"] == "binary"


def test_metrics_choose_the_history_columns(trainer_runner: Any) -> None:
    result = trainer_runner(ff(metrics=["auc", "mse"]))
    assert set(result.history) == {"epoch", "loss", "auc", "mse", "eval_loss", "eval_auc", "eval_mse"}
    default = trainer_runner(ff())
    assert set(default.history) == {"epoch", "loss", "accuracy", "eval_loss", "eval_accuracy"}


def test_optimizer_changes_the_updates(trainer_runner: Any) -> None:
    results = {name: trainer_runner(ff(optimizer=name)) for name in ("adam", "sgd", "rmsprop")}
    assert not same_weights(results["adam"], results["sgd"])
    assert not same_weights(results["adam"], results["rmsprop"])


def test_lr_sets_the_step_size(trainer_runner: Any) -> None:
    slow = trainer_runner(ff(lr=1e-5, epochs=4)).history["loss"]
    fast = trainer_runner(ff(lr=3e-2, epochs=4)).history["loss"]
    assert abs(slow[0] - slow[-1]) < 0.01 < fast[0] - fast[-1]


def test_batch_size_epochs_optimizer_and_lr_match_a_hand_written_loop(trainer_runner: Any) -> None:
    """Full-batch SGD: the stored weights equal a plain PyTorch loop's, step for step."""
    result = trainer_runner(ff(hidden_layers=[4], batch_size=10_000, epochs=3, optimizer="sgd", lr=0.1, seed=5))
    data = result.run.steps["preprocessor"].outputs["data"].read()
    transform = result.run.steps["preprocessor"].outputs["transform"].read()
    x, y = TrainingData.load(data, transform, ["train"]).arrays["train"]
    torch.manual_seed(5)
    model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(model(torch.from_numpy(x))[:, 0],
                                                             torch.from_numpy(y).float()).backward()
        optimizer.step()
    for name, tensor in model.state_dict().items():
        assert np.allclose(weights(result)[name], tensor.numpy(), atol=1e-6), name
    mini_batches = trainer_runner(ff(hidden_layers=[4], batch_size=8, epochs=3, optimizer="sgd", lr=0.1, seed=5))
    assert not same_weights(result, mini_batches)


def test_epochs_is_the_history_length(trainer_runner: Any) -> None:
    for epochs in (1, 4):
        history = trainer_runner(ff(epochs=epochs)).history
        assert history["epoch"] == [float(e) for e in range(1, epochs + 1)]
        assert all(len(values) == epochs for values in history.values())


def test_dropout_is_applied_in_training_only(trainer_runner: Any) -> None:
    plain = trainer_runner(ff(dropout=0.0))
    dropped = trainer_runner(ff(dropout=0.5))
    assert "Dropout" in module_names(dropped) and "Dropout" not in module_names(plain)
    assert not same_weights(plain, dropped)
    features = eval_features(dropped)
    assert np.array_equal(dropped.model.predict_arrays(features), dropped.model.predict_arrays(features))


def test_seed_fixes_initialisation_and_batch_order(trainer_runner: Any) -> None:
    first = trainer_runner(ff(seed=1, dropout=0.2), enable_cache=False)
    again = trainer_runner(ff(seed=1, dropout=0.2), enable_cache=False)
    other = trainer_runner(ff(seed=2, dropout=0.2))
    assert same_weights(first, again) and first.history == again.history
    assert not same_weights(first, other)


def test_early_stopping_stops_and_keeps_the_best_epoch(trainer_runner: Any) -> None:
    """Noise features only: the network memorises the training split and the eval loss rises."""
    trainer = ff(hidden_layers=[64, 64], epochs=60, lr=0.02, batch_size=16, early_stopping_patience=3)
    result = trainer_runner(trainer, features=["x3", "kind"])
    eval_loss = result.history["eval_loss"]
    assert len(eval_loss) < 60
    best = int(np.argmin(eval_loss))
    assert best == len(eval_loss) - 4, "stopped after 3 epochs without a better eval loss"
    score, label = column(result, "score"), column(result, "label")
    stored_loss = -np.mean(label * np.log(score) + (1 - label) * np.log(1 - score))
    assert stored_loss == pytest.approx(eval_loss[best], rel=1e-4), "the stored model is the best epoch's"
    assert stored_loss < eval_loss[-1]


# -- a user's own trainer -------------------------------------------------------------------------------


class ResidualNet(torch.nn.Module):
    """A linear path plus a small hidden path."""

    def __init__(self, n_features: int, n_outputs: int, width: int) -> None:
        super().__init__()
        self.hidden = torch.nn.Linear(n_features, width)
        self.head = torch.nn.Linear(width, n_outputs)
        self.skip = torch.nn.Linear(n_features, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.skip(x) + self.head(torch.relu(self.hidden(x)))


class ResidualTrainer(PyTorchBaseTrainer):
    """A custom network, gradient clipping in ``train_step``, and a per-epoch log file."""

    def __init__(self, width: int = 8, log_file: str = "", epochs: int = 6, lr: float = 0.02, seed: int = 0) -> None:
        super().__init__(epochs=epochs, lr=lr, seed=seed)
        self.width = width
        self.log_file = log_file

    def model_fn(self, n_features: int, n_outputs: int) -> Any:
        return ResidualNet(n_features, n_outputs, self.width)

    def train_step(self, *, model: Any, features: Any, labels: Any, loss_fn: Any, optimizer: Any) -> float:
        optimizer.zero_grad()
        loss = loss_fn(model(features), labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        return float(loss.detach())

    def on_epoch_end(self, *, epoch: int, logs: dict[str, float], model: Any) -> None:
        if self.log_file:
            with open(self.log_file, "a") as handle:
                handle.write(json.dumps({"epoch": epoch, **logs}) + "\n")


class NotAModelTrainer(PyTorchBaseTrainer):
    """``model_fn`` returns a function instead of a ``torch.nn.Module``."""

    def model_fn(self, n_features: int, n_outputs: int) -> Any:
        return lambda x: x


def test_conformance() -> None:
    check_step(PyTorchFeedForwardTrainer(hidden_layers=[4], metrics=["auc"], dropout=0.1))
    check_step(ResidualTrainer(width=4))


def test_custom_trainer_gets_the_loop_history_predictions_and_saving(trainer_runner: Any, tmp_path: Path) -> None:
    log = tmp_path / "epochs.jsonl"
    result = trainer_runner(ResidualTrainer(log_file=str(log)), "multiclass")
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert [entry["epoch"] for entry in logged] == [1, 2, 3, 4, 5, 6]
    assert [entry["eval_loss"] for entry in logged] == result.history["eval_loss"]
    assert result.history["eval_accuracy"][-1] >= 0.8
    assert {"skip.weight", "hidden.weight", "head.weight"} <= set(weights(result))
    assert result.model.meta["trainer"]["type"].endswith("ResidualTrainer")


def test_model_fn_returning_the_wrong_type_is_refused(trainer_runner: Any) -> None:
    with pytest.raises(StepError, match=r"NotAModelTrainer.model_fn must return a torch.nn.Module, got function"):
        trainer_runner(NotAModelTrainer(epochs=1))


# -- stored models ----------------------------------------------------------------------------------------


def test_stored_model_reloads_with_the_same_predictions_and_no_pickle(trainer_runner: Any, tmp_path: Path) -> None:
    result = trainer_runner(ResidualTrainer(), training=LocalTraining(device="cpu"))
    model = result.run.steps["trainer"].outputs["model"].read()  # reloaded from the artifact store
    folder = Path(model.path)
    assert sorted(p.name for p in folder.iterdir() if p.name != ".zenml-artifact.json") == [
        "model.pt", "weights.pt", "zenml-model.json"]
    json.loads((folder / "zenml-model.json").read_text())
    assert "code/" in "".join(zipfile.ZipFile(folder / "model.pt").namelist()), "a TorchScript program"
    state = torch.load(folder / "weights.pt", weights_only=True)  # tensors only: no arbitrary objects
    assert all(isinstance(value, torch.Tensor) for value in state.values())

    features = eval_features(result)
    scores = model.predict_arrays(features)[:, -1]
    assert np.allclose(scores, column(result, "score"), atol=1e-6)

    rebuilt = ResidualTrainer().model_fn(features.shape[1], 1)
    rebuilt.load_state_dict(state)
    with torch.no_grad():
        assert np.allclose(torch.sigmoid(rebuilt.eval()(torch.from_numpy(features)))[:, 0].numpy(), scores, atol=1e-6)

    # inference needs no user code: a bare interpreter that never imports this module or zenml
    np.save(tmp_path / "features.npy", features)
    script = ("import sys, numpy, torch; m = torch.jit.load(sys.argv[1]); "
              "numpy.save(sys.argv[3], m(torch.from_numpy(numpy.load(sys.argv[2]))).detach().numpy())")
    subprocess.run([sys.executable, "-c", script, str(folder / "model.pt"), str(tmp_path / "features.npy"),
                    str(tmp_path / "logits.npy")], check=True, cwd=tmp_path, timeout=120,
                   env={**os.environ, "PYTHONPATH": ""})
    logits = np.load(tmp_path / "logits.npy")
    assert np.allclose(1 / (1 + np.exp(-logits[:, 0])), scores, atol=1e-6)


# -- bad input --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("param", "value", "valid"), [
    ("loss", "hinge", "binary_crossentropy, categorical_crossentropy, mse, mae, huber"),
    ("optimizer", "adagrad", "adam, adamw, sgd, rmsprop"),
    ("activation", "swish", "relu, tanh, sigmoid, gelu, elu, leaky_relu, linear"),
])
def test_unknown_names_list_the_valid_ones(trainer_runner: Any, param: str, value: str, valid: str) -> None:
    with pytest.raises(ConfigError, match=f"{param} '{value}' is unknown; use one of {valid}"):
        trainer_runner(ff(**{param: value}))
    with pytest.raises(ConfigError, match=f"{param} '{value}' is unknown"):
        ff().set_params(**{param: value})


def test_unknown_metric_lists_the_valid_ones(trainer_runner: Any) -> None:
    with pytest.raises(ConfigError, match="metric 'f1' is unknown; use accuracy, auc, mae or mse"):
        trainer_runner(ff(metrics=["accuracy", "f1"]))


def test_zero_epochs_is_refused_before_anything_runs(trainer_runner: Any) -> None:
    with pytest.raises(ConfigError, match="PyTorchFeedForwardTrainer epochs must be at least 1, got 0"):
        trainer_runner(ff(epochs=0))
    with pytest.raises(ConfigError, match="epochs must be at least 1"):
        ResidualTrainer(epochs=0).validate()


@pytest.mark.parametrize(("task", "units", "message"), [
    ("binary", 2, "output_units=2 does not match the binary label 'label', which needs 1 output"),
    ("regression", 3, "output_units=3 does not match the regression label 'target', which needs 1 output"),
    ("multiclass", 2, "output_units=2 does not match label 'color' with 3 classes"),
])
def test_output_units_inconsistent_with_the_label(trainer_runner: Any, task: str, units: int, message: str) -> None:
    with pytest.raises(StepError, match=message) as failure:
        trainer_runner(ff(output_units=units), task)
    assert failure.value.error_type == "ConfigError"


def test_label_missing_after_preprocessing(trainer_runner: Any) -> None:
    with pytest.raises(StepError, match="label column 'target' is missing after preprocessing") as failure:
        trainer_runner(ff(label="target"), labels=["label"], features=NUMERIC)
    assert failure.value.error_type == "ConfigError"
