"""scikit-learn integration: ``SklearnTrainer``, a trainer for estimators with array-only fitted state."""

from zenml_sklearn.trainer import SklearnModel, SklearnTrainer

__all__ = ["SklearnModel", "SklearnTrainer"]
