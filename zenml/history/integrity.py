"""``zen doctor``: check that the metadata and artifact stores agree, and repair what is safe to repair.

Problems (the stores are unhealthy): a run left ``running`` by a process that is gone, a recorded
artifact that is missing or no longer matches its content hash, a published artifact folder whose
files do not match its own manifest, a run whose spec file is missing or changed. Reclaimable
garbage (healthy, only wasted space): artifact folders no metadata row points to, files outside
any published artifact, leftovers in the store's ``.staging`` area, all of which a killed writer
can leave behind.

``fix=True`` marks stuck runs ``crashed`` (so ``zen runs resume`` finishes them) and deletes
garbage that nothing can still be writing: older than ``min_age``, and belonging to a run of this
metadata store that is not running (staging leftovers: only while no run is running). Recorded
data is never deleted, and neither is anything the metadata store does not know (another stack
may share the artifact store).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import PurePosixPath
from typing import Any

from zenml.artifacts.storage import Storage
from zenml.artifacts.store import LOGS_FOLDER, MANIFEST
from zenml.metadata.records import ArtifactRecord, RunRecord
from zenml.runtime.stores import Stores
from zenml.utils.hashing import sha256_bytes
from zenml.utils.status import STALE_AFTER_SECONDS, RunStatus

STAGING = ".staging"
#: kinds that make the stores unhealthy (exit code 1)
PROBLEM_KINDS = (
    "stuck_run", "missing_artifact", "corrupt_artifact", "partial_artifact", "bad_spec", "missing_metadata_store"
)
#: kinds that only waste space
GARBAGE_KINDS = ("unrecorded_artifact", "stray_files", "staging_leftover")
DEFAULT_MIN_AGE = 3600.0
DEFAULT_STALE_AFTER = STALE_AFTER_SECONDS


@dataclass(frozen=True)
class Finding:
    """One thing the check found.

    Attributes:
        kind: one of ``PROBLEM_KINDS`` or ``GARBAGE_KINDS``.
        subject: a run id, or a path relative to the artifact store's root.
        detail: what is wrong, in words.
        action: what ``fix`` did about it, or why it left it alone (empty without ``fix``).
        resolved: ``fix`` repaired or removed it.
    """

    kind: str
    subject: str
    detail: str
    action: str = ""
    resolved: bool = False

    @property
    def is_problem(self) -> bool:
        """Whether it makes the stores unhealthy (rather than only wasting space)."""
        return self.kind in PROBLEM_KINDS


@dataclass(frozen=True)
class DoctorReport:
    """The result of ``check``: what was examined and what was found (and done)."""

    findings: tuple[Finding, ...]
    runs_checked: int
    artifacts_checked: int
    artifacts_elsewhere: int
    bytes_hashed: int
    fixed: bool

    @property
    def problems(self) -> list[Finding]:
        """Problems still present (not resolved by ``fix``)."""
        return [finding for finding in self.findings if finding.is_problem and not finding.resolved]

    @property
    def healthy(self) -> bool:
        """No problem remains (garbage may)."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form (``zen doctor --json``)."""
        return {
            "healthy": self.healthy,
            "fixed": self.fixed,
            "runs_checked": self.runs_checked,
            "artifacts_checked": self.artifacts_checked,
            "artifacts_elsewhere": self.artifacts_elsewhere,
            "bytes_hashed": self.bytes_hashed,
            "findings": [{**asdict(finding), "problem": finding.is_problem} for finding in self.findings],
        }


def check(
    stores: Stores,
    *,
    fix: bool = False,
    min_age: float = DEFAULT_MIN_AGE,
    verify_hashes: bool = True,
    stale_after: float = DEFAULT_STALE_AFTER,
) -> DoctorReport:
    """Check the stores' integrity; with ``fix``, repair what is safe (see the module docstring).

    Args:
        stores: the metadata and artifact stores to check (``Repository().stores()``).
        fix: mark stuck runs ``crashed`` and delete garbage nothing can still be writing.
        min_age: seconds since garbage was last modified before ``fix`` deletes it.
        verify_hashes: re-hash every artifact (else only check that each is present).
        stale_after: seconds without a heartbeat after which a run's owner counts as gone.

    Returns:
        The report; ``report.healthy`` says whether any problem remains.
    """
    doctor = _Doctor(stores, fix=fix, min_age=min_age, verify_hashes=verify_hashes)
    doctor.check_runs(stale_after)
    doctor.check_recorded_artifacts()
    doctor.check_store_files()
    return doctor.report()


def lost_metadata_finding(database: str, artifact_store: str, *, fixed: bool) -> Finding:
    """The finding for an SQLite metadata file that is missing while its artifact store holds artifacts.

    ``fixed``: a new, empty metadata store was started; the artifacts stay where they are,
    unrecorded, and ``fix`` never deletes them (they belong to no run of the new store).
    """
    detail = f"the metadata store {database} is missing, but the artifact store {artifact_store} holds artifacts"
    if fixed:
        action = "started a new, empty metadata store; the artifacts are kept (unrecorded, never deleted)"
        return Finding("missing_metadata_store", database, detail, action, resolved=True)
    action = "restore the file from a backup, or run 'zen doctor --fix' to start a new, empty metadata store"
    return Finding("missing_metadata_store", database, detail, action)


@dataclass
class _StoreListing:
    """The artifact store's files outside ``logs/``, sorted into published folders and the rest."""

    published: set[str] = field(default_factory=set)
    stray: dict[str, list[str]] = field(default_factory=dict)
    staging: dict[str, list[str]] = field(default_factory=dict)


class _Doctor:
    """The state of one check: the stores, the options and the findings so far."""

    def __init__(self, stores: Stores, *, fix: bool, min_age: float, verify_hashes: bool) -> None:
        self.metadata, self.artifacts, self.root = stores.metadata, stores.artifacts, stores.project_root
        self.storage = stores.artifacts.storage
        self.fix, self.min_age, self.verify_hashes = fix, min_age, verify_hashes
        self.findings: list[Finding] = []
        self.runs: dict[str, RunRecord] = {}
        self.recorded: set[str] = set()
        self.artifacts_checked = self.artifacts_elsewhere = self.bytes_hashed = 0

    def report(self) -> DoctorReport:
        return DoctorReport(
            findings=tuple(self.findings),
            runs_checked=len(self.runs),
            artifacts_checked=self.artifacts_checked,
            artifacts_elsewhere=self.artifacts_elsewhere,
            bytes_hashed=self.bytes_hashed,
            fixed=self.fix,
        )

    # -- runs ------------------------------------------------------------------------------------

    def check_runs(self, stale_after: float) -> None:
        """Stuck runs (reaped with ``fix``), then every run's spec file."""
        dead = self.metadata.dead_runs(stale_after)
        reaped = set(self.metadata.reap_dead_runs(stale_after)) if self.fix and dead else set()
        for record, reason in dead:
            detail = f"status '{RunStatus.RUNNING}' but {reason}"
            if not self.fix:
                self.findings.append(Finding("stuck_run", record.id, detail))
            elif record.id in reaped:
                action = f"marked crashed; finish it with 'zen runs resume {record.id}'"
                self.findings.append(Finding("stuck_run", record.id, detail, action, resolved=True))
            else:  # between the two reads its process finished it after all
                self.findings.append(Finding("stuck_run", record.id, detail, "it finished meanwhile", resolved=True))
        self.runs = {record.id: record for record in self.metadata.runs()}
        for record in self.runs.values():
            self._check_spec(record)

    def _check_spec(self, record: RunRecord) -> None:
        path = record.spec_file(self.root)
        if not path.is_file():
            detail = f"its spec file {record.spec_path} is missing; the run cannot be resumed or re-run"
        elif sha256_bytes(path.read_bytes()) != record.spec_sha256:  # as every reader checks it
            detail = f"its spec file {record.spec_path} was changed after the run was recorded"
        else:
            return
        self.findings.append(Finding("bad_spec", record.id, detail, self._unfixed("restore the file from a backup")))

    # -- recorded artifacts ----------------------------------------------------------------------

    def check_recorded_artifacts(self) -> None:
        """Every recorded artifact in this store is present and (optionally) matches its content hash."""
        labels = {}
        for record, run_id, step, output in self.metadata.artifacts():
            labels[record.id] = f"output '{output}' of step '{step}' in run {run_id}"
        for record in self.metadata.all_artifacts():
            relative = self._relative(record.uri)
            if relative is None:
                self.artifacts_elsewhere += 1  # recorded in another artifact store: not this check's to judge
                continue
            self.recorded.add(relative)
            self.artifacts_checked += 1
            self._check_recorded(record, relative, labels.get(record.id, f"artifact {record.id}"))

    def _check_recorded(self, record: ArtifactRecord, relative: str, label: str) -> None:
        advice = self._unfixed("re-run the producing step with --no-cache; recorded data is never deleted")
        if not self.artifacts.is_present(record.uri):
            detail = f"{label} is recorded but missing (no published folder with a manifest)"
            self.findings.append(Finding("missing_artifact", relative, detail, advice))
            return
        if self.verify_hashes and self._hash(relative, record.content_hash) != record.content_hash:
            detail = f"{label} does not match its recorded content hash {record.content_hash[:20]}…"
            self.findings.append(Finding("corrupt_artifact", relative, detail, advice))

    # -- files in the artifact store -------------------------------------------------------------

    def check_store_files(self) -> None:
        """Published folders no row points to, files outside any published folder, staging leftovers."""
        listing = self._listing()
        for folder in sorted(listing.published - self.recorded):
            self._check_unrecorded(folder)
        for unit, files in sorted(listing.stray.items()):
            detail = f"{len(files)} file(s) outside any published artifact (an interrupted write)"
            self._garbage("stray_files", unit, detail, single_file=files == [unit])
        for entry, files in sorted(listing.staging.items()):
            detail = f"unpublished write with {len(files)} file(s) (a writer was interrupted, or is still writing)"
            self._garbage("staging_leftover", entry, detail, single_file=files == [entry])

    def _check_unrecorded(self, folder: str) -> None:
        if self.verify_hashes:
            manifest = self._manifest_hash(folder)
            if manifest is None or self._hash(folder, manifest) != manifest:
                detail = "published folder whose files do not match its manifest (a partial artifact)"
                self._garbage("partial_artifact", folder, detail)
                return
        self._garbage("unrecorded_artifact", folder, "published artifact no metadata row points to")

    def _listing(self) -> _StoreListing:
        listing = _StoreListing()
        files = []
        for relative, _size in self.storage.files(self.storage.root):
            top = relative.split("/", 1)[0]
            if top == STAGING:
                entry = "/".join(relative.split("/")[:2])
                listing.staging.setdefault(entry, []).append(relative)
            elif top != LOGS_FOLDER:  # logs are not artifacts and are not recorded
                files.append(relative)
        listing.published = {str(PurePosixPath(f).parent) for f in files if PurePosixPath(f).name == MANIFEST}
        listing.published.discard(".")
        for entry in self._staging_folders_on_disk():
            listing.staging.setdefault(entry, [])
        # a recorded folder that lost its manifest still holds recorded data: never garbage
        owned = listing.published | self.recorded
        protected = {str(path) for folder in owned for path in (PurePosixPath(folder), *PurePosixPath(folder).parents)}
        for relative in files:
            if not _inside_any(relative, owned):
                listing.stray.setdefault(_removable_unit(relative, protected), []).append(relative)
        return listing

    def _staging_folders_on_disk(self) -> list[str]:
        """Every staging folder, including empty ones (a writer killed right after creating it), on local disks."""
        local = self.storage.local_path(self.storage.join(self.storage.root, STAGING))
        if local is None or not os.path.isdir(local):
            return []
        return [f"{STAGING}/{name}" for name in os.listdir(local)]

    # -- deciding and removing -------------------------------------------------------------------

    def _garbage(self, kind: str, relative: str, detail: str, *, single_file: bool = False) -> None:
        if not self.fix:
            self.findings.append(Finding(kind, relative, detail))
            return
        reason = "a single file zenml did not write; remove it by hand if unwanted" if single_file else None
        reason = reason or self._why_keep(relative)
        if reason is None:
            self.storage.remove_tree(self.storage.join(self.storage.root, relative))
            self.findings.append(Finding(kind, relative, detail, "deleted", resolved=True))
            return
        self.findings.append(Finding(kind, relative, detail, f"kept: {reason}"))

    def _why_keep(self, relative: str) -> str | None:
        """Why ``fix`` must not delete this garbage, or ``None`` when it is safe to."""
        parts = relative.split("/")
        path = self.storage.join(self.storage.root, relative)
        if parts[0] == STAGING:
            running = self.metadata.runs(status=RunStatus.RUNNING, limit=1)
            if running:
                return f"run {running[0].id} is running and may be writing it"
        elif parts[0] not in self.runs:
            return f"'{parts[0]}' is not a run of this metadata store (another stack may share this artifact store)"
        elif self.metadata.get_run(parts[0]).status == RunStatus.RUNNING:  # read now: it may have been resumed since
            return f"run {parts[0]} is running and may still record it"
        age = self._age(path)
        if age is None:
            return "its age cannot be read from this artifact store"
        if age < self.min_age:
            return f"modified {age / 60:.0f} min ago (younger than --min-age {self.min_age / 60:g} min)"
        return None

    def _age(self, path: str) -> float | None:
        """Seconds since anything under ``path`` was last modified (``None``: unknown)."""
        newest = _newest_mtime(self.storage, path)
        return None if newest is None else time.time() - newest

    def _unfixed(self, advice: str) -> str:
        return f"not repaired: {advice}" if self.fix and advice else ""

    # -- helpers ---------------------------------------------------------------------------------

    def _relative(self, uri: str) -> str | None:
        """``uri`` relative to the store's root, or ``None`` when it lies in another store."""
        root = self.storage.uri_of(self.storage.root).rstrip("/") + "/"
        return uri[len(root) :].strip("/") if uri.startswith(root) else None

    def _hash(self, relative: str, recorded: str) -> str:
        """The folder's content hash, computed with the algorithm of the ``recorded`` one."""
        content_hash, size = self.artifacts.hash_folder(self.storage.join(self.storage.root, relative), like=recorded)
        self.bytes_hashed += size
        return content_hash

    def _manifest_hash(self, relative: str) -> str | None:
        path = self.storage.join(self.storage.root, relative, MANIFEST)
        try:
            with self.storage.open(path, "r") as handle:
                manifest = json.load(handle)
        except json.JSONDecodeError:
            return None  # a torn manifest: the folder is treated as a partial artifact
        value = manifest.get("content_hash") if isinstance(manifest, dict) else None
        return value if isinstance(value, str) else None


def _inside_any(relative: str, folders: set[str]) -> bool:
    return any(str(parent) in folders for parent in PurePosixPath(relative).parents)


def _removable_unit(relative: str, protected: set[str]) -> str:
    """The topmost folder holding ``relative`` with no published artifact below it (else the file)."""
    path = PurePosixPath(relative)
    for ancestor in reversed(path.parents[:-1]):  # from the top down, without the store root itself
        if str(ancestor) not in protected:
            return str(ancestor)
    return relative


def _newest_mtime(storage: Storage, path: str) -> float | None:
    """The newest modification time of a folder and everything in it."""
    local = storage.local_path(path)
    if local is not None:
        newest = os.stat(local).st_mtime
        for folder, dirs, names in os.walk(local):
            for name in [*dirs, *names]:
                newest = max(newest, os.lstat(os.path.join(folder, name)).st_mtime)
        return newest
    fs = getattr(storage, "fs", None)
    if fs is None:
        return None
    times = []
    for relative, _size in storage.files(path):
        try:
            times.append(fs.modified(storage.join(path, relative)).timestamp())
        except NotImplementedError:
            return None  # this filesystem keeps no modification times: the age is unknown
    return max(times) if times else None
