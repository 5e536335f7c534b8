"""Whether an earlier execution's outputs may be served as a cache hit: present and intact, checked cheaply.

A cache hit links the earlier outputs into the new run without reading them, so a damaged artifact
(deleted, truncated, edited in place, flagged by ``zen doctor``) would be served silently and fail
only in a later reader, or never. Before a hit is taken every output is therefore checked:

- always: its published folder and manifest exist and its files add up to the recorded size (one
  listing, no data read): deletion, truncation and appends are caught on any store;
- its content hash is recomputed when the artifact is small (``HASH_ON_HIT_LOCAL_BYTES`` on a local
  disk: XXH3 hashes page-cached data at ~25 GB/s, so 64 MiB costs ~3 ms; ``HASH_ON_HIT_REMOTE_BYTES``
  on an object store, where hashing means downloading), and on a local disk also whenever one of
  its files was modified after the artifact was published, whatever its size.

Not re-hashed on a hit: a larger artifact whose files look untouched (same sizes, on a local disk
no file newer than the manifest), e.g. one corrupted by the disk itself, or edited in place on an
object store without a size change. Re-hashing those on every hit would cost a full read (or
download) of every large cached output on every re-run; instead every read verifies the hash, so a
step that reads such an artifact fails naming it (nothing is computed from bad data), and
``zen doctor`` finds it. Re-running its producer with ``--no-cache`` records a good copy, which
later hits use (the newest execution is tried first).
"""

from __future__ import annotations

from collections.abc import Mapping

from zenml.artifacts.store import StoredArtifact
from zenml.metadata.records import ArtifactRecord
from zenml.runtime.stores import Stores

HASH_ON_HIT_LOCAL_BYTES = 64 * 1024 * 1024
HASH_ON_HIT_REMOTE_BYTES = 1024 * 1024


def stored_artifact(record: ArtifactRecord) -> StoredArtifact:
    """The artifact store's view of a recorded artifact."""
    return StoredArtifact(
        uri=record.uri,
        format=record.format,
        materializer=record.materializer,
        data_type=record.data_type,
        content_hash=record.content_hash,
        size=record.size,
    )


def damaged_output(outputs: Mapping[str, ArtifactRecord], stores: Stores) -> tuple[str, ArtifactRecord, str] | None:
    """The first output that cannot be served as a cache hit, as ``(name, record, why)``; ``None``: all intact."""
    artifacts = stores.artifacts
    local = artifacts.storage.local_path(artifacts.storage.root) is not None
    limit = HASH_ON_HIT_LOCAL_BYTES if local else HASH_ON_HIT_REMOTE_BYTES
    for name, record in outputs.items():
        why = artifacts.damage(stored_artifact(record), hash_up_to=limit)
        if why is not None:
            return name, record, why
    return None
