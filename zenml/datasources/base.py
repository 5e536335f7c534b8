"""``BaseDatasource``: the first step of a pipeline, turning external data into a ``Dataset``."""

from __future__ import annotations

import abc
import os
from collections.abc import Iterator
from typing import Any

from zenml.artifacts.dataset import Dataset
from zenml.exceptions import ConfigError
from zenml.steps.base import BaseStep
from zenml.steps.context import ProgressTracker, StepContext, current_progress
from zenml.utils.hashing import CONTENT_HASH, content_digest

SOURCE_SPLIT = "all"


class BaseDatasource(BaseStep):
    """Reads a source into a dataset with one split, ``all``; its version is the source's content hash.

    The version joins the cache key, so an unchanged source is a cache hit and a changed one a
    miss, whatever the parameters. ``zen datasources list`` shows the versions ingested. A ``read``
    that streams batches advances ``reading_progress()`` by the rows of each, for ``zen run``'s display.

    Examples:
        >>> import pyarrow as pa
        >>> class RangeDatasource(BaseDatasource):
        ...     def __init__(self, n: int = 10):
        ...         self.n = n
        ...     def read(self, output):
        ...         return Dataset.from_tables(output, {"all": pa.table({"x": list(range(self.n))})})
        ...     def source_version(self):
        ...         return f"range-{self.n}"
    """

    def process(self, context: StepContext) -> Dataset:
        """Ingest the source into the step's scratch folder."""
        return self.read(context.new_path("source"))

    @abc.abstractmethod
    def read(self, output: str) -> Dataset:
        """Write the source as a dataset (split ``all``) into the folder ``output``."""

    @abc.abstractmethod
    def source_version(self) -> str:
        """A content hash (or equally strict version) of the source data."""

    def describe_source(self) -> str:
        """A short, credential-free description of the source (for ``zen datasources list``)."""
        return self.display_name()


class FileDatasource(BaseDatasource):
    """A datasource reading files with some suffixes from ``self.path`` (local or fsspec URL).

    Subclasses set ``suffixes`` and have ``path`` and ``storage_options`` parameters; existence is
    checked before a run is recorded and the version is the files' content hash.
    """

    suffixes: tuple[str, ...] = ()
    path: str
    storage_options: dict[str, Any] | None

    def _files(self) -> tuple[list[str], Any]:
        if not self.path:
            raise ConfigError(f"{type(self).__name__} needs a path")
        location, filesystem = open_location(self.path, self.storage_options)
        return list_files(location, self.suffixes, filesystem), filesystem

    def preflight(self) -> None:
        """The file or folder must exist and hold data files."""
        self._files()

    def source_version(self) -> str:
        """Content hash of the file(s)."""
        return files_version(*self._files())

    def describe_source(self) -> str:
        """The path."""
        return self.path


def reading_progress() -> ProgressTracker:
    """The tracker a datasource's ``read`` advances by the rows it ingests (total unknown: a count)."""
    return current_progress("reading", unit="rows")


def list_files(path: str, suffixes: tuple[str, ...], filesystem: object | None) -> list[str]:
    """The file itself, or the files with one of ``suffixes`` in a folder (sorted).

    Raises:
        ConfigError: nothing found.
    """
    if filesystem is None:
        if os.path.isdir(path):
            files = sorted(os.path.join(path, n) for n in os.listdir(path) if n.lower().endswith(suffixes))
        elif os.path.isfile(path):
            files = [path]
        else:
            raise ConfigError(
                f"data file '{path}' does not exist; check the path (relative paths are relative "
                "to the folder zen runs in)"
            )
    else:
        fs = filesystem
        if fs.isdir(path):  # type: ignore[attr-defined]
            files = sorted(p for p in fs.ls(path, detail=False) if p.lower().endswith(suffixes))  # type: ignore[attr-defined]
        elif fs.exists(path):  # type: ignore[attr-defined]
            files = [path]
        else:
            raise ConfigError(f"data file '{path}' does not exist on its filesystem")
    if not files:
        raise ConfigError(f"folder '{path}' holds no {'/'.join(suffixes)} files")
    return files


def files_version(files: list[str], filesystem: object | None) -> str:
    """``xxh3-128:…`` over the files' names and bytes (local), or their fsspec keys (remote)."""
    digest = content_digest()
    for file in files:
        digest.update(os.path.basename(file).encode() + b"\0")
        if filesystem is None:
            for chunk in _chunks(file):
                digest.update(chunk)
        else:
            digest.update(str(filesystem.ukey(file)).encode())  # type: ignore[attr-defined]
    return f"{CONTENT_HASH}:{digest.hexdigest()}"


def _chunks(path: str) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(16 * 1024 * 1024):
            yield chunk


def open_location(path: str, options: dict[str, object] | None) -> tuple[str, object | None]:
    """``(path, None)`` for local paths; ``(path, fsspec filesystem)`` for URLs."""
    if "://" not in path or path.startswith("file://"):
        return path.removeprefix("file://"), None
    from fsspec.core import url_to_fs

    filesystem, inner = url_to_fs(path, **(options or {}))
    return inner, filesystem
