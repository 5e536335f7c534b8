"""``BaseTrainerStep``: framework-neutral trainer (no TensorFlow or PyTorch import here).

A trainer receives the transformed splits and the fitted transform and produces ``model``,
``predictions`` (per evaluated split: label, prediction, score, class probabilities and the raw
feature values for slicing) and ``history`` (per-epoch loss and metrics). Where the training
loop runs is the training backend's business: in this process, or on several processes/nodes.
"""

from __future__ import annotations

import abc
import json
import os
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from zenml.artifacts.dataset import Dataset, DatasetWriter
from zenml.artifacts.materializers import ArtifactFolder, BaseMaterializer, register_materializer
from zenml.exceptions import ArtifactError, ConfigError
from zenml.steps.base import BaseStep
from zenml.steps.context import ProgressTracker, StepContext, current_progress
from zenml.steps.preprocessor.base import Transform
from zenml.steps.task import CLASSES_KEY, TASK_KEY, TASKS, TRAINER_KEY, resolve_task
from zenml.steps.task import describe as describe_task
from zenml.steps.trainer.data import TrainingData
from zenml.utils.trust import import_trusted

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from zenml.backends.training.base import TrainingContext

DEFAULT_SPLIT_MAPPING = {"train": "fit", "eval": "predict", "test": "predict"}
ROLES = ("fit", "predict", "skip")
META_FILE = "zenml-model.json"
#: metric → (the tasks it is defined for, what to call them in a message)
METRIC_TASKS = {
    "accuracy": (("binary", "multiclass"), "classification"),
    "auc": (("binary",), "binary classification"),
}


class History(dict[str, list[float]]):
    """Per-epoch values: ``{"epoch": [1, 2, …], "loss": […], "eval_loss": […], "accuracy": […], …}``."""


class TrainedModel:
    """A stored model: a folder in the framework's own format plus ``zenml-model.json``.

    Framework subclasses load the model and implement ``predict_arrays``; ``predict`` turns
    a record batch of transformed features into labels, scores and probabilities.
    """

    framework: ClassVar[str] = ""

    def __init__(self, path: str, *, ephemeral: bool = False) -> None:
        self.path = path
        self.ephemeral = ephemeral
        with open(os.path.join(path, META_FILE)) as handle:
            self.meta: dict[str, Any] = json.load(handle)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.meta.get('task')}, features={len(self.meta.get('features', []))})"

    @abc.abstractmethod
    def predict_arrays(self, features: np.ndarray) -> np.ndarray:
        """Raw model outputs for a float32 feature matrix: probabilities (classification) or values."""

    def predict(self, batch: pa.RecordBatch) -> dict[str, np.ndarray]:
        """``prediction``, ``score`` (and ``proba_<i>``) for a batch of transformed features."""
        import numpy as np

        if batch.num_rows == 0:
            return self._empty_outputs()
        features = np.column_stack(
            [batch.column(name).to_numpy(zero_copy_only=False).astype(np.float32) for name in self.meta["features"]]
        )
        return outputs_from_probabilities(self.predict_arrays(np.nan_to_num(features)), self.meta["task"])

    def _empty_outputs(self) -> dict[str, np.ndarray]:
        import numpy as np

        task = self.meta["task"]
        outputs = {
            "prediction": np.zeros(0, np.float64 if task == "regression" else np.int64),
            "score": np.zeros(0, np.float64),
        }
        if task == "multiclass":
            outputs.update({f"proba_{i}": np.zeros(0, np.float64) for i in range(len(self.meta["classes"]))})
        return outputs


def outputs_from_probabilities(raw: np.ndarray, task: str) -> dict[str, np.ndarray]:
    """Prediction columns from model outputs: class and probability, or the regressed value."""
    import numpy as np

    if task == "regression":
        values = raw.reshape(len(raw), -1)[:, 0].astype(np.float64)
        return {"prediction": values, "score": values}
    if task == "binary":
        positive = raw.reshape(len(raw), -1)[:, -1].astype(np.float64)
        return {"prediction": (positive >= 0.5).astype(np.int64), "score": positive}
    probabilities = raw.astype(np.float64)
    result = {"prediction": probabilities.argmax(axis=1).astype(np.int64), "score": probabilities.max(axis=1)}
    result.update({f"proba_{i}": probabilities[:, i] for i in range(probabilities.shape[1])})
    return result


@register_materializer
class ModelMaterializer(BaseMaterializer):
    """Models in the framework's own format (``.keras``, TorchScript + state_dict, …); never a pickle."""

    format = "model"
    type_names = ("zenml.steps.trainer.base.TrainedModel",)

    def save(self, value: Any, folder: ArtifactFolder) -> None:
        """Move (just trained) or copy the model folder into the artifact."""
        import shutil

        target = folder.local_path("")
        for root, _dirs, files in os.walk(value.path):
            for name in files:
                source = os.path.join(root, name)
                relative = os.path.relpath(source, value.path).replace(os.sep, "/")
                if target is not None:
                    os.makedirs(os.path.dirname(os.path.join(target, relative)), exist_ok=True)
                    (shutil.move if value.ephemeral else shutil.copyfile)(source, os.path.join(target, relative))
                else:
                    with open(source, "rb") as reader, folder.open(relative, "wb") as writer:
                        shutil.copyfileobj(reader, writer)

    def load(self, folder: ArtifactFolder) -> Any:
        """The framework's model class, named in the model's metadata."""
        filesystem, path = folder.location()
        if filesystem is not None:
            import tempfile

            local = tempfile.mkdtemp(prefix="zenml-model-")
            filesystem.get(path + "/", local + "/", recursive=True)
            path = local
        with open(os.path.join(path, META_FILE)) as handle:
            # the metadata is data from the store: import only what a spec's type could name
            loader = import_trusted(json.load(handle)["loader"], "model metadata")
        if not (isinstance(loader, type) and issubclass(loader, TrainedModel)):
            raise ArtifactError(f"model metadata names {loader!r}, which is not a TrainedModel class")
        return loader(path)


class TrainerOutput(NamedTuple):
    """What every trainer produces."""

    model: TrainedModel
    predictions: Dataset
    history: History


class TrainJob:
    """The picklable unit a training backend runs once per training process."""

    def __init__(
        self, trainer: dict[str, Any], data: Dataset, transform: Transform, workdir: str, framework: str = ""
    ) -> None:
        self.trainer = trainer
        self.data = data
        self.transform = transform
        self.workdir = workdir
        #: the trainer's framework (``torch``, ``tensorflow``; empty if unknown): a backend asks it for devices
        self.framework = framework

    def __call__(self, context: TrainingContext) -> dict[str, list[float]]:
        """Rebuild the trainer in this process and run its framework loop."""
        trainer = BaseStep.from_config(self.trainer)
        if not isinstance(trainer, BaseTrainerStep):
            raise ConfigError(f"{self.trainer['type']} is not a trainer")
        return trainer.run_training(self.data, self.transform, self.workdir, context)


class BaseTrainerStep(BaseStep):
    """The trainer contract, shared by every framework.

    Subclasses implement ``train(training, context, workdir)``: fit the model on the ``fit``
    split(s), and on the primary process save it with ``save_model`` and return the history.
    ``training.task`` is the label's task after the trainer's hints (``task_hints``: a ``task``
    parameter, a loss, …) were applied; see ``zenml.steps.task``.
    ``split_mapping`` (a parameter of the framework trainers) says which splits fit and which
    are predicted: default ``{"train": "fit", "eval": "predict", "test": "predict"}``.

    Examples:
        >>> import numpy as np
        >>> class MajorityTrainer(BaseTrainerStep):   # predicts the most frequent class
        ...     def train(self, training, context, workdir):
        ...         ...   # fit, then self.save_model(...) and return {"epoch": [1], "loss": [0.0]}
    """

    def split_mapping_or_default(self) -> dict[str, str]:
        """The ``split_mapping`` parameter if the trainer has one, else the default."""
        mapping = getattr(self, "split_mapping", None) or DEFAULT_SPLIT_MAPPING
        for split, role in mapping.items():
            if role not in ROLES:
                raise ConfigError(f"split_mapping role '{role}' of split '{split}' must be one of {', '.join(ROLES)}")
        return dict(mapping)

    def label_name(self) -> str | None:
        """The label to learn (default: the preprocessor's first label)."""
        label = getattr(self, "label", None)
        return label if isinstance(label, str) else None

    def task_hints(self) -> dict[str, str]:
        """Tasks the trainer's own parameters ask for, by where they come from: ``{"task='binary'": "binary"}``.

        The default reads a ``task`` parameter; framework trainers add their loss and last
        activation. They override the label's default task and must agree (``zenml.steps.task``).
        """
        task = getattr(self, "task", None)
        return {f"task='{task}'": task} if isinstance(task, str) else {}

    def task_hint(self) -> str | None:
        """The task the trainer's parameters fix (before seeing the label), or ``None`` when the label decides.

        Raises:
            ConfigError: the hints contradict each other.
        """
        hints = self.task_hints()
        if not hints:
            return None
        return resolve_task(next(iter(hints.values())), None, hints, "", type(self).__name__)

    def metric_names(self, task: str) -> list[str]:
        """Metrics recorded per epoch (default: accuracy for classification, MAE for regression)."""
        return ["mae"] if task == "regression" else ["accuracy"]

    def check_metrics(self, task: str) -> None:
        """Refuse per-epoch metrics that the task cannot have (accuracy of a regression, …).

        Raises:
            ConfigError: a metric does not fit ``task``.
        """
        for name in self.metric_names(task) if task in TASKS else []:
            problem = METRIC_TASKS.get(name)
            if problem is not None and task not in problem[0]:
                raise ConfigError(
                    f"{type(self).__name__} metric '{name}' is for {problem[1]}, but the trainer's task is "
                    f"{task}; use " + ("mae or mse" if task == "regression" else "accuracy")
                )

    def preflight(self) -> None:
        """Hints that contradict each other, and metrics the hinted task cannot have, fail at compile time."""
        super().preflight()
        task = self.task_hint()
        if task is not None:
            self.check_metrics(task)

    def process(self, data: Dataset, transform: Transform, context: StepContext) -> TrainerOutput:
        """Run the training loop on the training backend; collect model, predictions and history."""
        mapping = self.split_mapping_or_default()
        present = [split for split in mapping if split in data.splits and mapping[split] != "skip"]
        if not any(mapping[split] == "fit" for split in present):
            raise ConfigError(f"no split to fit on: split_mapping {mapping} vs data splits {data.splits}")
        fit = [split for split in present if mapping[split] == "fit"]
        training = TrainingData.load(data, transform, fit, self.label_name(), self.task_hints(), type(self).__name__)
        self.check_metrics(training.task)  # fail fast, before any training process starts
        context.logger.info("task: %s", describe_task(training.task, training.label, training.classes))
        if training.note:
            context.logger.warning("label '%s' %s", training.label, training.note)
        workdir = context.new_path("trainer")
        os.makedirs(workdir)
        job = TrainJob(self.to_config(), data, transform, workdir, framework=self.model_class().framework)
        history = context.training.launch(job)
        model = self.model_class()(os.path.join(workdir, "model"), ephemeral=True)
        predictions = Dataset(os.path.join(workdir, "predictions"), ephemeral=True)
        return TrainerOutput(model, predictions, History(history))

    def run_training(
        self, data: Dataset, transform: Transform, workdir: str, context: TrainingContext
    ) -> dict[str, list[float]]:
        """Load the arrays and call ``train`` (runs inside each training process)."""
        mapping = self.split_mapping_or_default()
        splits = [split for split, role in mapping.items() if role != "skip" and split in data.splits]
        training = TrainingData.load(data, transform, splits, self.label_name(), self.task_hints(), type(self).__name__)
        history = self.train(training, context, workdir)
        if context.is_primary:
            self.write_predictions(training, transform, workdir)
        return history

    def fit_splits(self, training: TrainingData) -> list[str]:
        """Splits the model is fitted on."""
        return [s for s, role in self.split_mapping_or_default().items() if role == "fit" and s in training.arrays]

    def predict_splits(self, training: TrainingData) -> list[str]:
        """Splits predictions are written for."""
        return [s for s, role in self.split_mapping_or_default().items() if role == "predict" and s in training.arrays]

    @abc.abstractmethod
    def train(self, training: TrainingData, context: TrainingContext, workdir: str) -> dict[str, list[float]]:
        """Fit the model; on the primary process save it to ``workdir/model``; return the history."""

    def epoch_progress(self, epochs: int) -> ProgressTracker:
        """The tracker a training loop advances after each epoch and closes after the last.

        ``zen run`` shows it as a bar in the trainer's row when the loop runs in its process (an
        in-process training backend); in training worker processes it only counts.
        """
        return current_progress("training", total=epochs, unit="epochs")

    @abc.abstractmethod
    def model_class(self) -> type[TrainedModel]:
        """The ``TrainedModel`` subclass that loads what ``train`` saved."""

    def save_meta(self, folder: str, training: TrainingData, extra: dict[str, Any] | None = None) -> None:
        """Write ``zenml-model.json`` next to the framework's files."""
        from zenml.utils.importing import qualified_name

        meta = {
            "framework": self.model_class().framework,
            "loader": qualified_name(self.model_class()),
            "features": training.features,
            "label": training.label,
            "task": training.task,
            "classes": training.classes,
            "trainer": self.to_config(),
            **(extra or {}),
        }
        with open(os.path.join(folder, META_FILE), "w") as handle:
            json.dump(meta, handle, indent=1)

    def write_predictions(self, training: TrainingData, transform: Transform, workdir: str) -> None:
        """Predict every ``predict`` split with the saved model and write the predictions dataset."""
        model = self.model_class()(os.path.join(workdir, "model"))
        writer: DatasetWriter | None = None
        for split in self.predict_splits(training):
            batch = prediction_batch(model, training, split, transform)
            batch = batch.replace_schema_metadata(self.task_metadata(training))
            if writer is None:
                writer = DatasetWriter(os.path.join(workdir, "predictions"), batch.schema)
            writer.write(split, batch)
        if writer is None:
            import pyarrow as pa

            schema = pa.schema([("prediction", pa.float64())], metadata=self.task_metadata(training))
            writer = DatasetWriter(os.path.join(workdir, "predictions"), schema)
        writer.close()

    def task_metadata(self, training: TrainingData) -> dict[bytes, bytes]:
        """What the predictions record of the task (Arrow schema metadata), read by evaluators."""
        return {
            TASK_KEY: training.task.encode(),
            CLASSES_KEY: json.dumps(training.classes).encode(),
            TRAINER_KEY: type(self).__name__.encode(),
        }


def prediction_batch(model: TrainedModel, training: TrainingData, split: str, transform: Transform) -> pa.RecordBatch:
    """Label, prediction, score, probabilities and raw features of one split, as one record batch."""
    import pyarrow as pa

    x, y = training.arrays[split]
    outputs = outputs_from_probabilities(model.predict_arrays(x), training.task)
    columns: dict[str, Any] = {training.label: y, **outputs}
    features = pa.RecordBatch.from_arrays(
        [pa.array(x[:, i].astype("float64")) for i in range(x.shape[1])], names=training.features
    )
    raw = transform.preprocessor.inverse_batch(features, transform["state"])
    for name in raw.schema.names:
        if name not in columns:
            columns[name] = raw.column(name)
    return pa.RecordBatch.from_pydict(
        {name: pa.array(values) if not isinstance(values, pa.Array) else values for name, values in columns.items()}
    )
