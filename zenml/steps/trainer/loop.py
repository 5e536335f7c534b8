"""One training loop for every framework trainer: epochs, evaluation, history, early stopping, hooks, progress.

``FrameworkTrainer`` is the base of ``PyTorchBaseTrainer`` and ``TensorflowBaseTrainer``: it holds
their shared parameters and checks, and declares the hook surface once. Each framework supplies
an ``EpochAdapter`` (one epoch of optimisation, evaluation of a split, weight snapshots, saving)
and calls ``run_epochs``, which owns the algorithm. No framework is imported here.
"""

from __future__ import annotations

import abc
import math
from typing import TYPE_CHECKING, Any

from zenml.exceptions import ConfigError
from zenml.steps.task import check_task
from zenml.steps.trainer.base import BaseTrainerStep

if TYPE_CHECKING:
    import numpy as np

    from zenml.backends.training.base import TrainingContext
    from zenml.steps.trainer.data import TrainingData

LOSSES = ("binary_crossentropy", "categorical_crossentropy", "mse", "mae", "huber")
#: the task each loss asks for (a hint that overrides the label's default task)
LOSS_TASKS = {
    "binary_crossentropy": "binary",
    "categorical_crossentropy": "multiclass",
    "mse": "regression",
    "mae": "regression",
    "huber": "regression",
}
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
#: an eval loss must improve by more than this to count as better (float noise is not progress)
MIN_IMPROVEMENT = 1e-12


class EpochAdapter(abc.ABC):
    """What a framework gives the loop: the built model and the few operations that touch it.

    Attributes:
        model: the (unwrapped) model the hooks receive.
    """

    model: Any

    @abc.abstractmethod
    def train_epoch(self, epoch: int) -> float:
        """One pass over the fit splits; the mean batch loss (agreed across processes)."""

    @abc.abstractmethod
    def evaluate(self, x: np.ndarray, y: np.ndarray, prefix: str) -> dict[str, float]:
        """The trainer's metrics on ``(x, y)`` as ``{prefix + name: value}``; with a prefix, also its loss."""

    def agree(self, value: float) -> float:
        """One value for every process (default: the value), so early stopping decides alike everywhere."""
        return value

    @abc.abstractmethod
    def snapshot(self) -> Any:
        """A copy of the current weights (kept as the best so far)."""

    @abc.abstractmethod
    def restore(self, snapshot: Any) -> None:
        """Load weights a ``snapshot`` took."""

    @abc.abstractmethod
    def save(self, workdir: str) -> None:
        """Save the trained model to ``workdir/model`` (the primary process keeps it)."""


class FrameworkTrainer(BaseTrainerStep):
    """The shared base of the framework trainers: parameters, checks, and the hooks.

    Subclasses (``PyTorchBaseTrainer``, ``TensorflowBaseTrainer``) implement ``model_fn``,
    ``loss_fn``, ``optimizer_fn``, ``train_step`` and ``train`` (which builds an ``EpochAdapter``
    and calls ``run_epochs``); users override ``model_fn`` and any hook.

    Hooks (keyword-only, so new information can be added later):

    - ``on_train_start(*, model, training, context)``: before the first epoch, on every process.
    - ``on_epoch_start(*, epoch, model)``: before each epoch (1-based).
    - ``on_epoch_end(*, epoch, logs, model)``: after each epoch with its loss and metrics, before
      early stopping decides.
    - ``on_train_end(*, model, history)``: after the last epoch with the best weights restored,
      before saving, on every process.
    """

    epochs: int
    batch_size: int
    lr: float
    optimizer: str
    loss: str | None
    seed: int
    early_stopping_patience: int

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

    # -- hooks (lifecycle) -----------------------------------------------------------------------

    def on_train_start(self, *, model: Any, training: TrainingData, context: TrainingContext) -> None:
        """Before the first epoch (every process), with the built model."""

    def on_epoch_start(self, *, epoch: int, model: Any) -> None:
        """Before each epoch (1-based)."""

    def on_epoch_end(self, *, epoch: int, logs: dict[str, float], model: Any) -> None:
        """After each epoch with its loss and metrics (``logs``), before early stopping decides."""

    def on_train_end(self, *, model: Any, history: dict[str, list[float]]) -> None:
        """After the last epoch with the best weights restored, before saving (every process)."""

    # -- shared pieces of the loop ---------------------------------------------------------------

    def fit_arrays(self, training: TrainingData) -> tuple[np.ndarray, np.ndarray]:
        """Features and labels of every fit split, concatenated."""
        import numpy as np

        splits = self.fit_splits(training)
        if len(splits) == 1:
            return training.arrays[splits[0]]
        return (
            np.concatenate([training.arrays[s][0] for s in splits]),
            np.concatenate([training.arrays[s][1] for s in splits]),
        )


def run_epochs(
    trainer: FrameworkTrainer, adapter: EpochAdapter, training: TrainingData, context: TrainingContext, workdir: str
) -> dict[str, list[float]]:
    """The loop: per epoch train, evaluate (fit splits, then ``eval``), record, call hooks, maybe stop early.

    With ``early_stopping_patience`` and an ``eval`` split, training stops after that many epochs
    without a better eval loss and the best weights are restored before ``on_train_end``.
    """
    eval_split = "eval" if "eval" in training.arrays else None
    fit_x, fit_y = trainer.fit_arrays(training)
    history: dict[str, list[float]] = {"epoch": [], "loss": []}
    best: tuple[float, Any] | None = None
    waited = 0
    trainer.on_train_start(model=adapter.model, training=training, context=context)
    progress = trainer.epoch_progress(trainer.epochs)
    for epoch in range(1, trainer.epochs + 1):
        trainer.on_epoch_start(epoch=epoch, model=adapter.model)
        logs = {"loss": adapter.train_epoch(epoch)}
        logs.update(adapter.evaluate(fit_x, fit_y, prefix=""))
        if eval_split:
            logs.update(adapter.evaluate(*training.arrays[eval_split], prefix="eval_"))
            logs["eval_loss"] = adapter.agree(logs["eval_loss"])
        _append(history, epoch, logs)
        trainer.on_epoch_end(epoch=epoch, logs=logs, model=adapter.model)
        progress.advance()
        if trainer.early_stopping_patience and eval_split:
            if best is None or logs["eval_loss"] < best[0] - MIN_IMPROVEMENT:
                best, waited = (logs["eval_loss"], adapter.snapshot()), 0
            else:
                waited += 1
                if waited >= trainer.early_stopping_patience:
                    break
    progress.close()
    if best is not None:
        adapter.restore(best[1])
    trainer.on_train_end(model=adapter.model, history=history)
    adapter.save(workdir)
    return history


def mean_loss(total: float, count: float) -> float:
    """The mean of ``count`` batch losses summing to ``total`` (NaN for an empty epoch)."""
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
