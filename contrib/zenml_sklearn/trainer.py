"""``SklearnTrainer``: fits a scikit-learn estimator in the trainer tree, stored without pickle.

The fitted state is saved as the estimator's class, its parameters (JSON) and its learned
attributes (``coef_``, ``intercept_``, ``classes_`` …) as a NumPy ``.npz`` loaded with
``allow_pickle=False``. Estimators whose fitted state is not plain arrays (trees, pipelines)
are refused with a message, since storing them would need a pickle.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from zenml.exceptions import ConfigError
from zenml.steps.task import ANY_CLASSIFICATION, check_task
from zenml.steps.trainer.base import BaseTrainerStep, TrainedModel
from zenml.steps.trainer.data import TrainingData
from zenml.utils.importing import import_object
from zenml.utils.trust import check_importable

if TYPE_CHECKING:
    import numpy as np

    from zenml.backends.training.base import TrainingContext


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
    """A rebuilt estimator: class + parameters + learned arrays."""

    framework = "sklearn"

    def estimator(self) -> Any:
        """The estimator with its learned attributes restored."""
        import numpy as np

        with open(os.path.join(self.path, "estimator.json")) as handle:
            description = json.load(handle)
        estimator = estimator_class(description["class"], "the stored model's estimator.json")(**description["params"])
        for name in description.get("none", []):
            setattr(estimator, name, None)
        with np.load(os.path.join(self.path, "state.npz"), allow_pickle=False) as state:
            for name in state.files:
                value = state[name]
                setattr(estimator, name, value.item() if value.shape == () else value)
        return estimator

    def predict_arrays(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities (classifiers) or predicted values (regressors)."""
        estimator = self.estimator()
        if self.meta["task"] == "regression":
            return estimator.predict(features).reshape(-1, 1)  # type: ignore[no-any-return]
        return estimator.predict_proba(features)  # type: ignore[no-any-return]


class SklearnTrainer(BaseTrainerStep):
    """Fits ``estimator`` (a dotted scikit-learn class path) with ``estimator_params``.

    Args:
        estimator: e.g. ``sklearn.linear_model.LogisticRegression`` or ``sklearn.linear_model.Ridge``.
        estimator_params: keyword arguments of the estimator (JSON values).
        split_mapping: split → ``fit``/``predict``/``skip``.
        label: the label to learn (default: the preprocessor's first label).
        task: ``binary``/``multiclass``/``regression``; default: the label's task (``zenml.steps.task``),
            which a classifier or a regressor estimator overrides.
    """

    def __init__(self, estimator: str = "sklearn.linear_model.LogisticRegression",
                 estimator_params: dict[str, Any] | None = None, split_mapping: dict[str, str] | None = None,
                 label: str | None = None, task: str | None = None) -> None:
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

        estimator = estimator_class(self.estimator, "SklearnTrainer parameter 'estimator'")(
            **(self.estimator_params or {})
        )
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
        import numpy as np

        os.makedirs(folder, exist_ok=True)
        state: dict[str, Any] = {}
        unset: list[str] = []
        for name, value in vars(estimator).items():
            if not name.endswith("_") or name.startswith("_"):
                continue
            if value is None:
                unset.append(name)
                continue
            array = np.asarray(value)
            if array.dtype.hasobject:
                raise ConfigError(f"{self.estimator}'s fitted attribute '{name}' is not plain data; storing it "
                                  "would need a pickle. Use an estimator with array state (linear models, "
                                  "naive Bayes) or a PyTorch/TensorFlow trainer")
            state[name] = array
        np.savez(os.path.join(folder, "state.npz"), **state)
        with open(os.path.join(folder, "estimator.json"), "w") as handle:
            json.dump({"class": self.estimator, "params": self.estimator_params or {}, "none": unset}, handle)
        self.save_meta(folder, training)
