"""A step that reads a project setting: the setting's value is part of the step's cache key."""

from settings import WEIGHTS

from zenml import pipeline, step


@step
def scores() -> list[float]:
    """The data."""
    return [0.2, 0.6, 0.9]


@step
def weighted(values: list[float]) -> float:
    """Reads ``WEIGHTS`` from settings.py: editing that dict makes this step run again."""
    return sum(values) * WEIGHTS["recent"] / WEIGHTS["old"]


@pipeline
def weighting() -> None:
    """scores → weighted."""
    weighted(scores())
