"""What the parameter contract refuses, and the messages you see."""

from typing import Any

from zenml import BaseStep
from zenml.exceptions import ConfigError


class Threshold(BaseStep):
    """A well-behaved step: explicit keyword parameters, stored unchanged."""

    def __init__(self, cutoff: float = 0.5, labels: list[str] | None = None):
        self.cutoff = cutoff
        self.labels = labels

    def process(self, scores: list[float]) -> list[bool]:
        """Compare each score with the cutoff."""
        return [s >= self.cutoff for s in scores]


class Renamed(BaseStep):
    """Breaks the contract: stores ``cutoff`` under another name."""

    def __init__(self, cutoff: float = 0.5):
        self._cutoff = cutoff

    def process(self, scores: list[float]) -> list[bool]:
        """Compare each score with the cutoff."""
        return [s >= self._cutoff for s in scores]


class Catchall(BaseStep):
    """Breaks the contract: takes ``**kwargs``."""

    def __init__(self, **settings: Any):
        self.settings = settings

    def process(self, scores: list[float]) -> list[float]:
        """Return the scores unchanged."""
        return scores


def show(label: str, action: Any) -> None:
    """Run ``action`` and print the ConfigError it raises."""
    try:
        action()
    except ConfigError as error:
        print(f"{label}: {error}")


if __name__ == "__main__":
    step = Threshold(cutoff=0.7, labels=["spam"])
    print(step.get_params())
    print(step.to_config())
    print(BaseStep.from_config(step.to_config()) == step)
    show("misspelled", lambda: step.clone().set_params(cutof=0.9))
    show("wrong type", lambda: step.clone().set_params(cutoff="high"))
    show("not JSON-able", lambda: step.clone().set_params(labels=("spam", "ham")))
    show("not stored", lambda: Renamed().get_params())
    show("**kwargs", lambda: Catchall().get_params())
