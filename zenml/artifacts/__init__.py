"""Artifacts: the artifact store (local folder or fsspec URL) and the materializer registry."""

from typing import Any

from zenml.artifacts.materializers import (
    ArtifactFolder,
    BaseMaterializer,
    MaterializerRegistry,
    materializer_registry,
    register_materializer,
)
from zenml.artifacts.store import ArtifactStore, StoredArtifact
from zenml.utils.deprecation import moved_attribute as _moved_attribute

_RENAMED = {
    "registry": "zenml.artifacts.materializer_registry",
    # renamed by the Base<Role> convention for extension points (docs/contributing/naming.md)
    "Materializer": "zenml.artifacts.BaseMaterializer",
}


def __getattr__(name: str) -> Any:
    return _moved_attribute(__name__, name, _RENAMED)


__all__ = [
    "ArtifactFolder",
    "ArtifactStore",
    "BaseMaterializer",
    "MaterializerRegistry",
    "StoredArtifact",
    "materializer_registry",
    "register_materializer",
]
