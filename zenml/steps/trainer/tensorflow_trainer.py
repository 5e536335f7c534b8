"""The TensorFlow trainer tree: ``TensorflowBaseTrainer`` (the loop, distribution, saving) and its feed-forward child.

Users subclass ``TensorflowBaseTrainer`` and override ``model_fn`` (and optionally the hooks
``loss_fn``, ``optimizer_fn``, ``train_step``, and the lifecycle hooks of ``FrameworkTrainer``);
seeding, batching with ``tf.data``, device placement, distribution strategies and saving come
from here; epochs, early stopping, history and progress from the shared loop
(``zenml.steps.trainer.loop``).

The loop is a custom one (``tf.GradientTape`` + ``optimizer.apply_gradients`` run through
``strategy.run``) rather than ``model.fit``: Keras 3's ``fit`` fails under
``MultiWorkerMirroredStrategy`` (keras-team/keras#20585). Models are saved in the Keras format
(``model.keras``) and loaded with ``safe_mode``; never pickled.
"""

from __future__ import annotations

import abc
import contextlib
import importlib
import os
import tempfile
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from zenml.exceptions import ConfigError
from zenml.steps.metrics import epoch_metrics
from zenml.steps.trainer.base import TrainedModel
from zenml.steps.trainer.data import TrainingData
from zenml.steps.trainer.feed_forward import FeedForwardParams
from zenml.steps.trainer.loop import EpochAdapter, FrameworkTrainer, mean_loss, run_epochs
from zenml.utils.quiet import import_tensorflow

__all__ = ["KerasModel", "TensorflowBaseTrainer", "TensorflowFeedForwardTrainer", "probabilities"]

if TYPE_CHECKING:
    import keras
    import numpy as np

    from zenml.backends.training.base import TrainingContext

MODEL_FILE = "model.keras"
PREDICT_BATCH = 8192  # rows per forward pass when predicting (bounds memory on large splits)


def _tf() -> Any:
    try:
        return import_tensorflow()  # without its start-up noise
    except ImportError as exc:
        raise ConfigError("TensorFlow trainers need TensorFlow: pip install 'zenml[tensorflow]'") from exc


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


class TensorflowBaseTrainer(FrameworkTrainer):
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

    # -- the loop --------------------------------------------------------------------------------

    def train(self, training: TrainingData, context: TrainingContext, workdir: str) -> dict[str, list[float]]:
        """Seeded custom-loop training under the context's strategy; the primary process saves the (best) model."""
        strategy = _strategy(context, type(self).__name__)  # first: multi-worker setup precedes other ops
        _keras().utils.set_random_seed(self.seed)
        with _device(context) if strategy is None else contextlib.nullcontext():
            strategy = strategy or _tf().distribute.get_strategy()
            adapter = _KerasEpochs(self, training, context, strategy)
            return run_epochs(self, adapter, training, context, workdir)

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

    def save(self, model: Any, training: TrainingData, workdir: str, context: TrainingContext) -> None:
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


class _KerasEpochs(EpochAdapter):
    """The TensorFlow side of the loop: ``tf.data`` batches run through ``strategy.run``, weight lists as snapshots."""

    def __init__(
        self, trainer: TensorflowBaseTrainer, training: TrainingData, context: TrainingContext, strategy: Any
    ) -> None:
        self.trainer = trainer
        self.training = training
        self.context = context
        self.strategy = strategy
        self.task = training.task
        self.per_example = _task_loss(trainer.loss_fn(training.task), training.task)
        self.metrics = trainer.metric_names(training.task)
        with strategy.scope():
            self.model = trainer.build_model(training)
            self.optimizer = trainer.optimizer_fn()
            self.optimizer.build(self.model.trainable_variables)
        self.dataset = self._dataset()
        self.step = self._distributed_step(self.model, self.optimizer, self.dataset.element_spec)

    def train_epoch(self, epoch: int) -> float:
        """One pass over the distributed dataset; the mean of the global batch losses."""
        losses = [self.step(batch) for batch in self.dataset]  # tensors: no device sync until the epoch ends
        return mean_loss(sum(float(loss) for loss in losses), len(losses))

    def evaluate(self, x: np.ndarray, y: np.ndarray, prefix: str) -> dict[str, float]:
        """Loss (with a prefix) and metrics on one split, from logits computed in bounded batches."""
        logits = _forward(self.model, x)
        logs: dict[str, float] = {}
        if prefix:
            logs[f"{prefix}loss"] = float(_mean(self.per_example(logits, y)))
        values = epoch_metrics(probabilities(logits, self.task), y, self.task, self.metrics)
        logs.update({f"{prefix}{name}": value for name, value in values.items()})
        return logs

    def agree(self, value: float) -> float:
        """One value for every replica (their mean), so early stopping decides alike on every worker."""
        if self.strategy.num_replicas_in_sync == 1:
            return value
        tf = _tf()
        per_replica = self.strategy.run(lambda: tf.constant(value, tf.float64))
        return float(self.strategy.reduce("MEAN", per_replica, axis=None))

    def snapshot(self) -> Any:
        """The weights as NumPy arrays."""
        return self.model.get_weights()

    def restore(self, snapshot: Any) -> None:
        """Set the weights a snapshot took."""
        with _keras_variable_conversions():
            self.model.set_weights(snapshot)

    def save(self, workdir: str) -> None:
        """Every process saves (TensorFlow's multi-worker rule); the primary keeps ``model.keras``."""
        self.trainer.save(self.model, self.training, workdir, self.context)

    def _dataset(self) -> Any:
        """Shuffled (seeded, identically on every worker) global batches, distributed over the replicas."""
        tf = _tf()
        x, y = self.trainer.fit_arrays(self.training)
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


def _strategy(context: TrainingContext, owner: str) -> Any:
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


def _device(context: TrainingContext) -> Any:
    """Pin a single-process run to the context's device (strategies place their own replicas)."""
    tf = _tf()
    device = str(getattr(context, "device", "cpu"))
    if device.startswith("cuda"):
        return tf.device(f"/GPU:{device.partition(':')[2] or 0}")
    return tf.device("/CPU:0")


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

    def model_fn(self, n_features: int, n_outputs: int) -> keras.Model:
        """Dense → dropout per hidden layer, then a linear output layer (logits)."""
        keras = _keras()
        layers: list[Any] = [keras.Input((n_features,))]
        for units in self.hidden_widths():
            layers.append(keras.layers.Dense(units, activation=self.activation))
            if self.dropout:
                layers.append(keras.layers.Dropout(self.dropout))
        layers.append(keras.layers.Dense(getattr(self, "output_units_", n_outputs)))
        return keras.Sequential(layers)
