"""File access for artifact stores: plain ``os`` calls for local folders, fsspec for everything else.

Local folders bypass fsspec on purpose: importing fsspec costs ~90 ms per process, and handing
materializers real file objects keeps NumPy's and Arrow's direct-to-file fast paths.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Protocol

from zenml.exceptions import ArtifactError, ConfigError


class Storage(Protocol):
    """The few file operations an artifact store needs."""

    root: str
    atomic_rename: bool

    def join(self, *parts: str) -> str:
        """Join path segments."""
        ...

    def open(self, path: str, mode: str) -> IO[Any]:
        """Open a file."""
        ...

    def makedirs(self, path: str) -> None:
        """Create a folder and its parents."""
        ...

    def make_new_dir(self, path: str) -> None:
        """Create a folder that does not exist yet (a fresh staging folder), and its parents."""
        ...

    def exists(self, path: str) -> bool:
        """Whether the path exists."""
        ...

    def files(self, folder: str) -> Iterator[tuple[str, int]]:
        """Yield (relative path, size) of every file under a folder."""
        ...

    def rename(self, source: str, target: str) -> None:
        """Move a folder into place (atomic for local folders)."""
        ...

    def remove_tree(self, path: str) -> None:
        """Delete a folder recursively."""
        ...

    def local_path(self, path: str) -> str | None:
        """A real local path for ``path``, or ``None`` on remote filesystems."""
        ...

    def uri_of(self, path: str) -> str:
        """The URI recorded in the metadata store for a path of this storage."""
        ...

    def path_of(self, uri: str) -> str:
        """The storage path of a recorded URI."""
        ...


_KNOWN_FOLDERS = 4096


class LocalStorage:
    """A folder on this machine."""

    atomic_rename = True

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        # Folders this instance created or found, so a save does not ask the disk again for each
        # of them (a run folder, ``.staging``). A folder deleted since (``zen gc``) only costs a
        # retry: a failed ``mkdir``/``rename`` below forgets it and creates it again.
        self._known: set[str] = set()

    def join(self, *parts: str) -> str:
        """Join path segments."""
        return os.path.join(*parts)

    def open(self, path: str, mode: str) -> IO[Any]:
        """Open a file."""
        return open(path, mode)

    def makedirs(self, path: str) -> None:
        """Create a folder and its parents."""
        if path not in self._known:
            os.makedirs(path, exist_ok=True)

    def make_new_dir(self, path: str) -> None:
        """Create a folder that must not exist yet (a fresh staging folder), and its parents."""
        parent = os.path.dirname(path)
        if parent in self._known:
            try:
                os.mkdir(path)
            except FileNotFoundError:  # the parent was removed since
                self._known.discard(parent)
            else:
                return
        os.makedirs(parent, exist_ok=True)
        self._remember(parent)
        os.mkdir(path)

    def _remember(self, path: str) -> None:
        if len(self._known) >= _KNOWN_FOLDERS:  # a long-lived process: start over rather than grow
            self._known.clear()
        self._known.add(path)

    def exists(self, path: str) -> bool:
        """Whether the path exists."""
        return os.path.exists(path)

    def files(self, folder: str) -> Iterator[tuple[str, int]]:
        """Yield (relative path, size) of every file under a folder."""
        for dirpath, _dirnames, filenames in os.walk(folder):
            for filename in filenames:
                full = os.path.join(dirpath, filename)
                yield os.path.relpath(full, folder).replace(os.sep, "/"), os.path.getsize(full)

    def rename(self, source: str, target: str) -> None:
        """Move a folder into place (atomic for local folders)."""
        parent = os.path.dirname(target)
        if parent not in self._known:
            os.makedirs(parent, exist_ok=True)
            self._remember(parent)
        try:
            os.rename(source, target)  # atomic on one filesystem: readers see all or nothing
        except FileNotFoundError:
            if os.path.isdir(parent) or not os.path.isdir(source):
                raise
            self._known.discard(parent)  # removed since this instance saw it: create it again, once
            os.makedirs(parent, exist_ok=True)
            os.rename(source, target)

    def remove_tree(self, path: str) -> None:
        """Delete a folder recursively."""
        shutil.rmtree(path, ignore_errors=False)

    def local_path(self, path: str) -> str | None:
        """A real local path for ``path``, or ``None`` on remote filesystems."""
        return path

    def uri_of(self, path: str) -> str:
        """Local artifacts are recorded by absolute path."""
        return path

    def path_of(self, uri: str) -> str:
        """The path itself."""
        return uri.removeprefix("file://")


class FsspecStorage:
    """Any fsspec filesystem (``memory://``, ``s3://``, ``gs://``, …).

    Args:
        url: the store's URL.
        options: filesystem options (e.g. ``{"client_kwargs": {"endpoint_url": ...}}`` for S3).
    """

    atomic_rename = False

    def __init__(self, url: str, options: dict[str, Any] | None = None) -> None:
        try:
            import fsspec
            from fsspec.core import url_to_fs
        except ImportError as exc:
            raise ConfigError("artifact store URLs other than local folders need fsspec: pip install fsspec") from exc
        protocol = url.split("://", 1)[0]
        if protocol not in fsspec.available_protocols():
            raise ConfigError(
                f"artifact store protocol '{protocol}://' is not supported; use a local folder, "
                "memory://, s3:// (pip install 'zenml[s3]') or another fsspec protocol"
            )
        try:
            self.fs, path = url_to_fs(url, **(options or {}))
        except (ImportError, ValueError, TypeError) as exc:
            raise ConfigError(f"cannot open artifact store '{url}': {exc}; install its fsspec driver") from exc
        self.protocol = protocol
        self.root = path.rstrip("/")

    def join(self, *parts: str) -> str:
        """Join path segments."""
        return "/".join(part.rstrip("/") for part in parts)

    def open(self, path: str, mode: str) -> IO[Any]:
        """Open a file."""
        return self.fs.open(path, mode)  # type: ignore[no-any-return]

    def makedirs(self, path: str) -> None:
        """Create a folder and its parents."""
        self.fs.makedirs(path, exist_ok=True)

    def make_new_dir(self, path: str) -> None:
        """Create a folder that does not exist yet (a fresh staging folder), and its parents."""
        self.fs.makedirs(path, exist_ok=True)

    def exists(self, path: str) -> bool:
        """Whether the path exists."""
        return bool(self.fs.exists(path))

    def files(self, folder: str) -> Iterator[tuple[str, int]]:
        """Yield (relative path, size) of every file under a folder."""
        prefix = folder.rstrip("/") + "/"
        for path, info in self.fs.find(folder, detail=True).items():
            relative = path[len(prefix) :] if path.startswith(prefix) else path.lstrip("/")[len(prefix.lstrip("/")) :]
            yield relative, int(info.get("size") or 0)

    def rename(self, source: str, target: str) -> None:
        """Move a folder into place (atomic for local folders)."""
        # File by file: object stores have no folders, and a recursive move of a "folder" key fails.
        for relative, _size in list(self.files(source)):
            self.fs.mv(self.join(source, relative), self.join(target, relative))
        if self.fs.exists(source):
            self.fs.rm(source, recursive=True)

    def remove_tree(self, path: str) -> None:
        """Delete a folder recursively."""
        if self.fs.exists(path):
            self.fs.rm(path, recursive=True)

    def local_path(self, path: str) -> str | None:
        """A real local path for ``path``, or ``None`` on remote filesystems."""
        return None

    def uri_of(self, path: str) -> str:
        """``protocol://path``."""
        return f"{self.protocol}://{path}"

    def path_of(self, uri: str) -> str:
        """The path without the protocol."""
        return uri.split("://", 1)[1] if "://" in uri else uri


def open_storage(uri: str, base_dir: Path | None = None, options: dict[str, Any] | None = None) -> Storage:
    """Return the storage for an artifact store URI; relative folders resolve against ``base_dir``."""
    if "://" in uri and not uri.startswith("file://"):
        return FsspecStorage(uri, options)
    path = uri.removeprefix("file://")
    if not os.path.isabs(path):
        path = str((base_dir or Path.cwd()) / path)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise ArtifactError(f"cannot create the artifact store folder '{path}': {exc.strerror}") from exc
    return LocalStorage(path)
