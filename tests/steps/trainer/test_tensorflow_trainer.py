"""The TensorFlow trainer tree: learning through pipelines, every parameter's effect, subclassing, saving, bad input."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from zenml.backends.training import TrainingContext
from zenml.exceptions import ConfigError, StepError
from zenml.steps.trainer.data import TrainingData
from zenml.steps.trainer.tensorflow_trainer import (
    KerasModel,
    TensorflowBaseTrainer,
    TensorflowFeedForwardTrainer,
    probabilities,
)

pytestmark = [
    pytest.mark.tensorflow,
    pytest.mark.skipif(
        importlib.util.find_spec("tensorflow") is None,
        reason="TensorFlow is not installed (pip install 'zenml[tensorflow]')",
    ),
]

CPU = TrainingContext(rank=0, world_size=1, local_rank=0, device="cpu")
FEATURES = ["x0", "x1", "x2", "x3"]


# -- data ----------------------------------------------------------------------------------------


def _features(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, len(FEATURES))).astype(np.float32)


def _binary(n: int = 200, seed: int = 0, flip_eval: bool = False) -> TrainingData:
    def split(rows: int, offset: int, flip: bool) -> tuple[np.ndarray, np.ndarray]:
        x = _features(rows, seed + offset)
        y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
        return x, (1 - y if flip else y)

    return TrainingData(
        features=FEATURES,
        label="y",
        task="binary",
        classes=["0", "1"],
        arrays={"train": split(n, 0, False), "eval": split(n // 2, 1, flip_eval)},
    )


def _multiclass(n: int = 240, seed: int = 0) -> TrainingData:
    def split(rows: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
        x = _features(rows, seed + offset)
        return x, np.stack([x[:, 0], x[:, 1], -x[:, 0] - x[:, 1]], axis=1).argmax(axis=1).astype(np.int64)

    return TrainingData(
        features=FEATURES,
        label="y",
        task="multiclass",
        classes=["a", "b", "c"],
        arrays={"train": split(n, 0), "eval": split(n // 2, 1)},
    )


def _regression(n: int = 200, seed: int = 0) -> TrainingData:
    def split(rows: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
        x = _features(rows, seed + offset)
        return x, (2 * x[:, 0] - x[:, 1]).astype(np.float32)

    return TrainingData(
        features=FEATURES,
        label="y",
        task="regression",
        classes=None,
        arrays={"train": split(n, 0), "eval": split(n // 2, 1)},
    )


def _train(
    trainer: TensorflowBaseTrainer, training: TrainingData, tmp_path: Path
) -> tuple[dict[str, list[float]], KerasModel]:
    """Run the trainer's loop here (as rank 0 of 1) and load what it saved."""
    workdir = tmp_path / uuid.uuid4().hex[:8]
    workdir.mkdir()
    history = trainer.train(training, CPU, str(workdir))
    return history, KerasModel(str(workdir / "model"))


def _weights(model: KerasModel) -> list[np.ndarray]:
    return [np.asarray(w) for w in model.keras_model.get_weights()]


def _same_weights(a: KerasModel, b: KerasModel) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(_weights(a), _weights(b), strict=True))


def _dense_layers(model: KerasModel) -> list[Any]:
    return [layer for layer in model.keras_model.layers if type(layer).__name__ == "Dense"]


# -- pipelines: the feed-forward trainer learns ----------------------------------------------------


def _write_csv(path: Path, task: str, n: int = 240, seed: int = 0) -> Path:
    x = np.random.default_rng(seed).normal(size=(n, 3))
    lines = ["x1,x2,x3,target"]
    for a, b, c in x:
        if task == "binary":
            target: object = int(a + 0.5 * b > 0)
        elif task == "yesno":
            target = "yes" if a + 0.5 * b > 0 else "no"
        elif task == "multiclass":
            target = ("red", "green", "blue")[int(np.argmax([a, b, -a - b]))]
        else:
            target = round(2 * a - b + 0.5 * c, 6)
        lines.append(f"{a:.6f},{b:.6f},{c:.6f},{target}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _pipeline_run(csv: Path, trainer: Any, **run_options: Any) -> Any:
    from zenml.datasources import CSVDatasource
    from zenml.pipelines import SimplePipeline
    from zenml.steps.preprocessor import StandardPreprocessor
    from zenml.steps.split import RandomSplit

    pipeline = SimplePipeline(name=f"tf-{uuid.uuid4().hex[:6]}")
    pipeline.add_datasource(CSVDatasource(path=str(csv)))
    pipeline.add_split(RandomSplit(ratios={"train": 0.7, "eval": 0.3}, seed=7))
    pipeline.add_preprocessor(StandardPreprocessor(labels=["target"]))
    pipeline.add_trainer(trainer)
    return pipeline.run(**run_options)


def _outputs(run: Any) -> tuple[Any, Any, dict[str, list[float]]]:
    outputs = run.steps["trainer"].outputs
    return outputs["model"].read(), outputs["predictions"].read(), outputs["history"].read()


def test_design_example_learns_a_numeric_binary_label_and_reloads_identically(repo: object, tmp_path: Path) -> None:
    trainer = TensorflowFeedForwardTrainer(
        hidden_layers=[64, 32], epochs=20, loss="binary_crossentropy", last_activation="sigmoid"
    )
    run = _pipeline_run(_write_csv(tmp_path / "binary.csv", "binary"), trainer)
    assert run.status == "completed"
    model, predictions, history = _outputs(run)
    assert isinstance(model, KerasModel)
    assert (model.framework, model.meta["task"], model.meta["classes"]) == ("tensorflow", "binary", ["0", "1"])
    assert {"model.keras", "zenml-model.json"} <= set(os.listdir(model.path))  # the Keras format
    assert not [name for name in os.listdir(model.path) if name.endswith((".pkl", ".pickle"))]
    assert list(history) == ["epoch", "loss", "accuracy", "eval_loss", "eval_accuracy"]
    assert history["epoch"] == [float(e) for e in range(1, 21)]
    assert history["eval_accuracy"][-1] >= 0.9
    assert history["loss"][-1] < history["loss"][0]
    table = predictions.to_table("eval")
    assert {"target", "prediction", "score", "x1", "x2", "x3"} <= set(table.column_names)
    accuracy = np.mean(table.column("prediction").to_numpy() == table.column("target").to_numpy())
    assert accuracy == pytest.approx(history["eval_accuracy"][-1])
    # The stored model, reloaded from the artifact store, predicts exactly what the step wrote.
    preprocessed = run.steps["preprocessor"].outputs
    training = TrainingData.load(preprocessed["data"].read(), preprocessed["transform"].read(), ["eval"])
    reloaded = run.steps["trainer"].outputs["model"].read()
    assert reloaded is not model and reloaded.path == model.path
    again = reloaded.predict_arrays(training.arrays["eval"][0]).reshape(-1)
    np.testing.assert_allclose(again, table.column("score").to_numpy(), rtol=1e-6)
    np.testing.assert_array_equal((again >= 0.5).astype(np.int64), table.column("prediction").to_numpy())


def test_design_example_learns_a_categorical_yes_no_label(repo: object, tmp_path: Path) -> None:
    trainer = TensorflowFeedForwardTrainer(
        hidden_layers=[64, 32], epochs=20, loss="binary_crossentropy", last_activation="sigmoid"
    )
    run = _pipeline_run(_write_csv(tmp_path / "yesno.csv", "yesno"), trainer)
    model, predictions, history = _outputs(run)
    assert (model.meta["task"], model.meta["classes"]) == ("binary", ["no", "yes"])
    assert history["eval_accuracy"][-1] >= 0.9
    assert set(predictions.to_table("eval").column("prediction").to_numpy().tolist()) <= {0, 1}


def test_multiclass_label_learns_with_class_probabilities(repo: object, tmp_path: Path) -> None:
    trainer = TensorflowFeedForwardTrainer(hidden_layers=[32], epochs=25, lr=0.01, metrics=["accuracy"])
    run = _pipeline_run(_write_csv(tmp_path / "multi.csv", "multiclass", n=300), trainer)
    model, predictions, history = _outputs(run)
    assert (model.meta["task"], model.meta["classes"]) == ("multiclass", ["blue", "green", "red"])
    assert history["eval_accuracy"][-1] >= 0.85
    table = predictions.to_table("eval")
    probas = np.column_stack([table.column(f"proba_{i}").to_numpy() for i in range(3)])
    np.testing.assert_allclose(probas.sum(axis=1), 1.0, rtol=1e-5)


def test_regression_label_learns(repo: object, tmp_path: Path) -> None:
    trainer = TensorflowFeedForwardTrainer(hidden_layers=[32], epochs=30, lr=0.01)
    run = _pipeline_run(_write_csv(tmp_path / "reg.csv", "regression"), trainer)
    model, predictions, history = _outputs(run)
    assert model.meta["task"] == "regression"
    assert list(history) == ["epoch", "loss", "mae", "eval_loss", "eval_mae"]
    table = predictions.to_table("eval")
    truth, guess = table.column("target").to_numpy(), table.column("prediction").to_numpy()
    r2 = 1 - np.sum((truth - guess) ** 2) / np.sum((truth - truth.mean()) ** 2)
    assert r2 > 0.9


class WideAndDeepTrainer(TensorflowBaseTrainer):
    """A complete custom trainer: a functional Keras model with a skip connection, plus a hook."""

    def model_fn(self, n_features: int, n_outputs: int) -> Any:
        import keras

        inputs = keras.Input((n_features,))
        deep = keras.layers.Dense(16, activation="relu")(inputs)
        merged = keras.layers.Concatenate()([inputs, deep])
        return keras.Model(inputs, keras.layers.Dense(n_outputs)(merged))

    def on_train_end(self, *, model: Any, history: dict[str, list[float]]) -> None:
        history["weight_norm"] = [float(sum(np.sum(np.square(w)) for w in model.get_weights()))]


def test_custom_trainer_subclass_runs_in_a_pipeline(repo: object, tmp_path: Path) -> None:
    run = _pipeline_run(_write_csv(tmp_path / "yesno.csv", "yesno"), WideAndDeepTrainer(epochs=15, lr=0.01))
    model, predictions, history = _outputs(run)
    assert model.meta["trainer"]["type"].endswith("WideAndDeepTrainer")
    assert history["eval_accuracy"][-1] >= 0.9
    assert len(history["epoch"]) == 15
    assert history["weight_norm"][0] > 0  # the hook ran, in the training process
    assert {type(layer).__name__ for layer in model.keras_model.layers} >= {"Concatenate", "Dense"}
    assert predictions.to_table("eval").num_rows > 0


def test_missing_label_column_fails_before_training(repo: object, tmp_path: Path) -> None:
    trainer = TensorflowFeedForwardTrainer(label="nope", epochs=1)
    with pytest.raises((ConfigError, StepError), match="label column 'nope' is missing after preprocessing"):
        _pipeline_run(_write_csv(tmp_path / "binary.csv", "binary"), trainer)


# -- every parameter changes the model or the training ---------------------------------------------


def test_hidden_layers_set_the_network_shape(tmp_path: Path) -> None:
    _, small = _train(TensorflowFeedForwardTrainer(hidden_layers=[4], epochs=1), _binary(), tmp_path)
    _, deep = _train(TensorflowFeedForwardTrainer(hidden_layers=[16, 8], epochs=1), _binary(), tmp_path)
    assert [layer.units for layer in _dense_layers(small)] == [4, 1]
    assert [layer.units for layer in _dense_layers(deep)] == [16, 8, 1]
    assert small.keras_model.count_params() == (4 * 4 + 4) + (4 + 1)
    assert deep.keras_model.count_params() == (4 * 16 + 16) + (16 * 8 + 8) + (8 + 1)
    _, default = _train(TensorflowFeedForwardTrainer(epochs=1), _binary(), tmp_path)
    assert [layer.units for layer in _dense_layers(default)] == [64, 32, 1]


def test_activation_sets_the_hidden_activation(tmp_path: Path) -> None:
    x = _binary().arrays["eval"][0]
    _, relu = _train(TensorflowFeedForwardTrainer(hidden_layers=[8], epochs=1), _binary(), tmp_path)
    _, tanh = _train(TensorflowFeedForwardTrainer(hidden_layers=[8], activation="tanh", epochs=1), _binary(), tmp_path)
    assert _dense_layers(relu)[0].get_config()["activation"] == "relu"
    assert _dense_layers(tanh)[0].get_config()["activation"] == "tanh"
    assert not np.allclose(relu.predict_arrays(x), tanh.predict_arrays(x))


def test_last_activation_fixes_the_task_and_is_checked_against_the_label(tmp_path: Path) -> None:
    hints = {name: TensorflowFeedForwardTrainer(last_activation=name).task_hint() for name in ("sigmoid", "softmax")}
    assert hints == {"sigmoid": "binary", "softmax": "multiclass"}
    assert TensorflowFeedForwardTrainer(last_activation="linear").task_hint() == "regression"
    _, model = _train(TensorflowFeedForwardTrainer(last_activation="softmax", epochs=1), _multiclass(), tmp_path)
    assert model.predict_arrays(_multiclass().arrays["eval"][0]).shape[1] == 3
    with pytest.raises(ConfigError, match="last_activation='linear' asks for regression, but label 'y' is a binary"):
        _train(TensorflowFeedForwardTrainer(last_activation="linear", epochs=1), _binary(), tmp_path)


def test_output_units_set_the_output_layer_and_must_fit_the_label(tmp_path: Path) -> None:
    _, model = _train(
        TensorflowFeedForwardTrainer(hidden_layers=[8], output_units=3, epochs=1), _multiclass(), tmp_path
    )
    assert _dense_layers(model)[-1].units == 3
    with pytest.raises(ConfigError, match="output_units=2 does not match label 'y' with 3 classes"):
        _train(TensorflowFeedForwardTrainer(output_units=2, epochs=1), _multiclass(), tmp_path)
    with pytest.raises(ConfigError, match="output_units=2 does not match the binary label 'y', which needs 1 output"):
        _train(TensorflowFeedForwardTrainer(output_units=2, epochs=1), _binary(), tmp_path)


def test_loss_selects_the_objective(tmp_path: Path) -> None:
    runs = {
        loss: _train(TensorflowFeedForwardTrainer(hidden_layers=[8], loss=loss, epochs=2), _regression(), tmp_path)
        for loss in ("mse", "mae", "huber")
    }
    first = {loss: history["loss"][0] for loss, (history, _) in runs.items()}
    assert len({round(v, 6) for v in first.values()}) == 3
    # Huber is quadratic for small errors and linear for large ones: never above MSE / 2 + MAE.
    assert first["huber"] < first["mse"]
    assert not _same_weights(runs["mse"][1], runs["mae"][1])


def test_metrics_choose_the_history_keys(tmp_path: Path) -> None:
    trainer = TensorflowFeedForwardTrainer(hidden_layers=[8], metrics=["accuracy", "auc", "mse"], epochs=2)
    history, _ = _train(trainer, _binary(), tmp_path)
    assert list(history) == [
        "epoch",
        "loss",
        "accuracy",
        "auc",
        "mse",
        "eval_loss",
        "eval_accuracy",
        "eval_auc",
        "eval_mse",
    ]
    assert all(0 <= v <= 1 for v in history["eval_auc"])
    default, _ = _train(TensorflowFeedForwardTrainer(hidden_layers=[8], epochs=1), _binary(), tmp_path)
    assert list(default) == ["epoch", "loss", "accuracy", "eval_loss", "eval_accuracy"]


def test_optimizer_selects_the_update_rule(tmp_path: Path) -> None:
    models = {
        name: _train(TensorflowFeedForwardTrainer(hidden_layers=[8], optimizer=name, epochs=2), _binary(), tmp_path)[1]
        for name in ("adam", "sgd", "rmsprop")
    }
    assert not _same_weights(models["adam"], models["sgd"])
    assert not _same_weights(models["adam"], models["rmsprop"])
    assert not _same_weights(models["sgd"], models["rmsprop"])


def test_lr_scales_the_updates(tmp_path: Path) -> None:
    _, start = _train(TensorflowFeedForwardTrainer(hidden_layers=[8], lr=1e-9, epochs=1), _binary(), tmp_path)

    def moved(lr: float) -> float:
        _, end = _train(TensorflowFeedForwardTrainer(hidden_layers=[8], lr=lr, epochs=1), _binary(), tmp_path)
        return float(sum(np.abs(a - b).sum() for a, b in zip(_weights(start), _weights(end), strict=True)))

    assert moved(0.05) > 5 * moved(0.001)


def test_batch_size_changes_the_steps(tmp_path: Path) -> None:
    small, small_model = _train(
        TensorflowFeedForwardTrainer(hidden_layers=[8], batch_size=8, epochs=1), _binary(), tmp_path
    )
    large, large_model = _train(
        TensorflowFeedForwardTrainer(hidden_layers=[8], batch_size=100, epochs=1), _binary(), tmp_path
    )
    assert not _same_weights(small_model, large_model)
    assert small["loss"][0] != large["loss"][0]


def test_epochs_set_the_history_length(tmp_path: Path) -> None:
    history, _ = _train(TensorflowFeedForwardTrainer(hidden_layers=[8], epochs=3), _binary(), tmp_path)
    assert history["epoch"] == [1.0, 2.0, 3.0]
    assert all(len(values) == 3 for values in history.values())


def test_dropout_adds_dropout_layers(tmp_path: Path) -> None:
    _, plain = _train(TensorflowFeedForwardTrainer(hidden_layers=[16, 8], epochs=2), _binary(), tmp_path)
    _, dropped = _train(TensorflowFeedForwardTrainer(hidden_layers=[16, 8], dropout=0.5, epochs=2), _binary(), tmp_path)
    rates = [layer.rate for layer in dropped.keras_model.layers if type(layer).__name__ == "Dropout"]
    assert rates == [0.5, 0.5]
    assert not any(type(layer).__name__ == "Dropout" for layer in plain.keras_model.layers)
    assert not _same_weights(plain, dropped)


def test_seed_makes_training_reproducible(tmp_path: Path) -> None:
    def fit(seed: int) -> tuple[dict[str, list[float]], KerasModel]:
        trainer = TensorflowFeedForwardTrainer(hidden_layers=[8], dropout=0.2, seed=seed, epochs=2)
        return _train(trainer, _binary(), tmp_path)

    (history_a, a), (history_b, b), (_, c) = fit(3), fit(3), fit(4)
    assert _same_weights(a, b)
    assert history_a == history_b
    assert not _same_weights(a, c)


def _bce(probability: np.ndarray, labels: np.ndarray) -> float:
    p = np.clip(probability.reshape(-1).astype(np.float64), 1e-7, 1 - 1e-7)
    return float(-np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p)))


def test_early_stopping_stops_before_epochs_and_restores_the_best_weights(tmp_path: Path) -> None:
    # The eval labels are the train labels flipped: the better the fit, the worse the eval loss.
    training = _binary(flip_eval=True)
    trainer = TensorflowFeedForwardTrainer(hidden_layers=[8], lr=0.05, epochs=30, early_stopping_patience=2)
    history, model = _train(trainer, training, tmp_path)
    assert len(history["epoch"]) < 30
    best = int(np.argmin(history["eval_loss"]))
    assert len(history["epoch"]) == best + 1 + 2  # stopped after `patience` epochs without improvement
    x, y = training.arrays["eval"]
    assert _bce(model.predict_arrays(x), y) == pytest.approx(history["eval_loss"][best], rel=1e-4)
    assert _bce(model.predict_arrays(x), y) < history["eval_loss"][-1]
    full, _ = _train(TensorflowFeedForwardTrainer(hidden_layers=[8], lr=0.05, epochs=6), training, tmp_path)
    assert len(full["epoch"]) == 6  # patience 0: never stops early


# -- subclassing: hooks, train_step, model_fn checks ------------------------------------------------


class RecordingTrainer(TensorflowBaseTrainer):
    """Overrides model_fn, loss_fn, optimizer_fn, train_step and every lifecycle hook."""

    def model_fn(self, n_features: int, n_outputs: int) -> Any:
        import keras

        return keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(n_outputs)])

    def loss_fn(self, task: str) -> Any:
        self.events().append(f"loss_fn:{task}")
        return super().loss_fn(task)

    def optimizer_fn(self) -> Any:
        import keras

        self.events().append("optimizer_fn")
        return keras.optimizers.SGD(learning_rate=self.lr, momentum=0.5)

    def train_step(self, *, model: Any, features: Any, labels: Any, loss_fn: Any, optimizer: Any) -> Any:
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = loss_fn(model(features, training=True), labels)
        gradients = [tf.clip_by_norm(g, 1.0) for g in tape.gradient(loss, model.trainable_variables)]
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return loss

    def events(self) -> list[str]:
        if not hasattr(self, "events_"):
            self.events_: list[str] = []
        return self.events_

    def on_train_start(self, *, model: Any, training: TrainingData, context: Any) -> None:
        self.events().append(f"train_start:{training.task}:{context.rank}")
        self.initial_ = [np.array(w) for w in model.get_weights()]

    def on_epoch_start(self, *, epoch: int, model: Any) -> None:
        self.events().append(f"epoch_start:{epoch}")

    def on_epoch_end(self, *, epoch: int, logs: dict[str, float], model: Any) -> None:
        self.events().append(f"epoch_end:{epoch}:{sorted(logs)}")

    def on_train_end(self, *, model: Any, history: dict[str, list[float]]) -> None:
        self.events().append(f"train_end:{len(history['epoch'])}")
        self.final_ = model


def test_hooks_fire_in_order_and_a_custom_train_step_trains(tmp_path: Path) -> None:
    trainer = RecordingTrainer(epochs=2, lr=0.1)
    history, model = _train(trainer, _binary(), tmp_path)
    logs = "['accuracy', 'eval_accuracy', 'eval_loss', 'loss']"
    assert trainer.events_ == [
        "loss_fn:binary",
        "optimizer_fn",
        "train_start:binary:0",
        "epoch_start:1",
        f"epoch_end:1:{logs}",
        "epoch_start:2",
        f"epoch_end:2:{logs}",
        "train_end:2",
    ]
    assert not all(np.array_equal(a, b) for a, b in zip(trainer.initial_, _weights(model), strict=True))
    assert history["loss"][1] < history["loss"][0]
    # The saved model is exactly the trained in-memory one.
    x = _binary().arrays["eval"][0]
    expected = probabilities(trainer.final_(x, training=False).numpy(), "binary")
    np.testing.assert_allclose(model.predict_arrays(x), expected, rtol=1e-6)


class NotAModelTrainer(TensorflowBaseTrainer):
    def model_fn(self, n_features: int, n_outputs: int) -> Any:
        import keras

        return keras.layers.Dense(n_outputs)  # a layer, not a keras.Model


class TwoOutputsTrainer(TensorflowBaseTrainer):
    def model_fn(self, n_features: int, n_outputs: int) -> Any:
        import keras

        return keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(2)])


def test_model_fn_returning_the_wrong_type_names_the_trainer(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"NotAModelTrainer\.model_fn must return a keras\.Model, got Dense"):
        _train(NotAModelTrainer(epochs=1), _binary(), tmp_path)
    with pytest.raises(ConfigError, match=r"TwoOutputsTrainer\.model_fn's model has 2 outputs, but label 'y' has 3"):
        _train(TwoOutputsTrainer(epochs=1), _multiclass(), tmp_path)


def test_a_non_tensorflow_multi_process_backend_is_refused(tmp_path: Path) -> None:
    context = TrainingContext(rank=0, world_size=2, local_rank=0, device="cpu", distribution={"framework": "torch"})
    with pytest.raises(ConfigError, match="TensorflowFeedForwardTrainer is a TensorFlow trainer.*2 processes"):
        TensorflowFeedForwardTrainer(epochs=1).train(_binary(), context, str(tmp_path))


# -- bad parameters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"loss": "cross_entropy"},
            "loss 'cross_entropy' is unknown; use one of binary_crossentropy, "
            "categorical_crossentropy, mse, mae, huber",
        ),
        ({"optimizer": "adagrad"}, "optimizer 'adagrad' is unknown; use one of adam, adamw, sgd, rmsprop"),
        ({"metrics": ["f1"]}, "metric 'f1' is unknown; use accuracy, auc, mae or mse"),
        ({"activation": "swish"}, "activation 'swish' is unknown; use one of relu, tanh"),
        ({"last_activation": "relu"}, "last_activation 'relu' is unknown; use one of sigmoid, softmax, linear"),
        ({"epochs": 0}, "epochs must be at least 1, got 0"),
        ({"batch_size": 0}, "batch_size must be at least 1, got 0"),
        ({"lr": 0.0}, "lr must be positive, got 0.0"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\), got 1.0"),
        ({"hidden_layers": [8, 0]}, "hidden_layers must be positive integers, got 0"),
        ({"output_units": 0}, "output_units must be at least 1, got 0"),
    ],
)
def test_bad_parameters_are_config_errors(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=f"TensorflowFeedForwardTrainer {message}"):
        TensorflowFeedForwardTrainer(**params).validate()
    config = {"type": "zenml.steps.trainer.tensorflow_trainer.TensorflowFeedForwardTrainer", "params": params}
    with pytest.raises(ConfigError, match=message):
        TensorflowFeedForwardTrainer.from_config(config)


def test_base_trainer_validates_its_parameters_too() -> None:
    with pytest.raises(ConfigError, match="RecordingTrainer epochs must be at least 1, got 0"):
        RecordingTrainer(epochs=0).validate()
    with pytest.raises(ConfigError, match="RecordingTrainer loss 'hinge' is unknown; use one of binary_crossentropy"):
        RecordingTrainer(loss="hinge").validate()


def test_conformance() -> None:
    from zenml.testing import check_step

    check_step(
        TensorflowFeedForwardTrainer(hidden_layers=[4], metrics=["auc"], dropout=0.1, split_mapping={"train": "fit"})
    )
    check_step(WideAndDeepTrainer(epochs=3))


def test_parameters_round_trip_through_the_config() -> None:
    trainer = TensorflowFeedForwardTrainer(
        hidden_layers=[64, 32], epochs=20, loss="binary_crossentropy", last_activation="sigmoid", metrics=["auc"]
    )
    assert TensorflowFeedForwardTrainer.from_config(trainer.to_config()) == trainer
    assert trainer.clone() == trainer
    assert list(TensorflowFeedForwardTrainer().get_params()) == [
        "hidden_layers",
        "activation",
        "last_activation",
        "output_units",
        "dropout",
        "metrics",
        "epochs",
        "batch_size",
        "lr",
        "optimizer",
        "loss",
        "seed",
        "early_stopping_patience",
        "split_mapping",
        "label",
        "task",
    ]


# -- the module stays light; the numeric helpers ----------------------------------------------------


def test_importing_the_tensorflow_modules_does_not_import_tensorflow() -> None:
    code = (
        "import sys, zenml, zenml.steps.trainer as t, zenml.steps.trainer.tensorflow_trainer, "
        "zenml.backends.training.tensorflow; t.TensorflowFeedForwardTrainer; "
        "print(sorted(m for m in ('tensorflow', 'keras', 'torch') if m in sys.modules))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(output.strip().replace("'", '"')) == []


def test_probabilities_from_logits() -> None:
    logits = np.array([[-1000.0], [0.0], [1000.0]], np.float32)
    np.testing.assert_allclose(probabilities(logits, "binary"), [[0.0], [0.5], [1.0]])
    soft = probabilities(np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]], np.float32), "multiclass")
    np.testing.assert_allclose(soft.sum(axis=1), 1.0, rtol=1e-6)
    assert soft[1].argmax() == 0
    np.testing.assert_array_equal(probabilities(np.array([[2.5, 9.0]], np.float32), "regression"), [[2.5]])
