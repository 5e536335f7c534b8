"""The open stores a run writes to, handed to orchestrators and the step executor."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from zenml.artifacts.store import ArtifactStore
from zenml.metadata.store import SQLMetadataStore


@dataclass
class Stores:
    """An open metadata store and artifact store, plus the project root code paths resolve against."""

    metadata: SQLMetadataStore
    artifacts: ArtifactStore
    project_root: Path
