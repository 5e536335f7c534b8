"""Read the git commit, dirty flag and a hash of the working-tree diff for a run's provenance."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GitInfo:
    """The state of the working tree a run was launched from."""

    commit: str | None
    dirty: bool
    diff_sha256: str | None


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, check=False)


def read_git_info(root: Path, exclude: tuple[Path, ...] = ()) -> GitInfo | None:
    """Return git provenance for ``root``, or ``None`` when it is not inside a git work tree.

    Paths in ``exclude`` (zenml's own records: ``.zen/``, the run specs) never make a tree dirty.
    """
    if shutil.which("git") is None:
        return None
    # one process for both questions: prints "true"/"false", then HEAD's id (or "HEAD" and exit 128
    # in a repository without commits); exit 128 with no output outside any repository
    lines = _git(root, "rev-parse", "--is-inside-work-tree", "HEAD").stdout.decode().split()
    if not lines or lines[0] != "true":
        return None
    commit = lines[1] if len(lines) > 1 and _is_object_id(lines[1]) else None
    # Untracked files count as dirty: they may be the very code a step runs.
    excluded = [f":(exclude){path.resolve().relative_to(root.resolve()).as_posix()}" for path in exclude
                if path.resolve().is_relative_to(root.resolve())]
    status = _git(root, "status", "--porcelain", "--", ".", *excluded)
    dirty = bool(status.stdout.strip())
    if not dirty:
        return GitInfo(commit=commit, dirty=False, diff_sha256=None)
    diff = _git(root, "diff", "HEAD", "--", ".", *excluded) if commit else _git(root, "diff", "--", ".", *excluded)
    digest = hashlib.sha256(diff.stdout + status.stdout).hexdigest()
    return GitInfo(commit=commit, dirty=True, diff_sha256=digest)


def _is_object_id(text: str) -> bool:
    """A full SHA-1 or SHA-256 object id in hex."""
    return len(text) in (40, 64) and all(ch in "0123456789abcdef" for ch in text)
