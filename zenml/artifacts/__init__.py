"""Artifacts: the artifact store (local folder or fsspec URL) and the materializer registry."""

from zenml.artifacts.materializers import (
    ArtifactFolder,
    Materializer,
    MaterializerRegistry,
    register_materializer,
    registry,
)
from zenml.artifacts.store import ArtifactStore, StoredArtifact

__all__ = [
    "ArtifactFolder",
    "ArtifactStore",
    "Materializer",
    "MaterializerRegistry",
    "StoredArtifact",
    "register_materializer",
    "registry",
]
