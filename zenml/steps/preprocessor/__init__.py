"""The preprocessor tree: ``PreprocessorStep`` (fit on train, transform all) and ``StandardPreprocessor``."""

from zenml.steps.preprocessor.base import PreprocessorStep, PreprocessOutput, Transform
from zenml.steps.preprocessor.standard import StandardPreprocessor

__all__ = ["PreprocessOutput", "PreprocessorStep", "StandardPreprocessor", "Transform"]
