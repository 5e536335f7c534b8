"""The PyTorch trainer tree: ``PyTorchBaseTrainer`` (the loop, DDP, saving) and ``PyTorchFeedForwardTrainer``.

Users subclass ``PyTorchBaseTrainer`` and override ``model_fn`` (and optionally the hooks
``loss_fn``, ``optimizer_fn``, ``train_step``, ``on_train_start``/``on_train_end``,
``on_epoch_start``/``on_epoch_end``); batching, device placement, DDP with a distributed
sampler, early stopping, history, predictions and saving come from the base class.
Models are saved as a TorchScript program (inference needs no user code) plus the
``state_dict`` (loaded with ``weights_only=True``), never as a pickle.
"""

from __future__ import annotations

import abc
import contextlib
import copy
import math
import os
import warnings
from typing import TYPE_CHECKING, Any

from zenml.exceptions import ConfigError
from zenml.steps.metrics import binary_auc, epoch_metrics
from zenml.steps.trainer.base import BaseTrainerStep, TrainedModel
from zenml.steps.trainer.data import TrainingData
from zenml.utils.text import plural, with_article

__all__ = ["PyTorchBaseTrainer", "PyTorchFeedForwardTrainer", "TorchModel", "binary_auc", "epoch_metrics"]

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy as np
    import torch

LOSSES = ("binary_crossentropy", "categorical_crossentropy", "mse", "mae", "huber")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
METRICS = ("accuracy", "mae", "mse")


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise ConfigError("PyTorch trainers need PyTorch: pip install 'zenml[torch]'") from exc
    return torch


class TorchModel(TrainedModel):
    """A TorchScript program (``model.pt``) plus its ``state_dict`` (``weights.pt``)."""

    framework = "torch"

    def __init__(self, path: str, *, ephemeral: bool = False) -> None:
        super().__init__(path, ephemeral=ephemeral)
        self._module: Any = None

    @property
    def module(self) -> Any:
        """The loaded TorchScript module (on the CPU, in eval mode)."""
        if self._module is None:
            torch = _torch()
            with _torchscript_deprecation_ignored():
                self._module = torch.jit.load(os.path.join(self.path, "model.pt"), map_location="cpu").eval()
        return self._module

    def state_dict(self) -> dict[str, Any]:
        """The trained weights (loaded safely: tensors only)."""
        torch = _torch()
        state: dict[str, Any] = torch.load(os.path.join(self.path, "weights.pt"), weights_only=True)
        return state

    def predict_arrays(self, features: np.ndarray) -> np.ndarray:
        """Probabilities or values for a feature matrix."""
        torch = _torch()
        with torch.no_grad():
            outputs = self.module(torch.from_numpy(features))
        return _to_outputs(outputs, self.meta["task"]).numpy()


def _to_outputs(logits: torch.Tensor, task: str) -> torch.Tensor:
    if task == "binary":
        return logits.reshape(len(logits), -1)[:, -1:].sigmoid()
    if task == "multiclass":
        return logits.softmax(dim=1)
    return logits.reshape(len(logits), -1)[:, :1]


class PyTorchBaseTrainer(BaseTrainerStep):
    """A PyTorch trainer: override ``model_fn``; everything else has working defaults.

    Args:
        epochs: passes over the training split (at least 1).
        batch_size: rows per optimisation step (per process when distributed).
        lr: learning rate of the default optimizer.
        optimizer: ``adam``, ``adamw``, ``sgd`` or ``rmsprop``.
        loss: ``binary_crossentropy``, ``categorical_crossentropy``, ``mse``, ``mae``, ``huber``
            (default: chosen from the task).
        seed: seeds PyTorch, batching order and initialisation.
        early_stopping_patience: stop after this many epochs without a better eval loss
            (0 = never); the best weights are kept.
        split_mapping: split → ``fit``/``predict``/``skip``.
        label: the label to learn (default: the preprocessor's first label).

    Examples:
        >>> class TinyTrainer(PyTorchBaseTrainer):
        ...     def model_fn(self, n_features, n_outputs):
        ...         import torch
        ...         return torch.nn.Linear(n_features, n_outputs)
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

    def check_params(self, params: dict[str, object]) -> None:
        """Validate epochs, batch size, learning rate, loss and optimizer names."""
        super().check_params(params)
        check_training_params(params, LOSSES, OPTIMIZERS, type(self).__name__)

    def task_hint(self) -> str | None:
        """A binary or categorical loss makes a numeric label a classification target."""
        return {"binary_crossentropy": "binary", "categorical_crossentropy": "multiclass"}.get(self.loss or "")

    def model_class(self) -> type[TrainedModel]:
        """Loads TorchScript models."""
        return TorchModel

    # -- hooks (model) ---------------------------------------------------------------------------

    @abc.abstractmethod
    def model_fn(self, n_features: int, n_outputs: int) -> torch.nn.Module:
        """Build the network: ``n_features`` inputs, ``n_outputs`` outputs (logits for classification).

        Called once per training process, after seeding.
        """

    def loss_fn(self, task: str) -> Any:
        """The loss: from ``loss``, else BCE-with-logits (binary), cross-entropy (multiclass), MSE."""
        torch = _torch()
        name = self.loss or {"binary": "binary_crossentropy", "multiclass": "categorical_crossentropy"}.get(task, "mse")
        return {
            "binary_crossentropy": torch.nn.BCEWithLogitsLoss(),
            "categorical_crossentropy": torch.nn.CrossEntropyLoss(),
            "mse": torch.nn.MSELoss(),
            "mae": torch.nn.L1Loss(),
            "huber": torch.nn.HuberLoss(),
        }[name]

    def optimizer_fn(self, parameters: Any) -> Any:
        """The optimizer over ``parameters`` (from ``optimizer`` and ``lr``)."""
        torch = _torch()
        classes = {
            "adam": torch.optim.Adam,
            "adamw": torch.optim.AdamW,
            "sgd": torch.optim.SGD,
            "rmsprop": torch.optim.RMSprop,
        }
        return classes[self.optimizer](parameters, lr=self.lr)

    def train_step(self, *, model: Any, features: Any, labels: Any, loss_fn: Any, optimizer: Any) -> float:
        """One optimisation step on a batch; returns the batch loss.

        ``loss_fn(outputs, labels)`` already matches the model's outputs to the task's labels.
        """
        optimizer.zero_grad()
        loss = loss_fn(model(features), labels)
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    # -- hooks (lifecycle, keyword-only so new information can be added later) -------------------

    def on_train_start(self, *, model: Any, training: TrainingData, context: Any) -> None:
        """Before the first epoch (every process)."""

    def on_epoch_start(self, *, epoch: int, model: Any) -> None:
        """Before each epoch (1-based)."""

    def on_epoch_end(self, *, epoch: int, logs: dict[str, float], model: Any) -> None:
        """After each epoch with its loss and metrics (``logs``)."""

    def on_train_end(self, *, model: Any, history: dict[str, list[float]]) -> None:
        """After the last epoch, before saving (every process)."""

    # -- the loop --------------------------------------------------------------------------------

    @staticmethod
    def _task_loss(loss: Any, task: str) -> Any:
        def compute(outputs: Any, labels: Any) -> Any:
            if task == "binary":
                return loss(outputs.reshape(len(outputs), -1)[:, -1], labels.float())
            if task == "multiclass":
                return loss(outputs, labels.long())
            return loss(outputs.reshape(len(outputs), -1)[:, 0], labels.float())

        return compute

    def train(self, training: TrainingData, context: Any, workdir: str) -> dict[str, list[float]]:
        """Seeded training with optional DDP; the primary process saves the (best) model."""
        torch = _torch()
        torch.manual_seed(self.seed)
        distributed = context.world_size > 1
        if distributed:
            _init_process_group(context)
        try:
            return self._train(training, context, workdir, distributed)
        finally:
            if distributed and torch.distributed.is_initialized():
                torch.distributed.destroy_process_group()

    def _train(self, training: TrainingData, context: Any, workdir: str, distributed: bool) -> dict[str, list[float]]:
        torch = _torch()
        device = torch.device(context.device)
        model = self.model_fn(training.n_features, training.n_outputs)
        if not isinstance(model, torch.nn.Module):
            raise ConfigError(
                f"{type(self).__name__}.model_fn must return a torch.nn.Module, got {type(model).__name__}"
            )
        model = model.to(device)
        wrapped = torch.nn.parallel.DistributedDataParallel(model) if distributed else model
        loss_fn = self._task_loss(self.loss_fn(training.task), training.task)
        optimizer = self.optimizer_fn(wrapped.parameters())
        loader = self._loader(training, context, distributed)
        eval_split = "eval" if "eval" in training.arrays else None
        history: dict[str, list[float]] = {"epoch": [], "loss": []}
        best: tuple[float, dict[str, Any]] | None = None
        waited = 0
        self.on_train_start(model=model, training=training, context=context)
        progress = self.epoch_progress(self.epochs)
        for epoch in range(1, self.epochs + 1):
            self.on_epoch_start(epoch=epoch, model=model)
            if distributed:
                loader.sampler.set_epoch(epoch)
            wrapped.train()
            losses = [
                self.train_step(
                    model=wrapped, features=x.to(device), labels=y.to(device), loss_fn=loss_fn, optimizer=optimizer
                )
                for x, y in loader
            ]
            logs = {"loss": _mean_across(losses, distributed, device)}
            logs.update(self._evaluate(model, training, "train", device, loss_fn, prefix=""))
            if eval_split:
                logs.update(self._evaluate(model, training, eval_split, device, loss_fn, prefix="eval_"))
            _append(history, epoch, logs)
            self.on_epoch_end(epoch=epoch, logs=logs, model=model)
            progress.advance()
            if self.early_stopping_patience and eval_split:
                if best is None or logs["eval_loss"] < best[0] - 1e-12:
                    best, waited = (logs["eval_loss"], copy.deepcopy(model.state_dict())), 0
                else:
                    waited += 1
                    if waited >= self.early_stopping_patience:
                        break
        progress.close()
        if best is not None:
            model.load_state_dict(best[1])
        self.on_train_end(model=model, history=history)
        if context.is_primary:
            self._save(model.cpu().eval(), training, workdir)
        if distributed:
            torch.distributed.barrier()
        return history

    def _loader(self, training: TrainingData, context: Any, distributed: bool) -> Any:
        torch = _torch()
        from torch.utils.data import DataLoader, TensorDataset
        from torch.utils.data.distributed import DistributedSampler

        x = torch.cat([torch.from_numpy(training.arrays[s][0]) for s in self.fit_splits(training)])
        y = torch.cat([torch.from_numpy(training.arrays[s][1]) for s in self.fit_splits(training)])
        dataset = TensorDataset(x, y)
        if distributed:
            sampler: Any = DistributedSampler(
                dataset, num_replicas=context.world_size, rank=context.rank, shuffle=True, seed=self.seed
            )
            return DataLoader(dataset, batch_size=self.batch_size, sampler=sampler)
        generator = torch.Generator().manual_seed(self.seed)
        return DataLoader(dataset, batch_size=self.batch_size, shuffle=True, generator=generator)

    def _evaluate(
        self, model: Any, training: TrainingData, split: str, device: Any, loss_fn: Any, prefix: str
    ) -> dict[str, float]:
        torch = _torch()
        x, y = training.arrays[split]
        model.eval()
        with torch.no_grad():
            outputs = model(torch.from_numpy(x).to(device))
            loss = float(loss_fn(outputs, torch.from_numpy(y).to(device)))
            probabilities = _to_outputs(outputs, training.task).cpu().numpy()
        logs = {f"{prefix}loss": loss} if prefix else {}
        metrics = epoch_metrics(probabilities, y, training.task, self.metric_names(training.task))
        logs.update({f"{prefix}{name}": value for name, value in metrics.items()})
        return logs

    def _save(self, model: Any, training: TrainingData, workdir: str) -> None:
        torch = _torch()
        folder = os.path.join(workdir, "model")
        os.makedirs(folder, exist_ok=True)
        example = torch.zeros(1, training.n_features)
        with _torchscript_deprecation_ignored():
            try:
                program = torch.jit.script(model)
            except Exception:  # noqa: BLE001 -- not scriptable (dynamic Python): fall back to tracing
                program = torch.jit.trace(model, example)
        program.save(os.path.join(folder, "model.pt"))
        torch.save(model.state_dict(), os.path.join(folder, "weights.pt"))
        self.save_meta(folder, training)


@contextlib.contextmanager
def _torchscript_deprecation_ignored() -> Iterator[None]:
    # PyTorch 2.13 marks torch.jit.* deprecated; TorchScript is still the model format (DESIGN §6), and
    # under ``-W error`` the warning would make ``script`` fail over to ``trace``, which then fails too.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.", category=DeprecationWarning)
        yield


def _init_process_group(context: Any) -> None:
    torch = _torch()
    backend = context.distribution.get("backend", "gloo")
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend=backend, rank=context.rank, world_size=context.world_size)


def _mean_across(values: list[float], distributed: bool, device: Any) -> float:
    total, count = float(sum(values)), float(len(values))
    if distributed:
        torch = _torch()
        tensor = torch.tensor([total, count], dtype=torch.float64, device=device)  # nccl reduces CUDA tensors only
        torch.distributed.all_reduce(tensor)
        total, count = float(tensor[0]), float(tensor[1])
    return total / count if count else math.nan


def _append(history: dict[str, list[float]], epoch: int, logs: dict[str, float]) -> None:
    history["epoch"].append(float(epoch))
    for name, value in logs.items():
        history.setdefault(name, []).append(float(value))


def check_training_params(
    params: dict[str, object], losses: tuple[str, ...], optimizers: tuple[str, ...], owner: str
) -> None:
    """Shared checks of the framework trainers' parameters.

    Raises:
        ConfigError: ``epochs < 1``, a non-positive batch size or learning rate, or an unknown
            loss/optimizer name (the message lists the valid ones).
    """
    epochs = params.get("epochs")
    if isinstance(epochs, int) and epochs < 1:
        raise ConfigError(f"{owner} epochs must be at least 1, got {epochs}")
    batch = params.get("batch_size")
    if isinstance(batch, int) and batch < 1:
        raise ConfigError(f"{owner} batch_size must be at least 1, got {batch}")
    lr = params.get("lr")
    if isinstance(lr, (int, float)) and lr <= 0:
        raise ConfigError(f"{owner} lr must be positive, got {lr}")
    loss = params.get("loss")
    if loss is not None and loss not in losses:
        raise ConfigError(f"{owner} loss '{loss}' is unknown; use one of {', '.join(losses)}")
    optimizer = params.get("optimizer")
    if optimizer is not None and optimizer not in optimizers:
        raise ConfigError(f"{owner} optimizer '{optimizer}' is unknown; use one of {', '.join(optimizers)}")


ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "elu", "leaky_relu", "linear")
LAST_ACTIVATIONS = {"sigmoid": "binary", "softmax": "multiclass", "linear": "regression"}


def check_feed_forward_params(params: dict[str, object], owner: str) -> None:
    """Shared checks of the feed-forward trainers (layers, activations, dropout, units, metrics)."""
    for units in params.get("hidden_layers") or []:  # type: ignore[attr-defined]
        if not isinstance(units, int) or units < 1:
            raise ConfigError(f"{owner} hidden_layers must be positive integers, got {units!r}")
    activation = params.get("activation")
    if activation is not None and activation not in ACTIVATIONS:
        raise ConfigError(f"{owner} activation '{activation}' is unknown; use one of {', '.join(ACTIVATIONS)}")
    last = params.get("last_activation")
    if last is not None and last not in LAST_ACTIVATIONS:
        raise ConfigError(f"{owner} last_activation '{last}' is unknown; use one of {', '.join(LAST_ACTIVATIONS)}")
    dropout = params.get("dropout")
    if isinstance(dropout, (int, float)) and not 0 <= dropout < 1:
        raise ConfigError(f"{owner} dropout must be in [0, 1), got {dropout}")
    units = params.get("output_units")
    if isinstance(units, int) and units < 1:
        raise ConfigError(f"{owner} output_units must be at least 1, got {units}")
    for metric in params.get("metrics") or []:  # type: ignore[attr-defined]
        if metric not in ("accuracy", "auc", "mae", "mse"):
            raise ConfigError(f"{owner} metric '{metric}' is unknown; use accuracy, auc, mae or mse")


def resolve_output_units(units: int | None, last_activation: str | None, training: TrainingData, owner: str) -> int:
    """The output layer's width, checked against the label.

    Raises:
        ConfigError: the units or the last activation do not fit the label's task.
    """
    expected_task = LAST_ACTIVATIONS.get(last_activation or "", training.task)
    if expected_task != training.task:
        raise ConfigError(
            f"{owner} last_activation '{last_activation}' is for {expected_task}, but label "
            f"'{training.label}' is {with_article(training.task)} target"
        )
    classes = training.classes or []
    # last_activation also sets the task, so check it against the label's own classes
    if (training.task == "binary" and len(classes) > 2) or (training.task == "regression" and classes):
        raise ConfigError(
            f"{owner} last_activation '{last_activation}' is for {training.task}, but label '{training.label}' "
            f"has the classes {', '.join(classes)}; use " + ("'softmax'" if len(classes) > 2 else "'sigmoid'")
        )
    if units is None:
        return training.n_outputs
    if training.task == "multiclass" and units != len(training.classes or []):
        raise ConfigError(
            f"{owner} output_units={units} does not match label '{training.label}' with "
            f"{plural(len(training.classes or []), 'class', 'classes')}"
        )
    if training.task != "multiclass" and units != 1:
        raise ConfigError(
            f"{owner} output_units={units} does not match the {training.task} label "
            f"'{training.label}', which needs 1 output"
        )
    return units


class FeedForwardParams(BaseTrainerStep):
    """What both feed-forward trainers do with their network parameters (a base, not a step of its own).

    The shape parameters are checked together, ``last_activation`` decides the task before
    ``loss`` does, ``metrics`` replaces the task's default metrics, and the output width is
    resolved against the label before training. Each trainer still declares every parameter in
    its own ``__init__`` (the parameter contract reads them from there).
    """

    hidden_layers: list[int] | None
    activation: str
    last_activation: str | None
    output_units: int | None
    dropout: float
    metrics: list[str] | None
    output_units_: int

    def check_params(self, params: dict[str, object]) -> None:
        """Also validate the network's shape parameters."""
        super().check_params(params)
        check_feed_forward_params(params, type(self).__name__)

    def task_hint(self) -> str | None:
        """From ``last_activation`` first, then from ``loss``."""
        if self.last_activation is not None:
            return LAST_ACTIVATIONS[self.last_activation]
        return super().task_hint()

    def metric_names(self, task: str) -> list[str]:
        """The ``metrics`` parameter, else the task's default."""
        return list(self.metrics) if self.metrics else super().metric_names(task)

    def train(self, training: TrainingData, context: Any, workdir: str) -> dict[str, list[float]]:
        """Resolve the output width, then train."""
        self.output_units_ = resolve_output_units(
            self.output_units, self.last_activation, training, type(self).__name__
        )
        # the framework's base trainer, next in the method order, implements it
        return super().train(training, context, workdir)  # type: ignore[safe-super]


class PyTorchFeedForwardTrainer(FeedForwardParams, PyTorchBaseTrainer):
    """A fully connected network: ``hidden_layers`` of ``activation`` units with ``dropout``.

    ``epochs``, ``batch_size``, ``lr``, ``optimizer``, ``loss``, ``seed``,
    ``early_stopping_patience``, ``split_mapping`` and ``label`` are as in ``PyTorchBaseTrainer``.

    Args:
        hidden_layers: units per hidden layer.
        activation: hidden activation (relu, tanh, sigmoid, gelu, elu, leaky_relu, linear).
        last_activation: ``sigmoid`` (binary), ``softmax`` (multi-class) or ``linear``
            (regression); default: from the label.
        output_units: width of the output layer (default: from the label; checked against it).
        dropout: dropout after every hidden layer.
        metrics: per-epoch metrics (accuracy, auc, mae, mse).
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
        )

    def model_fn(self, n_features: int, n_outputs: int) -> torch.nn.Module:
        """Linear → activation → dropout per hidden layer, then the output layer (logits)."""
        torch = _torch()
        layers: list[Any] = []
        width = n_features
        for units in self.hidden_layers if self.hidden_layers is not None else [64, 32]:
            layers += [torch.nn.Linear(width, units), _activation(self.activation)]
            if self.dropout:
                layers.append(torch.nn.Dropout(self.dropout))
            width = units
        layers.append(torch.nn.Linear(width, getattr(self, "output_units_", n_outputs)))
        return torch.nn.Sequential(*layers)  # type: ignore[no-any-return]


def _activation(name: str) -> Any:
    torch = _torch()
    return {
        "relu": torch.nn.ReLU(),
        "tanh": torch.nn.Tanh(),
        "sigmoid": torch.nn.Sigmoid(),
        "gelu": torch.nn.GELU(),
        "elu": torch.nn.ELU(),
        "leaky_relu": torch.nn.LeakyReLU(),
        "linear": torch.nn.Identity(),
    }[name]
