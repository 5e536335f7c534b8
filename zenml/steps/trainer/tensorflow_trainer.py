"""The TensorFlow trainer tree: ``TensorflowBaseTrainer`` (the loop, distribution, saving) and its feed-forward child.

Users subclass ``TensorflowBaseTrainer`` and override ``model_fn`` (and optionally the hooks
``loss_fn``, ``optimizer_fn``, ``train_step``, ``on_train_start``/``on_train_end``,
``on_epoch_start``/``on_epoch_end``); seeding, batching with ``tf.data``, device placement,
distribution strategies, early stopping, history, predictions and saving come from the base class.

The loop is a custom one (``tf.GradientTape`` + ``optimizer.apply_gradients`` run through
``strategy.run``) rather than ``model.fit``: Keras 3's ``fit`` fails under
``MultiWorkerMirroredStrategy`` (keras-team/keras#20585). Models are saved in the Keras format
(``model.keras``) and loaded with ``safe_mode``; never pickled.
"""

from __future__ import annotations

import abc
import contextlib
import importlib
import math
import os
import tempfile
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from zenml.exceptions import ConfigError
from zenml.steps.metrics import epoch_metrics
from zenml.steps.task import check_task
from zenml.steps.trainer.base import BaseTrainerStep, TrainedModel
from zenml.steps.trainer.data import TrainingData
from zenml.steps.trainer.torch_trainer import (
    LOSS_TASKS,
    LOSSES,
    OPTIMIZERS,
    FeedForwardParams,
    check_training_params,
)

__all__ = ["KerasModel", "TensorflowBaseTrainer", "TensorflowFeedForwardTrainer", "probabilities"]

if TYPE_CHECKING:
    import keras
    import numpy as np

MODEL_FILE = "model.keras"
PREDICT_BATCH = 8192  # rows per forward pass when predicting (bounds memory on large splits)


def _tf() -> Any:
    try:
        import tensorflow as tf
    except ImportError as exc:
        raise ConfigError("TensorFlow trainers need TensorFlow: pip install 'zenml[tensorflow]'") from exc
    return tf


def _keras() -> Any:
    _tf()
    import keras

    return keras


@contextlib.contextmanager
def _keras_variable_conversions() -> Iterator[None]:
    """Silence one known, harmless warning while Keras converts its own variables to NumPy.

    Keras 3's ``Variable.__array__`` takes no ``copy`` keyword, so NumPy 2 emits a
    ``DeprecationWarning`` each time Keras itself calls ``np.array(variable)`` (saving and
    loading do); under ``-W error`` that would fail every save.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="__array__ implementation doesn't accept a copy keyword", category=DeprecationWarning
        )
        yield


def probabilities(logits: np.ndarray, task: str) -> np.ndarray:
    """Model outputs from logits: sigmoid of the last column (binary), softmax (multiclass), or the values."""
    import numpy as np

    values = logits.reshape(len(logits), -1).astype(np.float64)
    if task == "binary":
        return np.exp(-np.logaddexp(0.0, -values[:, -1:])).astype(np.float32)  # a sigmoid that never overflows
    if task == "multiclass":
        shifted = np.exp(values - values.max(axis=1, keepdims=True))
        normalised: np.ndarray = shifted / shifted.sum(axis=1, keepdims=True)
        return normalised.astype(np.float32)
    return values[:, :1].astype(np.float32)


def _forward(model: Any, features: np.ndarray) -> np.ndarray:
    """Logits for a feature matrix, in bounded batches (inference mode)."""
    import numpy as np

    if not len(features):
        empty: np.ndarray = model(np.zeros((1, features.shape[1]), np.float32), training=False).numpy()
        return empty[:0]
    chunks = [
        model(features[start : start + PREDICT_BATCH], training=False).numpy()
        for start in range(0, len(features), PREDICT_BATCH)
    ]
    return np.concatenate(chunks)


class KerasModel(TrainedModel):
    """A Keras model saved as ``model.keras`` (the trainer's ``model_fn`` output, emitting logits)."""

    framework = "tensorflow"

    def __init__(self, path: str, *, ephemeral: bool = False) -> None:
        super().__init__(path, ephemeral=ephemeral)
        self._model: Any = None

    @property
    def keras_model(self) -> keras.Model:
        """The loaded Keras model (``compile=False``, ``safe_mode=True``)."""
        if self._model is None:
            keras = _keras()
            # A custom trainer's module registers any custom layers it serialises; import it first.
            trainer_type = str(self.meta.get("trainer", {}).get("type", ""))
            if "." in trainer_type:
                with contextlib.suppress(ImportError):
                    importlib.import_module(trainer_type.rsplit(".", 1)[0])
            with _keras_variable_conversions():
                path = os.path.join(self.path, MODEL_FILE)
                self._model = keras.saving.load_model(path, compile=False, safe_mode=True)
        return self._model

    def logits(self, features: np.ndarray) -> np.ndarray:
        """The model's raw outputs for a float32 feature matrix."""
        return _forward(self.keras_model, features)

    def predict_arrays(self, features: np.ndarray) -> np.ndarray:
        """Probabilities (classification) or values (regression) for a feature matrix."""
        return probabilities(self.logits(features), self.meta["task"])


class TensorflowBaseTrainer(BaseTrainerStep):
    """A TensorFlow/Keras trainer: override ``model_fn``; everything else has working defaults.

    Under ``TensorflowDistributedTraining`` the model and optimizer are built inside the
    distribution strategy's scope and each step runs through ``strategy.run``; under
    ``LocalTraining`` the default strategy runs the same code on the context's device.

    Args:
        epochs: passes over the training split (at least 1).
        batch_size: rows per optimisation step per replica (the global batch is
            ``batch_size * replicas`` when distributed).
        lr: learning rate of the default optimizer.
        optimizer: ``adam``, ``adamw``, ``sgd`` or ``rmsprop``.
        loss: ``binary_crossentropy``, ``categorical_crossentropy``, ``mse``, ``mae``, ``huber``
            (default: chosen from the task).
        seed: seeds Python, NumPy, TensorFlow and Keras, the batching order and initialisation.
        early_stopping_patience: stop after this many epochs without a better eval loss
            (0 = never); the best weights are kept.
        split_mapping: split → ``fit``/``predict``/``skip``.
        label: the label to learn (default: the preprocessor's first label).
        task: ``binary``, ``multiclass`` or ``regression``; default: the label's task (see
            ``zenml.steps.task``), or what ``loss`` asks for.

    Examples:
        >>> class TinyTrainer(TensorflowBaseTrainer):
        ...     def model_fn(self, n_features, n_outputs):
        ...         import keras
        ...         return keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(n_outputs)])
    """

    def __init__(
        self,
        epochs: int = 10,
        batch_size: int = 32,
        lr: float = 1e-3,
        optimizer: str = "adam",
        loss: str | None = None,
        seed: int = 0,
        early_stopping_patience: int = 0,
        split_mapping: dict[str, str] | None = None,
        label: str | None = None,
        task: str | None = None,
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.loss = loss
        self.seed = seed
        self.early_stopping_patience = early_stopping_patience
        self.split_mapping = split_mapping
        self.label = label
        self.task = task

    def check_params(self, params: dict[str, object]) -> None:
        """Validate epochs, batch size, learning rate, loss, optimizer and task names."""
        super().check_params(params)
        check_training_params(params, LOSSES, OPTIMIZERS, type(self).__name__)
        check_task(params.get("task"), type(self).__name__)

    def task_hints(self) -> dict[str, str]:
        """``task``, then the loss: a cross-entropy asks for classes, ``mse``/``mae``/``huber`` for regression."""
        hints = super().task_hints()
        if self.loss in LOSS_TASKS:
            hints[f"loss='{self.loss}'"] = LOSS_TASKS[self.loss]
        return hints

    def model_class(self) -> type[TrainedModel]:
        """Loads ``.keras`` models."""
        return KerasModel

    # -- hooks (model) ---------------------------------------------------------------------------

    @abc.abstractmethod
    def model_fn(self, n_features: int, n_outputs: int) -> keras.Model:
        """Build the network: ``n_features`` inputs, ``n_outputs`` outputs (logits for classification).

        Called once per training process, after seeding and inside the distribution strategy's
        scope. Return a ``keras.Model`` (``Sequential``, functional or a registered subclass)
        whose layers can be saved in the Keras format.
        """

    def loss_fn(self, task: str) -> Any:
        """The per-example loss: from ``loss``, else binary/categorical cross-entropy or MSE.

        Return a Keras loss with ``reduction=None`` (per-example values): the loop averages it
        over the global batch, so the result is the same with one replica or many. Outputs are
        logits; binary labels arrive as ``(batch, 1)`` floats, class labels as integer indexes.
        """
        keras = _keras()
        name = self.loss or {"binary": "binary_crossentropy", "multiclass": "categorical_crossentropy"}.get(task, "mse")
        return {
            "binary_crossentropy": lambda: keras.losses.BinaryCrossentropy(from_logits=True, reduction=None),
            "categorical_crossentropy": lambda: keras.losses.SparseCategoricalCrossentropy(
                from_logits=True, reduction=None
            ),
            "mse": lambda: keras.losses.MeanSquaredError(reduction=None),
            "mae": lambda: keras.losses.MeanAbsoluteError(reduction=None),
            "huber": lambda: keras.losses.Huber(reduction=None),
        }[name]()

    def optimizer_fn(self) -> Any:
        """The Keras optimizer (from ``optimizer`` and ``lr``); built inside the strategy's scope."""
        keras = _keras()
        classes = {
            "adam": keras.optimizers.Adam,
            "adamw": keras.optimizers.AdamW,
            "sgd": keras.optimizers.SGD,
            "rmsprop": keras.optimizers.RMSprop,
        }
        return classes[self.optimizer](learning_rate=self.lr)

    def train_step(self, *, model: Any, features: Any, labels: Any, loss_fn: Any, optimizer: Any) -> Any:
        """One optimisation step on one replica's batch; returns the loss tensor.

        Runs inside ``tf.function`` and the strategy's replica context. ``loss_fn(outputs,
        labels)`` already matches the model's outputs to the task's labels and averages over
        the global batch, so the replicas' losses add up to the batch loss.
        """
        tf = _tf()
        with tf.GradientTape() as tape:
            loss = loss_fn(model(features, training=True), labels)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return loss

    # -- hooks (lifecycle, keyword-only so new information can be added later) -------------------

    def on_train_start(self, *, model: Any, training: TrainingData, context: Any) -> None:
        """Before the first epoch (every process), with the built model."""

    def on_epoch_start(self, *, epoch: int, model: Any) -> None:
        """Before each epoch (1-based)."""

    def on_epoch_end(self, *, epoch: int, logs: dict[str, float], model: Any) -> None:
        """After each epoch with its loss and metrics (``logs``), before early stopping decides."""

    def on_train_end(self, *, model: Any, history: dict[str, list[float]]) -> None:
        """After the last epoch with the best weights restored, before saving (every process)."""

    # -- the loop --------------------------------------------------------------------------------

    def train(self, training: TrainingData, context: Any, workdir: str) -> dict[str, list[float]]:
        """Seeded custom-loop training under the context's strategy; the primary process saves the (best) model."""
        strategy = _strategy(context, type(self).__name__)  # first: multi-worker setup precedes other ops
        _keras().utils.set_random_seed(self.seed)
        with _device(context) if strategy is None else contextlib.nullcontext():
            strategy = strategy or _tf().distribute.get_strategy()
            return _Loop(self, training, context, strategy).run(workdir)

    def build_model(self, training: TrainingData) -> Any:
        """Call ``model_fn``, check what it returned, and build it for the feature width.

        Raises:
            ConfigError: ``model_fn`` did not return a ``keras.Model``, or its output width does
                not fit a multiclass label.
        """
        keras = _keras()
        import numpy as np

        model = self.model_fn(training.n_features, training.n_outputs)
        if not isinstance(model, keras.Model):
            raise ConfigError(f"{type(self).__name__}.model_fn must return a keras.Model, got {type(model).__name__}")
        width = _forward(model, np.zeros((1, training.n_features), np.float32)).reshape(1, -1)
        if training.task == "multiclass" and width.shape[1] != training.n_outputs:
            raise ConfigError(
                f"{type(self).__name__}.model_fn's model has {width.shape[1]} outputs, but label "
                f"'{training.label}' has {training.n_outputs} classes"
            )
        return model

    def save(self, model: Any, training: TrainingData, workdir: str, context: Any) -> None:
        """Save ``model/model.keras`` and ``zenml-model.json`` (the primary process keeps them).

        Every process saves, as TensorFlow's multi-worker guide asks (reading distributed
        variables may need all workers); the others write to a temporary folder they delete.
        """
        if context.is_primary:
            folder = os.path.join(workdir, "model")
            os.makedirs(folder, exist_ok=True)
            with _keras_variable_conversions():
                model.save(os.path.join(folder, MODEL_FILE))
            self.save_meta(folder, training)
            return
        with tempfile.TemporaryDirectory(prefix="zenml-worker-model-") as scratch, _keras_variable_conversions():
            model.save(os.path.join(scratch, MODEL_FILE))


class _Loop:
    """One training run of a ``TensorflowBaseTrainer`` (state shared by the loop's small steps)."""

    def __init__(self, trainer: TensorflowBaseTrainer, training: TrainingData, context: Any, strategy: Any) -> None:
        self.trainer = trainer
        self.training = training
        self.context = context
        self.strategy = strategy
        self.task = training.task
        self.per_example = _task_loss(trainer.loss_fn(training.task), training.task)
        self.metrics = trainer.metric_names(training.task)

    def run(self, workdir: str) -> dict[str, list[float]]:
        trainer, training = self.trainer, self.training
        with self.strategy.scope():
            model = trainer.build_model(training)
            optimizer = trainer.optimizer_fn()
            optimizer.build(model.trainable_variables)
        dataset = self._dataset()
        step = self._distributed_step(model, optimizer, dataset.element_spec)
        eval_split = "eval" if "eval" in training.arrays else None
        history: dict[str, list[float]] = {"epoch": [], "loss": []}
        best: tuple[float, list[Any]] | None = None
        waited = 0
        trainer.on_train_start(model=model, training=training, context=self.context)
        progress = trainer.epoch_progress(trainer.epochs)
        for epoch in range(1, trainer.epochs + 1):
            trainer.on_epoch_start(epoch=epoch, model=model)
            losses = [step(batch) for batch in dataset]  # tensors: no device sync until the epoch ends
            logs = {"loss": sum(float(loss) for loss in losses) / len(losses) if losses else math.nan}
            logs.update(self._evaluate(model, *self._fit_arrays(), prefix=""))
            if eval_split:
                logs.update(self._evaluate(model, *training.arrays[eval_split], prefix="eval_"))
                logs["eval_loss"] = self._agreed(logs["eval_loss"])
            _append(history, epoch, logs)
            trainer.on_epoch_end(epoch=epoch, logs=logs, model=model)
            progress.advance()
            if trainer.early_stopping_patience and eval_split:
                if best is None or logs["eval_loss"] < best[0] - 1e-12:
                    best, waited = (logs["eval_loss"], model.get_weights()), 0
                else:
                    waited += 1
                    if waited >= trainer.early_stopping_patience:
                        break
        progress.close()
        if best is not None:
            with _keras_variable_conversions():
                model.set_weights(best[1])
        trainer.on_train_end(model=model, history=history)
        trainer.save(model, training, workdir, self.context)
        return history

    def _fit_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        splits = self.trainer.fit_splits(self.training)
        if len(splits) == 1:
            return self.training.arrays[splits[0]]
        return (
            np.concatenate([self.training.arrays[s][0] for s in splits]),
            np.concatenate([self.training.arrays[s][1] for s in splits]),
        )

    def _dataset(self) -> Any:
        """Shuffled (seeded, identically on every worker) global batches, distributed over the replicas."""
        tf = _tf()
        x, y = self._fit_arrays()
        global_batch = self.trainer.batch_size * self.strategy.num_replicas_in_sync
        dataset = (
            tf.data.Dataset.from_tensor_slices((x, y))
            .shuffle(max(len(x), 1), seed=self.trainer.seed, reshuffle_each_iteration=True)
            .batch(global_batch)
        )
        options = tf.data.Options()
        # Every worker reads the same (small, in-memory) arrays; DATA sharding splits each global batch.
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        return self.strategy.experimental_distribute_dataset(dataset.with_options(options))

    def _distributed_step(self, model: Any, optimizer: Any, batch_spec: Any) -> Any:
        """``step(batch)``: one synchronous step on every replica; returns the global batch loss.

        Traced once for ``batch_spec`` (the distributed dataset's element spec, whose batch
        dimension is unknown), so the last, smaller batch does not trace it again.
        """
        tf = _tf()
        strategy, trainer, per_example = self.strategy, self.trainer, self.per_example
        replicas = strategy.num_replicas_in_sync

        def scaled_loss(outputs: Any, labels: Any) -> Any:
            values = per_example(outputs, labels)
            if values.shape.rank == 0:  # a reducing loss: already a mean over this replica's rows
                return values / replicas
            count = tf.cast(tf.shape(values)[0], values.dtype)
            if replicas > 1:  # the true global batch, also for the last, partial one
                count = tf.distribute.get_replica_context().all_reduce("sum", count)
            return tf.math.divide_no_nan(tf.reduce_sum(values), count)

        def replica_step(features: Any, labels: Any) -> Any:
            return trainer.train_step(
                model=model, features=features, labels=labels, loss_fn=scaled_loss, optimizer=optimizer
            )

        def step(batch: Any) -> Any:
            losses = strategy.run(replica_step, args=batch)
            return strategy.reduce("SUM", losses, axis=None)

        return tf.function(step, input_signature=[batch_spec])

    def _agreed(self, value: float) -> float:
        """One value for every replica (their mean), so early stopping decides alike on every worker."""
        if self.strategy.num_replicas_in_sync == 1:
            return value
        tf = _tf()
        per_replica = self.strategy.run(lambda: tf.constant(value, tf.float64))
        return float(self.strategy.reduce("MEAN", per_replica, axis=None))

    def _evaluate(self, model: Any, x: np.ndarray, y: np.ndarray, prefix: str) -> dict[str, float]:
        logits = _forward(model, x)
        logs: dict[str, float] = {}
        if prefix:
            logs[f"{prefix}loss"] = float(_mean(self.per_example(logits, y)))
        values = epoch_metrics(probabilities(logits, self.task), y, self.task, self.metrics)
        logs.update({f"{prefix}{name}": value for name, value in values.items()})
        return logs


def _task_loss(loss: Any, task: str) -> Any:
    """Per-example loss of logits against the task's labels (shapes matched here, once)."""
    tf = _tf()

    def compute(outputs: Any, labels: Any) -> Any:
        outputs = tf.reshape(tf.convert_to_tensor(outputs), (tf.shape(outputs)[0], -1))
        if task == "multiclass":
            return loss(tf.cast(labels, tf.int64), outputs)
        column = outputs[:, -1:] if task == "binary" else outputs[:, :1]
        return loss(tf.reshape(tf.cast(labels, column.dtype), (-1, 1)), column)

    return compute


def _mean(values: Any) -> float:
    tf = _tf()
    return float(tf.reduce_mean(values)) if values.shape.rank else float(values)


def _strategy(context: Any, owner: str) -> Any:
    """The ``tf.distribute`` strategy the training context asks for; ``None`` for a single process.

    Raises:
        ConfigError: several processes that are not coordinated by TensorFlow (e.g. a PyTorch backend).
    """
    tf = _tf()
    distribution = dict(getattr(context, "distribution", None) or {})
    if distribution.get("framework") == "tensorflow":
        if distribution.get("strategy") == "multi_worker":
            return tf.distribute.MultiWorkerMirroredStrategy()  # reads TF_CONFIG
        if distribution.get("strategy") == "mirrored":
            return tf.distribute.MirroredStrategy()
    if context.world_size > 1:
        raise ConfigError(
            f"{owner} is a TensorFlow trainer, but the training backend runs {context.world_size} processes "
            f"with {distribution or 'no'} distribution; use TensorflowDistributedTraining or LocalTraining"
        )
    return None


def _device(context: Any) -> Any:
    """Pin a single-process run to the context's device (strategies place their own replicas)."""
    tf = _tf()
    device = str(getattr(context, "device", "cpu"))
    if device.startswith("cuda"):
        return tf.device(f"/GPU:{device.partition(':')[2] or 0}")
    return tf.device("/CPU:0")


def _append(history: dict[str, list[float]], epoch: int, logs: dict[str, float]) -> None:
    history["epoch"].append(float(epoch))
    for name, value in logs.items():
        history.setdefault(name, []).append(float(value))


class TensorflowFeedForwardTrainer(FeedForwardParams, TensorflowBaseTrainer):
    """A fully connected Keras network: ``hidden_layers`` of ``activation`` units with ``dropout``.

    ``epochs``, ``batch_size``, ``lr``, ``optimizer``, ``loss``, ``seed``,
    ``early_stopping_patience``, ``split_mapping``, ``label`` and ``task`` are as in ``TensorflowBaseTrainer``.

    Args:
        hidden_layers: units per hidden layer (default ``[64, 32]``).
        activation: hidden activation (relu, tanh, sigmoid, gelu, elu, leaky_relu, linear).
        last_activation: ``sigmoid`` (binary), ``softmax`` (multi-class) or ``linear``
            (regression); default: from the label. The network emits logits; the activation is
            applied to predictions and fixes the task.
        output_units: width of the output layer (default: from the label; checked against it).
        dropout: dropout after every hidden layer.
        metrics: per-epoch metrics (accuracy, auc, mae, mse).

    Examples:
        >>> trainer = TensorflowFeedForwardTrainer(hidden_layers=[64, 32], epochs=20,
        ...                                        loss="binary_crossentropy", last_activation="sigmoid")
    """

    def __init__(
        self,
        hidden_layers: list[int] | None = None,
        activation: str = "relu",
        last_activation: str | None = None,
        output_units: int | None = None,
        dropout: float = 0.0,
        metrics: list[str] | None = None,
        epochs: int = 10,
        batch_size: int = 32,
        lr: float = 1e-3,
        optimizer: str = "adam",
        loss: str | None = None,
        seed: int = 0,
        early_stopping_patience: int = 0,
        split_mapping: dict[str, str] | None = None,
        label: str | None = None,
        task: str | None = None,
    ) -> None:
        self.hidden_layers = hidden_layers
        self.activation = activation
        self.last_activation = last_activation
        self.output_units = output_units
        self.dropout = dropout
        self.metrics = metrics
        super().__init__(
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            optimizer=optimizer,
            loss=loss,
            seed=seed,
            early_stopping_patience=early_stopping_patience,
            split_mapping=split_mapping,
            label=label,
            task=task,
        )

    def model_fn(self, n_features: int, n_outputs: int) -> keras.Model:
        """Dense → dropout per hidden layer, then a linear output layer (logits)."""
        keras = _keras()
        layers: list[Any] = [keras.Input((n_features,))]
        for units in self.hidden_layers if self.hidden_layers is not None else [64, 32]:
            layers.append(keras.layers.Dense(units, activation=self.activation))
            if self.dropout:
                layers.append(keras.layers.Dropout(self.dropout))
        layers.append(keras.layers.Dense(getattr(self, "output_units_", n_outputs)))
        return keras.Sequential(layers)
