"""scikit-learn integration: ``SklearnTrainer``, a trainer for any scikit-learn estimator, stored with skops."""

from zenml_sklearn.trainer import SklearnModel, SklearnTrainer

__all__ = ["SklearnModel", "SklearnTrainer"]
