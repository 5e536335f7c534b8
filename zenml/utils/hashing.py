"""Canonical JSON and content hashes: the building blocks of spec hashes and cache keys."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import xxhash

#: The one hash family of the content zenml records: artifact content hashes and datasources' data
#: versions are both ``xxh3-128:<hex>``. XXH3-128 hashes at memory speed (~25 GB/s, BLAKE3 ~2.5 GB/s
#: per core), which matters because a datasource hashes its whole source on every run; like a
#: database's page checksums it detects changed, truncated and corrupted data, and is not a seal
#: against content forged on purpose (docs/guides/security.md).
CONTENT_HASH = "xxh3-128"


def canonical_json(value: Any, *, strict: bool = True) -> str:
    """Serialise ``value`` to JSON with sorted keys and no whitespace, so equal values hash equal.

    With ``strict=False`` values JSON cannot hold are written as their ``repr`` instead of failing.
    """
    fallback = None if strict else repr
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=fallback)


def sha256_text(text: str) -> str:
    """Return the hex sha256 of a UTF-8 string."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_bytes(data: bytes) -> str:
    """Return the hex sha256 of raw bytes."""
    return hashlib.sha256(data).hexdigest()


def hash_json(value: Any) -> str:
    """Return the sha256 of the canonical JSON of ``value``."""
    return sha256_text(canonical_json(value))


def content_digest() -> Any:
    """A new ``CONTENT_HASH`` digest (``update(bytes)``, ``hexdigest()``)."""
    return xxhash.xxh3_128()
