"""``SklearnTrainer``: fits any scikit-learn estimator in the trainer tree, stored with ``skops.io`` (no pickle).

``skops.io`` rebuilds an object from a JSON description of its state and refuses to construct
types it was not told to trust. Trusted here: skops' defaults (NumPy arrays, SciPy sparse
matrices, built-in containers), the classes scikit-learn itself defines (trees, neighbour
indexes, optimizers), and what zenml's import rules trust (``zenml.utils.trust``: zenml, its
plugins, the project's own modules, ``PYTHONPATH`` and ``trust_types``; not merely any module
already imported). Anything else is refused by name before it is constructed.
"""

from __future__ import annotations

import importlib
import json
import os
from typing import TYPE_CHECKING, Any

from zenml.exceptions import ArtifactError, ConfigError
from zenml.steps.task import ANY_CLASSIFICATION, check_task
from zenml.steps.trainer.base import BaseTrainerStep, TrainedModel
from zenml.steps.trainer.data import TrainingData
from zenml.utils.importing import import_object
from zenml.utils.trust import check_importable, is_trusted_code

if TYPE_CHECKING:
    import numpy as np

    from zenml.backends.training.base import TrainingContext

MODEL_FILE = "estimator.skops"
#: a dict of this shape inside ``estimator_params`` is itself an estimator (e.g. a pipeline's step)
NESTED_KEYS = frozenset({"estimator", "params"})


def _skops() -> Any:
    try:
        import skops.io
    except ImportError as exc:
        raise ConfigError("SklearnTrainer needs scikit-learn and skops: pip install 'zenml[sklearn]'") from exc
    return skops.io


def estimator_class(path: str, what: str) -> type[Any]:
    """The scikit-learn estimator class ``path`` names (scikit-learn's own or one in the project).

    Checked before anything is called, since the path comes from a parameter or a stored model.

    Raises:
        ConfigError: the path is not importable or is not an estimator class.
    """
    from sklearn.base import BaseEstimator

    if not isinstance(path, str) or path.partition(".")[0] != "sklearn":
        check_importable(path, what)
    found = import_object(path)
    if not (isinstance(found, type) and issubclass(found, BaseEstimator)):
        raise ConfigError(
            f"{what} names '{path}', which is not a scikit-learn estimator class; "
            "use e.g. 'sklearn.linear_model.LogisticRegression'"
        )
    return found


def build_estimator(path: str, params: dict[str, Any] | None, what: str) -> Any:
    """An unfitted estimator; ``{"estimator": path, "params": {...}}`` values inside ``params`` are built too.

    So a pipeline is JSON: ``Pipeline`` with ``steps=[["scale", {"estimator":
    "sklearn.preprocessing.StandardScaler"}], ["svc", {"estimator": "sklearn.svm.SVC"}]]``.
    """
    return estimator_class(path, what)(**{key: _built(value, what) for key, value in (params or {}).items()})


def _built(value: Any, what: str) -> Any:
    if isinstance(value, dict) and "estimator" in value and set(value) <= NESTED_KEYS:
        return build_estimator(value["estimator"], value.get("params"), what)
    if isinstance(value, list):
        return [_built(item, what) for item in value]
    return value


def untrusted_types(names: list[str]) -> list[str]:
    """The names among ``names`` (from ``skops.io.get_untrusted_types``) that zenml does not trust either."""
    return [name for name in names if not (_is_sklearn_class(name) or is_trusted_code(name))]


def _is_sklearn_class(name: str) -> bool:
    """A class scikit-learn defines (importing scikit-learn's own modules runs only scikit-learn)."""
    module, _, attr = name.rpartition(".")
    if module.partition(".")[0] != "sklearn":
        return False
    try:
        found = getattr(importlib.import_module(module), attr, None)
    except ImportError:
        return False
    # classes only: a function is something skops would call, and must be trusted by name
    return isinstance(found, type) and found.__module__.partition(".")[0] == "sklearn"


def estimator_task(path: str) -> str | None:
    """``classification`` for a classifier class, ``regression`` for a regressor, else ``None`` (pipelines, …)."""
    from sklearn.base import ClassifierMixin, RegressorMixin

    found = estimator_class(path, "SklearnTrainer parameter 'estimator'")
    if issubclass(found, ClassifierMixin):
        return ANY_CLASSIFICATION
    if issubclass(found, RegressorMixin):
        return "regression"
    return None


class SklearnModel(TrainedModel):
    """A fitted estimator stored as ``estimator.skops``."""

    framework = "sklearn"

    def __init__(self, path: str, *, ephemeral: bool = False) -> None:
        super().__init__(path, ephemeral=ephemeral)
        self._estimator: Any = None

    def estimator(self) -> Any:
        """The fitted estimator (loaded once).

        Raises:
            ArtifactError: the file needs a type that is not trusted (named, with how to trust it).
        """
        if self._estimator is None:
            self._estimator = self._load()
        return self._estimator

    def _load(self) -> Any:
        sio = _skops()
        file = os.path.join(self.path, MODEL_FILE)
        if not os.path.exists(file):
            raise ArtifactError(
                f"model folder {self.path} has no {MODEL_FILE}: it was stored by an older zenml_sklearn "
                "(estimator.json + state.npz); retrain it with this version"
            )
        found = sio.get_untrusted_types(file=file)
        refused = untrusted_types(found)
        if refused:
            raise ArtifactError(
                f"{file} needs types zenml does not trust: {', '.join(refused)}; if you trust their code, call "
                f"zenml.utils.trust.trust_types({refused!r}) before reading, or put their module in the project"
            )
        return sio.load(file, trusted=found)

    def predict_arrays(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities (classifiers) or predicted values (regressors)."""
        estimator = self.estimator()
        if self.meta["task"] == "regression":
            return estimator.predict(features).reshape(-1, 1)  # type: ignore[no-any-return]
        return class_scores(estimator, features)


def class_scores(estimator: Any, features: np.ndarray) -> np.ndarray:
    """``predict_proba``; else a logistic/softmax of ``decision_function`` (same ranking and argmax); else one-hot."""
    import numpy as np

    if hasattr(estimator, "predict_proba"):
        return estimator.predict_proba(features)  # type: ignore[no-any-return]
    if hasattr(estimator, "decision_function"):
        decision = np.asarray(estimator.decision_function(features), dtype=np.float64)
        if decision.ndim == 1:  # binary: the positive class's margin
            positive = 1.0 / (1.0 + np.exp(-decision))
            return np.column_stack([1.0 - positive, positive])
        shifted = np.exp(decision - decision.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]
    predicted = np.asarray(estimator.predict(features)).astype(np.int64)
    classes = np.asarray(estimator.classes_).astype(np.int64)
    return (predicted[:, None] == classes[None, :]).astype(np.float64)  # type: ignore[no-any-return]


class SklearnTrainer(BaseTrainerStep):
    """Fits ``estimator`` (a dotted scikit-learn class path) with ``estimator_params``.

    Any estimator works: linear models, SVMs, trees and ensembles, neighbours, pipelines. A
    parameter that is itself an estimator is written ``{"estimator": path, "params": {...}}``.
    Classifiers without ``predict_proba`` (``SVC``, ``LinearSVC``) score with a logistic (binary)
    or softmax (multi-class) of ``decision_function``: same predictions and ranking (AUC), not
    calibrated probabilities.

    Args:
        estimator: e.g. ``sklearn.linear_model.LogisticRegression``, ``sklearn.svm.SVC``,
            ``sklearn.pipeline.Pipeline``.
        estimator_params: keyword arguments of the estimator (JSON values; nested estimators as above).
        split_mapping: split → ``fit``/``predict``/``skip``.
        label: the label to learn (default: the preprocessor's first label).
        task: ``binary``/``multiclass``/``regression``; default: the label's task (``zenml.steps.task``),
            which a classifier or a regressor estimator overrides.

    Examples:
        >>> SklearnTrainer(estimator="sklearn.pipeline.Pipeline", estimator_params={"steps": [
        ...     ["scale", {"estimator": "sklearn.preprocessing.StandardScaler"}],
        ...     ["svc", {"estimator": "sklearn.svm.SVC", "params": {"C": 2.0}}]]}).estimator
        'sklearn.pipeline.Pipeline'
    """

    def __init__(
        self,
        estimator: str = "sklearn.linear_model.LogisticRegression",
        estimator_params: dict[str, Any] | None = None,
        split_mapping: dict[str, str] | None = None,
        label: str | None = None,
        task: str | None = None,
    ) -> None:
        self.estimator = estimator
        self.estimator_params = estimator_params
        self.split_mapping = split_mapping
        self.label = label
        self.task = task

    def check_params(self, params: dict[str, object]) -> None:
        """The estimator path must name a scikit-learn estimator class (checked when sklearn is installed)."""
        super().check_params(params)
        path = params.get("estimator")
        if isinstance(path, str) and not path.startswith("sklearn."):
            raise ConfigError(f"SklearnTrainer estimator '{path}' must be a scikit-learn class path (sklearn.…)")
        check_task(params.get("task"), "SklearnTrainer")

    def task_hints(self) -> dict[str, str]:
        """The ``task`` parameter, then the estimator's kind (a classifier asks for classes, a regressor for values)."""
        hints = super().task_hints()
        kind = estimator_task(self.estimator)
        if kind is not None:
            hints[f"estimator '{self.estimator.rsplit('.', 1)[-1]}'"] = kind
        return hints

    def model_class(self) -> type[TrainedModel]:
        """Loads ``SklearnModel``."""
        return SklearnModel

    def train(self, training: TrainingData, context: TrainingContext, workdir: str) -> dict[str, list[float]]:
        """One fit on the concatenated fit splits (scikit-learn has no epochs); saves on the primary."""
        import numpy as np

        estimator = build_estimator(self.estimator, self.estimator_params, "SklearnTrainer parameter 'estimator'")
        splits = self.fit_splits(training)
        x = np.concatenate([training.arrays[s][0] for s in splits])
        y = np.concatenate([training.arrays[s][1] for s in splits])
        estimator.fit(x, y)
        history: dict[str, list[float]] = {"epoch": [1.0], "score": [float(estimator.score(x, y))]}
        if "eval" in training.arrays:
            history["eval_score"] = [float(estimator.score(*training.arrays["eval"]))]
        if context.is_primary:
            self._save(estimator, training, os.path.join(workdir, "model"))
        return history

    def _save(self, estimator: Any, training: TrainingData, folder: str) -> None:
        sio = _skops()
        os.makedirs(folder, exist_ok=True)
        file = os.path.join(folder, MODEL_FILE)
        sio.dump(estimator, file)
        # refuse now, at training time, what reading would refuse later
        refused = untrusted_types(sio.get_untrusted_types(file=file))
        if refused:
            raise ConfigError(
                f"SklearnTrainer: the fitted {self.estimator} holds types zenml would not load back: "
                f"{', '.join(refused)}; use estimators from scikit-learn or the project's own modules"
            )
        with open(os.path.join(folder, "estimator.json"), "w") as handle:
            json.dump({"class": self.estimator, "params": self.estimator_params or {}}, handle)
        self.save_meta(folder, training)
