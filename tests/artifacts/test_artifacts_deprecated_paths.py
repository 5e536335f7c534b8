"""The materializer registry's old name ``registry`` works for one release, with a warning naming the new one."""

from __future__ import annotations

import importlib

import pytest

from zenml.artifacts import materializer_registry


@pytest.mark.parametrize(
    ("module", "new"),
    [
        ("zenml.artifacts", "zenml.artifacts.materializer_registry"),
        ("zenml.artifacts.materializers", "zenml.artifacts.materializers.materializer_registry"),
    ],
)
def test_registry_is_the_materializer_registry_with_a_warning(module: str, new: str) -> None:
    package = importlib.import_module(module)
    with pytest.warns(DeprecationWarning, match=rf"{module}\.registry is deprecated.*use {new} instead"):
        old = package.registry
    assert old is materializer_registry


def test_from_import_of_the_old_name_warns() -> None:
    with pytest.warns(DeprecationWarning, match=r"zenml\.artifacts\.materializer_registry"):
        from zenml.artifacts import registry
    assert registry is materializer_registry
