"""``zenml.utils.names``: one home for the private folder's name and the name rule every layer uses."""

from __future__ import annotations

import pytest

from zenml.exceptions import ConfigError
from zenml.utils.names import ZEN_DIR, check_name


def test_every_layer_uses_the_one_private_folder_name() -> None:
    from zenml import repository
    from zenml.backends.orchestrator import airflow

    assert (repository.ZEN_DIR, airflow.ZEN_DIR) == (ZEN_DIR, ZEN_DIR) == (".zen", ".zen")


@pytest.mark.parametrize("name", ["a", "_x", "train-2", "A" * 100])
def test_identifier_like_names_pass_unchanged(name: str) -> None:
    assert check_name(name, "stack") == name


@pytest.mark.parametrize("name", ["", "2fast", "../up", "a b", "A" * 101, 7])
def test_other_names_are_refused_naming_what_they_name(name: object) -> None:
    with pytest.raises(ConfigError, match="stack name .* is not allowed"):
        check_name(name, "stack")  # type: ignore[arg-type]
