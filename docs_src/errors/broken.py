"""A pipeline that fails until ``settings.json`` exists: for the errors reference."""

import json

from zenml import Repository, pipeline, step
from zenml.exceptions import ConfigError, StepError


@step
def read_settings(path: str = "settings.json") -> dict[str, float]:
    """Read the settings file (raises FileNotFoundError when it is missing)."""
    with open(path) as handle:
        return json.load(handle)


@step
def threshold(settings: dict[str, float]) -> float:
    """Pick one setting."""
    return settings["threshold"]


@pipeline
def needs_settings() -> None:
    """read_settings → threshold."""
    threshold(read_settings())


if __name__ == "__main__":
    try:
        needs_settings.run()
    except StepError as error:  # a step raised: the run is recorded as failed
        print(error)
        print("step:", error.step, "| type:", error.error_type, "| run:", error.run_id)
        run = Repository().run(error.run_id)
        print(run.status, {name: step.status for name, step in run.steps.items()})
        print(run.error)

    try:
        needs_settings.run(params={"read_settings": {"pth": "other.json"}})
    except ConfigError as error:  # bad input: rejected before anything is recorded
        print(error)
