"""The artifact store: versioned, content-hashed artifact folders published atomically.

Each artifact is a folder ``<root>/<run_id>/<step>/<output>/`` holding the materializer's files
and, written last, a manifest. A folder is assembled under ``.staging/`` and renamed into place,
so readers never see a partial artifact; the content hash is checked on every read.
"""

from __future__ import annotations

import errno
import io
import json
import mmap
import os
import re
import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import blake3
import xxhash

from zenml.artifacts.materializers import (
    BaseMaterializer,
    JSONMaterializer,
    MaterializerRegistry,
    materializer_registry,
)
from zenml.artifacts.storage import Storage, open_storage
from zenml.exceptions import ArtifactError
from zenml.utils.hashing import CONTENT_HASH
from zenml.utils.importing import qualified_name

MANIFEST = ".zenml-artifact.json"
# New artifacts are hashed with XXH3-128: ~25 GB/s against BLAKE3's ~2.5 GB/s per core on this
# project's AVX2 machines, which is what keeps a 200 MB NumPy round trip within 80 % of plain
# np.save + np.load with a hash on write and a check on read. Like the page checksums of InnoDB
# and PostgreSQL it detects corruption, truncation and edits; it is not a cryptographic seal
# against someone forging content on purpose (see docs/guides/security.md). Artifacts recorded
# with ``blake3:`` hashes (by earlier zenml versions) are still verified with BLAKE3.
WRITE_HASH = CONTENT_HASH
_HASHERS: dict[str, Any] = {
    "xxh3-128": xxhash.xxh3_128,
    "blake3": lambda: blake3.blake3(max_threads=blake3.blake3.AUTO),
}
# Materializers of zenml whose loads only read their files through ``open``: they are handed the
# bytes that were just verified (one read of a small artifact, and no window between check and read).
_READS_VERIFIED_BYTES: tuple[type[BaseMaterializer], ...] = (JSONMaterializer,)
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,199}$")
_READ_CHUNK = 8 * 1024 * 1024
_THREAD_BYTES = 4 * 1024 * 1024
_NEARLY_FULL_BYTES = 64 * 1024  # less free than this after a failed write: the disk is full


@dataclass(frozen=True)
class StoredArtifact:
    """Where an artifact lives and how to read and verify it."""

    uri: str
    format: str
    materializer: str
    data_type: str
    content_hash: str
    size: int


LOGS_FOLDER = "logs"  # never a run id (those start with a date), so it cannot clash with artifacts


def check_segment(segment: str, what: str) -> str:
    """Refuse path segments that could escape the store (``..``, ``/``, absolute paths)."""
    if not isinstance(segment, str) or not _SEGMENT.match(segment) or segment in (".", ".."):
        raise ArtifactError(
            f"{what} {segment!r} cannot be used in an artifact path; use letters, digits, '_', '-', '.'"
        )
    return segment


class _AnnouncedFile:
    """One file's part of the folder hash, computed from the bytes a materializer announced.

    Large files are hashed in a thread (the hash releases the GIL) while the materializer writes
    them, so saving costs no second pass over the data.
    """

    def __init__(self, name: str, parts: tuple[Any, ...]) -> None:
        views = [memoryview(part).cast("B") if memoryview(part).nbytes else b"" for part in parts]
        self.name = name
        self.size = sum(len(view) for view in views)
        self._digest = _HASHERS[WRITE_HASH]()
        self._digest.update(f"{name}\0{self.size}\0".encode())
        self._thread: threading.Thread | None = None
        if self.size < _THREAD_BYTES:
            self._update(views)
        else:
            self._thread = threading.Thread(target=self._update, args=(views,), daemon=True)
            self._thread.start()

    def _update(self, views: list[Any]) -> None:
        for view in views:
            self._digest.update(view)

    def content_hash(self) -> str:
        """The folder hash when this file is the folder's only one."""
        if self._thread is not None:
            self._thread.join()
        return f"{WRITE_HASH}:{self._digest.hexdigest()}"


class _Folder:
    """An artifact's folder as materializers see it."""

    def __init__(self, storage: Storage, path: str) -> None:
        self._storage = storage
        self._path = path
        self._made = {path}  # folders that exist already: not created again for each file
        self.announced: _AnnouncedFile | None = None
        self.verified: dict[str, bytes] | None = None  # files whose bytes were just hashed on read

    def open(self, name: str, mode: str) -> IO[Any]:
        for part in name.split("/"):
            check_segment(part, "artifact file name")
        if self.verified is not None and name in self.verified and mode in ("r", "rb"):
            # the very bytes whose hash was just checked: no second read of the file
            data = io.BytesIO(self.verified[name])
            return data if mode == "rb" else io.TextIOWrapper(data)
        target = self._storage.join(self._path, name)
        if "w" in mode or "a" in mode:
            parent = target.rsplit("/", 1)[0] if "/" in name else self._path
            if parent not in self._made:
                self._storage.makedirs(parent)
                self._made.add(parent)
        return self._storage.open(target, mode)

    def local_path(self, name: str) -> str | None:
        local = self._storage.local_path(self._path)
        return os.path.join(local, name) if local else None

    def location(self) -> tuple[Any | None, str]:
        return getattr(self._storage, "fs", None), self._path

    def announce(self, name: str, *parts: Any) -> None:
        for part in name.split("/"):
            check_segment(part, "artifact file name")
        self.announced = _AnnouncedFile(name, parts)


class ArtifactStore:
    """Stores step outputs under an fsspec URL or a local folder.

    Args:
        uri: a local folder or an fsspec URL (``memory://bucket``, ``s3://bucket/prefix``).
        base_dir: what a relative folder is relative to (the repository root).
        materializers: the registry that picks formats.
        options: fsspec filesystem options (credentials, ``client_kwargs``) for remote stores.
    """

    def __init__(
        self,
        uri: str,
        base_dir: Path | None = None,
        materializers: MaterializerRegistry = materializer_registry,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.uri = uri
        self.storage = open_storage(uri, base_dir, options)
        self.materializers = materializers

    def scratch_dir(self) -> str:
        """A new private folder for a step's temporary files.

        Inside the store's staging area when the store is local, so datasets written there are
        published by a rename; otherwise a local temporary folder.
        """
        local_root = self.storage.local_path(self.storage.root)
        if local_root is None:
            return tempfile.mkdtemp(prefix="zenml-scratch-")
        path = os.path.join(local_root, ".staging", f"scratch-{uuid.uuid4().hex}")
        os.makedirs(path)
        return path

    def artifact_path(self, *segments: str) -> str:
        """The final location of an artifact addressed by safe path segments."""
        for segment in segments:
            check_segment(segment, "artifact path segment")
        return self.storage.join(self.storage.root, *segments)

    def save(
        self, value: Any, segments: tuple[str, ...], materializer: type[BaseMaterializer] | None = None
    ) -> StoredArtifact:
        """Materialize ``value``, hash it and publish it atomically at ``segments``.

        Raises:
            ArtifactError: no materializer for the value, the target exists, or writing failed.
        """
        final = self.artifact_path(*segments)
        if self.storage.exists(self.storage.join(final, MANIFEST)):
            raise ArtifactError(
                f"artifact '{'/'.join(segments)}' already exists in {self.uri}; artifacts are immutable"
            )
        chosen = materializer or self.materializers.for_value(value)
        staging = self.storage.join(self.storage.root, ".staging", uuid.uuid4().hex)
        try:
            self.storage.make_new_dir(staging)
            folder = _Folder(self.storage, staging)
            chosen().save(value, folder)
            content_hash, size = self._hash_written(staging, folder.announced)
            stored = StoredArtifact(
                uri=self.storage.uri_of(final),
                format=chosen.format,
                materializer=qualified_name(chosen),
                data_type=qualified_name(type(value)),
                content_hash=content_hash,
                size=size,
            )
            self._publish(staging, final, stored)
        except ArtifactError as refused:
            self._discard(staging, refused)
            raise
        except Exception as exc:
            error = self._write_failure(segments, exc)  # before discarding: that frees a full disk again
            self._discard(staging, error)
            raise error from exc
        return stored

    def _hash_written(self, staging: str, announced: _AnnouncedFile | None) -> tuple[str, int]:
        """The new artifact's hash: from the announced bytes when they are all it holds, else from its files."""
        if announced is not None:
            files = [entry for entry in self.storage.files(staging) if entry[0] != MANIFEST]
            if files == [(announced.name, announced.size)]:
                return announced.content_hash(), announced.size
            announced.content_hash()  # let the thread finish; the files on disk decide
        return self.hash_folder(staging)

    def _write_failure(self, segments: tuple[str, ...], exc: Exception) -> ArtifactError:
        """The error for a failed write; a full or read-only store is named as such, with the fix."""
        where = f"could not write artifact '{'/'.join(segments)}' to {self.uri}"
        code = getattr(exc, "errno", None)
        if code in (errno.ENOSPC, errno.EDQUOT) or self._nearly_full():
            return ArtifactError(
                f"{where}: the artifact store is full ({type(exc).__name__}: {exc}); free space in it or use a larger "
                "store, then finish the run with 'zen runs resume RUN_ID'"
            )
        if code in (errno.EROFS, errno.EACCES, errno.EPERM):
            cause = "read-only" if code == errno.EROFS else "read-only for this user"
            return ArtifactError(
                f"{where}: the artifact store is {cause} ({type(exc).__name__}: {exc}); make it writable, then "
                "finish the run with 'zen runs resume RUN_ID'"
            )
        return ArtifactError(f"{where}: {type(exc).__name__}: {exc}")

    def _nearly_full(self) -> bool:
        """Whether a local store's disk has (almost) no space left.

        Writers do not always keep the errno of a full disk (NumPy reports "N requested and M
        written"), so a failed write on a disk with next to nothing free is taken as "disk full".
        """
        local_root = self.storage.local_path(self.storage.root)
        if local_root is None:
            return False
        try:
            return shutil.disk_usage(local_root).free < _NEARLY_FULL_BYTES
        except OSError:  # the store cannot even be inspected: report the original error as it is
            return False

    def save_log(self, run_id: str, step_name: str, name: str, text: str) -> str:
        """Store the log of one step attempt at ``logs/<run>/<step>/<name>.log``; return its URI.

        Logs live beside the artifacts (so remote workers' logs reach the same place) but are not
        artifacts: they are neither hashed nor recorded in the metadata store.
        """
        folder = self.artifact_path(LOGS_FOLDER, run_id, step_name)
        self.storage.makedirs(folder)
        path = self.storage.join(folder, check_segment(f"{name}.log", "log name"))
        with self.storage.open(path, "w") as handle:
            handle.write(text)
        return self.storage.uri_of(path)

    def read_logs(self, run_id: str, step_name: str) -> list[tuple[str, str]]:
        """``(name, text)`` of every stored log of a step, oldest attempt first."""
        folder = self.artifact_path(LOGS_FOLDER, run_id, step_name)
        if not self.storage.exists(folder):
            return []
        names = sorted(name for name, _size in self.storage.files(folder) if name.endswith(".log"))
        logs = []
        for name in names:
            with self.storage.open(self.storage.join(folder, name), "r") as handle:
                logs.append((name.removesuffix(".log"), handle.read()))
        return logs

    def _publish(self, staging: str, final: str, stored: StoredArtifact) -> None:
        """Make the artifact visible all at once: readers only trust folders that have a manifest."""
        if self.storage.exists(final):  # one probe when nothing is there, the usual case
            if self.storage.exists(self.storage.join(final, MANIFEST)):  # another writer won meanwhile
                raise ArtifactError(f"artifact at {self.storage.uri_of(final)} already exists; artifacts are immutable")
            self.storage.remove_tree(final)  # a leftover without a manifest: never published
        if self.storage.atomic_rename:
            self._write_manifest(staging, stored)
            self.storage.rename(staging, final)
        else:
            # Object stores copy objects one by one on "rename": move the data first and write
            # the manifest last, so a reader never sees a manifest before all the data.
            self.storage.rename(staging, final)
            self._write_manifest(final, stored)

    def _write_manifest(self, folder: str, stored: StoredArtifact) -> None:
        manifest = {
            "format": stored.format,
            "materializer": stored.materializer,
            "data_type": stored.data_type,
            "content_hash": stored.content_hash,
            "size": stored.size,
        }
        with self.storage.open(self.storage.join(folder, MANIFEST), "w") as handle:
            json.dump(manifest, handle)

    def _discard(self, staging: str, error: BaseException) -> None:
        """Remove a failed write's staging folder; failing to is noted on ``error``, not raised over it.

        The write's own error is what the user must see (a read-only store fails the clean-up too);
        ``zen doctor`` lists staging folders left behind.
        """
        try:
            if self.storage.exists(staging):
                self.storage.remove_tree(staging)
        except OSError as exc:
            error.add_note(f"the unfinished write's staging folder {staging} could not be removed: {exc}")

    def load(self, stored: StoredArtifact, name: str = "artifact") -> Any:
        """Read an artifact back after checking it is complete and its content hash matches.

        Raises:
            ArtifactError: missing, incomplete, tampered with, or unreadable.
        """
        self.check_present(stored, name)
        materializer = self.materializers.for_stored(stored.format, stored.materializer)
        result: dict[str, Any] = {}
        if stored.size < _THREAD_BYTES:  # small: hashing inline is cheaper than starting a thread
            folder = _Folder(self.storage, self.storage.path_of(stored.uri))
            if materializer in _READS_VERIFIED_BYTES:
                folder.verified = {}
            self._verify_into(stored, result, folder.verified)
            self._raise_if_mismatch(result, stored, name)
            try:
                return materializer().load(folder)
            except Exception as exc:
                raise ArtifactError(f"cannot read {name} at {stored.uri}: {type(exc).__name__}: {exc}") from exc
        verifier = threading.Thread(target=self._verify_into, args=(stored, result), daemon=True)
        verifier.start()  # hashing (GIL released) overlaps with the materializer's read
        try:
            value = materializer().load(_Folder(self.storage, self.storage.path_of(stored.uri)))
        except Exception as exc:
            verifier.join()
            self._raise_if_mismatch(result, stored, name)
            raise ArtifactError(f"cannot read {name} at {stored.uri}: {type(exc).__name__}: {exc}") from exc
        verifier.join()
        self._raise_if_mismatch(result, stored, name)
        return value

    def _verify_into(
        self, stored: StoredArtifact, result: dict[str, Any], keep: dict[str, bytes] | None = None
    ) -> None:
        try:
            path = self.storage.path_of(stored.uri)
            result["hash"] = self.hash_folder(path, like=stored.content_hash, keep=keep)[0]
        except Exception as exc:  # noqa: BLE001 -- handed to the reading thread, which raises it
            result["error"] = exc

    @staticmethod
    def _raise_if_mismatch(result: dict[str, Any], stored: StoredArtifact, name: str) -> None:
        if "error" in result:
            raise ArtifactError(f"cannot verify {name} at {stored.uri}: {result['error']}") from result["error"]
        if result.get("hash") != stored.content_hash:
            raise ArtifactError(
                f"{name} at {stored.uri} does not match its recorded content hash (tampered or "
                "truncated); re-run the step that produced it with --no-cache"
            )

    def check_present(self, stored: StoredArtifact, name: str = "artifact") -> None:
        """Raise ``ArtifactError`` unless the artifact's folder and manifest exist."""
        if not self.is_present(stored.uri):
            raise ArtifactError(f"{name} is missing from the artifact store (expected at {stored.uri})")

    def verify(self, stored: StoredArtifact, name: str = "artifact") -> None:
        """Check presence and content hash without loading."""
        self.check_present(stored, name)
        recomputed = self.hash_folder(self.storage.path_of(stored.uri), like=stored.content_hash)[0]
        self._raise_if_mismatch({"hash": recomputed}, stored, name)

    def damage(self, stored: StoredArtifact, *, hash_up_to: int) -> str | None:
        """Why a recorded artifact is not intact, from cheap checks first; ``None`` when it is.

        Always: the published folder and its manifest exist, and its files add up to the recorded
        size (one listing; catches deleted, truncated and extended files). The content hash is
        recomputed when the artifact is at most ``hash_up_to`` bytes, or when a file of a local
        artifact was modified after its manifest was written (an edit in place, of any size).
        A larger artifact that looks untouched is not read here; ``load`` still checks its hash.
        """
        if not self.is_present(stored.uri):
            return "missing (no published folder with a manifest)"
        folder = self.storage.path_of(stored.uri)
        try:
            files = [(relative, size) for relative, size in self.storage.files(folder) if relative != MANIFEST]
            on_disk = sum(size for _relative, size in files)
            if on_disk != stored.size:
                return f"{on_disk} bytes on disk but {stored.size} recorded (truncated, extended or partly deleted)"
            if stored.size > hash_up_to and not self._edited_in_place(folder, files):
                return None
            if self.hash_folder(folder, like=stored.content_hash)[0] != stored.content_hash:
                return "changed on disk (its content hash differs from the recorded one)"
        except (OSError, ArtifactError) as exc:
            return f"unreadable ({type(exc).__name__}: {exc})"
        return None

    def _edited_in_place(self, folder: str, files: list[tuple[str, int]]) -> bool:
        """Whether a local artifact's file is newer than its manifest (written last, before publishing)."""
        local = self.storage.local_path(folder)
        if local is None:  # remote stores: no modification time that every fsspec filesystem keeps
            return False
        published = os.stat(os.path.join(local, MANIFEST)).st_mtime_ns
        return any(os.stat(os.path.join(local, relative)).st_mtime_ns > published for relative, _size in files)

    def is_present(self, uri: str) -> bool:
        """Whether a published artifact (folder with its manifest) exists at ``uri``."""
        return self.storage.exists(self.storage.join(self.storage.path_of(uri), MANIFEST))

    def hash_folder(
        self, folder: str, like: str | None = None, keep: dict[str, bytes] | None = None
    ) -> tuple[str, int]:
        """Return ``(<algorithm>:<hex>, total bytes)`` over every file but the manifest, in path order.

        The algorithm is the one of the recorded hash ``like`` (to check it), else ``WRITE_HASH``.
        ``keep``: filled with the bytes of each local file as hashed (small artifacts only).

        Raises:
            ArtifactError: ``like`` names an algorithm this zenml does not know.
        """
        algorithm = WRITE_HASH if like is None else like.split(":", 1)[0]
        if algorithm not in _HASHERS:
            raise ArtifactError(
                f"content hash {like!r} uses an unknown algorithm '{algorithm}' (known: {', '.join(_HASHERS)}); "
                "upgrade zenml to read artifacts written by a newer version"
            )
        digest = _HASHERS[algorithm]()
        total = 0
        for relative, size in sorted(self.storage.files(folder)):
            if relative == MANIFEST:
                continue
            digest.update(f"{relative}\0{size}\0".encode())
            path = self.storage.join(folder, relative)
            local = self.storage.local_path(path) if keep is not None else None
            if keep is not None and local is not None:
                with open(local, "rb") as handle:
                    data = handle.read()
                digest.update(data)
                keep[relative] = data
            else:
                self._hash_file(path, size, digest)
            total += size
        return f"{algorithm}:{digest.hexdigest()}", total

    def _hash_file(self, path: str, size: int, digest: Any) -> None:
        local = self.storage.local_path(path)
        if local is not None and size > 0:
            with open(local, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                digest.update(mapped)
            return
        with self.storage.open(path, "rb") as stream:
            while chunk := stream.read(_READ_CHUNK):
                digest.update(chunk)
