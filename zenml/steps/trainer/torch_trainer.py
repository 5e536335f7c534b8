"""The PyTorch trainer tree: ``PyTorchBaseTrainer`` (PyTorch adapter of the loop, DDP, saving) and its child.

Users subclass ``PyTorchBaseTrainer`` and override ``model_fn`` (and optionally the hooks
``loss_fn``, ``optimizer_fn``, ``train_step``, and the lifecycle hooks of ``FrameworkTrainer``);
batching, device placement, DDP with a distributed sampler and saving come from here; epochs,
early stopping, history and progress from the shared loop (``zenml.steps.trainer.loop``).
Models are saved as a TorchScript program (inference needs no user code) plus the
``state_dict`` (loaded with ``weights_only=True``), never as a pickle.
"""

from __future__ import annotations

import abc
import contextlib
import copy
import os
import warnings
from typing import TYPE_CHECKING, Any

from zenml.exceptions import ConfigError
from zenml.steps.metrics import binary_auc, epoch_metrics
from zenml.steps.trainer.base import TrainedModel
from zenml.steps.trainer.data import TrainingData
from zenml.steps.trainer.feed_forward import FeedForwardParams
from zenml.steps.trainer.loop import EpochAdapter, FrameworkTrainer, mean_loss, run_epochs

__all__ = ["PyTorchBaseTrainer", "PyTorchFeedForwardTrainer", "TorchModel", "binary_auc", "epoch_metrics"]

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy as np
    import torch

    from zenml.backends.training.base import TrainingContext


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


class PyTorchBaseTrainer(FrameworkTrainer):
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
        task: ``binary``, ``multiclass`` or ``regression``; default: the label's task (see
            ``zenml.steps.task``), or what ``loss`` asks for.

    Examples:
        >>> class TinyTrainer(PyTorchBaseTrainer):
        ...     def model_fn(self, n_features, n_outputs):
        ...         import torch
        ...         return torch.nn.Linear(n_features, n_outputs)
    """

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

    def train(self, training: TrainingData, context: TrainingContext, workdir: str) -> dict[str, list[float]]:
        """Seeded training with optional DDP; the primary process saves the (best) model."""
        torch = _torch()
        torch.manual_seed(self.seed)
        distributed = context.world_size > 1
        if distributed:
            _init_process_group(context)
        try:
            return run_epochs(self, _TorchEpochs(self, training, context), training, context, workdir)
        finally:
            if distributed and torch.distributed.is_initialized():
                torch.distributed.destroy_process_group()

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



class _TorchEpochs(EpochAdapter):
    """The PyTorch side of the loop: batches from a (distributed) loader, DDP, ``state_dict`` snapshots."""

    def __init__(self, trainer: PyTorchBaseTrainer, training: TrainingData, context: TrainingContext) -> None:
        torch = _torch()
        self.trainer, self.training, self.context = trainer, training, context
        self.distributed = context.world_size > 1
        self.device = torch.device(context.device)
        model = trainer.model_fn(training.n_features, training.n_outputs)
        if not isinstance(model, torch.nn.Module):
            raise ConfigError(
                f"{type(trainer).__name__}.model_fn must return a torch.nn.Module, got {type(model).__name__}"
            )
        self.model = model.to(self.device)
        self.wrapped = torch.nn.parallel.DistributedDataParallel(self.model) if self.distributed else self.model
        self.loss_fn = trainer._task_loss(trainer.loss_fn(training.task), training.task)
        self.optimizer = trainer.optimizer_fn(self.wrapped.parameters())
        self.loader = self._loader()
        self.metrics = trainer.metric_names(training.task)

    def _loader(self) -> Any:
        torch = _torch()
        from torch.utils.data import DataLoader, TensorDataset
        from torch.utils.data.distributed import DistributedSampler

        x, y = self.trainer.fit_arrays(self.training)
        dataset = TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
        batch_size, seed = self.trainer.batch_size, self.trainer.seed
        if self.distributed:
            sampler: Any = DistributedSampler(
                dataset, num_replicas=self.context.world_size, rank=self.context.rank, shuffle=True, seed=seed
            )
            return DataLoader(dataset, batch_size=batch_size, sampler=sampler)
        generator = torch.Generator().manual_seed(seed)
        return DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=generator)

    def train_epoch(self, epoch: int) -> float:
        """One pass of ``train_step`` over the batches; the mean loss over every process's batches."""
        if self.distributed:
            self.loader.sampler.set_epoch(epoch)
        self.wrapped.train()
        losses = [
            self.trainer.train_step(
                model=self.wrapped,
                features=x.to(self.device),
                labels=y.to(self.device),
                loss_fn=self.loss_fn,
                optimizer=self.optimizer,
            )
            for x, y in self.loader
        ]
        return self._mean_across(losses)

    def _mean_across(self, values: list[float]) -> float:
        total, count = float(sum(values)), float(len(values))
        if self.distributed:
            torch = _torch()
            # nccl reduces CUDA tensors only: the tensor lives on the training device
            tensor = torch.tensor([total, count], dtype=torch.float64, device=self.device)
            torch.distributed.all_reduce(tensor)
            total, count = float(tensor[0]), float(tensor[1])
        return mean_loss(total, count)

    def evaluate(self, x: np.ndarray, y: np.ndarray, prefix: str) -> dict[str, float]:
        """Loss (with a prefix) and metrics of the unwrapped model on one split."""
        torch = _torch()
        task = self.training.task
        self.model.eval()
        with torch.no_grad():
            outputs = self.model(torch.from_numpy(x).to(self.device))
            loss = float(self.loss_fn(outputs, torch.from_numpy(y).to(self.device)))
            probabilities = _to_outputs(outputs, task).cpu().numpy()
        logs = {f"{prefix}loss": loss} if prefix else {}
        values = epoch_metrics(probabilities, y, task, self.metrics)
        logs.update({f"{prefix}{name}": value for name, value in values.items()})
        return logs

    def snapshot(self) -> Any:
        """A deep copy of the ``state_dict``."""
        return copy.deepcopy(self.model.state_dict())

    def restore(self, snapshot: Any) -> None:
        """Load a ``state_dict`` copy."""
        self.model.load_state_dict(snapshot)

    def save(self, workdir: str) -> None:
        """The primary process saves TorchScript + weights; every process waits for it under DDP."""
        if self.context.is_primary:
            self.trainer._save(self.model.cpu().eval(), self.training, workdir)
        if self.distributed:
            _torch().distributed.barrier()


@contextlib.contextmanager
def _torchscript_deprecation_ignored() -> Iterator[None]:
    # PyTorch 2.13 marks torch.jit.* deprecated; TorchScript is still the model format (DESIGN §6), and
    # under ``-W error`` the warning would make ``script`` fail over to ``trace``, which then fails too.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.", category=DeprecationWarning)
        yield


def _init_process_group(context: TrainingContext) -> None:
    torch = _torch()
    backend = context.distribution.get("backend", "gloo")
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend=backend, rank=context.rank, world_size=context.world_size)


class PyTorchFeedForwardTrainer(FeedForwardParams, PyTorchBaseTrainer):
    """A fully connected network: ``hidden_layers`` of ``activation`` units with ``dropout``.

    ``epochs``, ``batch_size``, ``lr``, ``optimizer``, ``loss``, ``seed``,
    ``early_stopping_patience``, ``split_mapping``, ``label`` and ``task`` are as in ``PyTorchBaseTrainer``.
    The parameters are declared once, in ``FeedForwardParams`` (shared with the TensorFlow trainer).

    Args:
        hidden_layers: units per hidden layer (default ``[64, 32]``).
        activation: hidden activation (relu, tanh, sigmoid, gelu, elu, leaky_relu, linear).
        last_activation: ``sigmoid`` (binary), ``softmax`` (multi-class) or ``linear``
            (regression); default: from the label. It fixes the task (see ``zenml.steps.task``).
        output_units: width of the output layer (default: from the label; checked against it).
        dropout: dropout after every hidden layer.
        metrics: per-epoch metrics (accuracy, auc, mae, mse); refused when the task cannot have them.
    """

    def model_fn(self, n_features: int, n_outputs: int) -> torch.nn.Module:
        """Linear → activation → dropout per hidden layer, then the output layer (logits)."""
        torch = _torch()
        layers: list[Any] = []
        width = n_features
        for units in self.hidden_widths():
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
