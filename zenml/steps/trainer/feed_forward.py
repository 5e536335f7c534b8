"""What the feed-forward trainers share, whatever the framework: network parameters, their checks, the output width.

``PyTorchFeedForwardTrainer`` and ``TensorflowFeedForwardTrainer`` combine ``FeedForwardParams``
with their framework's base trainer and only build the network in ``model_fn``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zenml.exceptions import ConfigError
from zenml.steps.task import TASKS
from zenml.steps.trainer.loop import FrameworkTrainer
from zenml.utils.text import plural, with_article

if TYPE_CHECKING:
    from zenml.backends.training.base import TrainingContext
    from zenml.steps.trainer.data import TrainingData

#: hidden layers when ``hidden_layers`` is not given
DEFAULT_HIDDEN_LAYERS = [64, 32]

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


def resolve_output_units(units: int | None, training: TrainingData, owner: str) -> int:
    """The output layer's width, checked against the label (its task already includes ``last_activation``).

    Raises:
        ConfigError: the units do not fit the label's task.
    """
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


class FeedForwardParams(FrameworkTrainer):
    """What both feed-forward trainers do with their network parameters (a base, not a step of its own).

    The shape parameters are checked together, ``last_activation`` fixes the task (after
    ``task``, before ``loss``), ``metrics`` replaces the task's default metrics, and the output
    width is resolved against the label before training. The parameters are declared here once;
    a framework's feed-forward trainer adds only ``model_fn``.
    """

    output_units_: int

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

    def check_params(self, params: dict[str, object]) -> None:
        """Also validate the network's shape parameters."""
        super().check_params(params)
        check_feed_forward_params(params, type(self).__name__)

    def task_hints(self) -> dict[str, str]:
        """``task``, then ``last_activation``, then ``loss``."""
        hints = super().task_hints()
        ordered = {source: task for source, task in hints.items() if source.startswith("task=")}
        if self.last_activation is not None:
            ordered[f"last_activation='{self.last_activation}'"] = LAST_ACTIVATIONS[self.last_activation]
        return {**ordered, **hints}

    def metric_names(self, task: str) -> list[str]:
        """The ``metrics`` parameter, else the task's default."""
        return list(self.metrics) if self.metrics else super().metric_names(task)

    def hidden_widths(self) -> list[int]:
        """Units of each hidden layer (``hidden_layers``, else the default)."""
        return list(self.hidden_layers) if self.hidden_layers is not None else list(DEFAULT_HIDDEN_LAYERS)

    def train(self, training: TrainingData, context: TrainingContext, workdir: str) -> dict[str, list[float]]:
        """Check the task against the hints, resolve the output width, then train."""
        hints = self.task_hints()
        wanted = self.task_hint()
        if wanted in TASKS and wanted != training.task:  # TrainingData built by hand, not by TrainingData.load
            source = next(source for source, task in hints.items() if task == wanted)
            raise ConfigError(
                f"{type(self).__name__}: {source} asks for {wanted}, but label '{training.label}' is "
                f"{with_article(training.task)} target"
            )
        self.output_units_ = resolve_output_units(self.output_units, training, type(self).__name__)
        # the framework's base trainer, next in the method order, implements it
        return super().train(training, context, workdir)  # type: ignore[safe-super]
