"""The open stores a run writes to, handed to orchestrators and the step executor."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zenml.artifacts.store import ArtifactStore
from zenml.metadata.store import SQLMetadataStore


@dataclass(frozen=True)
class StoresRecipe:
    """What another process needs to open the same stores: picklable, plain values only.

    ``metadata_url`` may hold credentials, so it is left out of ``repr``.
    """

    metadata_url: str = field(repr=False)
    artifact_uri: str
    artifact_options: dict[str, Any] = field(default_factory=dict, repr=False)
    project_root: Path = field(default_factory=Path.cwd)

    def open(self) -> Stores:
        """Open new stores (a new connection pool) from this recipe."""
        metadata = SQLMetadataStore(self.metadata_url, base_dir=self.project_root)
        artifacts = ArtifactStore(self.artifact_uri, base_dir=self.project_root, options=self.artifact_options)
        return Stores(metadata=metadata, artifacts=artifacts, project_root=self.project_root, recipe=self)

    def cache_key(self) -> str:
        """A string identifying the stores this recipe opens (for per-process caches)."""
        options = json.dumps(self.artifact_options, sort_keys=True, default=str)
        return f"{self.metadata_url}|{self.artifact_uri}|{options}|{self.project_root}"


@dataclass
class Stores:
    """An open metadata store and artifact store, plus the project root code paths resolve against.

    ``recipe`` says how to reopen them in another process (``None``: they cannot be, e.g. stores
    built by hand in a test); orchestrators that run steps out of process need it.
    """

    metadata: SQLMetadataStore
    artifacts: ArtifactStore
    project_root: Path
    recipe: StoresRecipe | None = None


#: every store this process opened, by ``StoresRecipe.cache_key()``: one connection pool per store,
#: shared by every ``Repository`` object, ``pipeline.run()`` and worker of the process
_OPEN_STORES: dict[str, Stores] = {}


def open_cached(recipe: StoresRecipe, opener: Callable[[], Stores] | None = None) -> Stores:
    """The stores of ``recipe``, opened once per process (by ``opener``, default ``recipe.open``)."""
    key = recipe.cache_key()
    if key not in _OPEN_STORES:
        _OPEN_STORES[key] = (opener or recipe.open)()
    return _OPEN_STORES[key]


#: stores a forked child process inherited from its parent: never used (a database connection must
#: not cross a fork: both processes would drive one connection's locks and journal) and never
#: closed (closing could end the parent's transaction or remove its journal); only kept referenced,
#: so that the collector does not close them either
_INHERITED: list[Stores] = []


def forget_inherited() -> None:
    """In a forked child: set aside the stores the parent opened, so that ``open_cached`` opens its own.

    Registered to run after every fork of this process (a fork server, a user's own
    ``multiprocessing`` fork); the parent keeps its stores.
    """
    _INHERITED.extend(_OPEN_STORES.values())
    _OPEN_STORES.clear()


os.register_at_fork(after_in_child=forget_inherited)


def close_cached(recipes: Iterable[StoresRecipe] | None = None) -> None:
    """Dispose the stores of ``recipes`` (default: every store this process opened) and forget them."""
    keys = list(_OPEN_STORES) if recipes is None else [recipe.cache_key() for recipe in recipes]
    for key in keys:
        stores = _OPEN_STORES.pop(key, None)
        if stores is not None:
            stores.metadata.close()
