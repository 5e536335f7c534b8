"""The artifact store: atomic publish, manifests, content hashes verified on read, safe paths."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from zenml.artifacts import ArtifactFolder, ArtifactStore, BaseMaterializer, MaterializerRegistry, StoredArtifact
from zenml.artifacts.materializers import JSONMaterializer, NumpyMaterializer
from zenml.artifacts.store import MANIFEST
from zenml.exceptions import ArtifactError, ConfigError


class HalfWrittenError(RuntimeError):
    """Raised by ``ExplodingMaterializer`` after it has written part of an artifact."""


class ExplodingMaterializer(BaseMaterializer):
    """Writes one file, then fails: the store must not publish anything."""

    format = "exploding"
    type_names = ("builtins.bytes",)

    def save(self, value: Any, folder: ArtifactFolder) -> None:
        with folder.open("part-1.bin", "wb") as handle:
            handle.write(value)
        with folder.open("nested/part-2.bin", "wb") as handle:
            handle.write(value[:1])
        raise HalfWrittenError("disk went away half-way")

    def load(self, folder: ArtifactFolder) -> Any:  # pragma: no cover - never published
        raise AssertionError("nothing should be loaded")


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(str(tmp_path / "artifacts"))


@pytest.fixture
def memory_store() -> Iterator[ArtifactStore]:
    import fsspec

    bucket = f"zen-test-{uuid.uuid4().hex[:10]}"
    yield ArtifactStore(f"memory://{bucket}")
    filesystem = fsspec.filesystem("memory")
    if filesystem.exists(f"/{bucket}"):
        filesystem.rm(f"/{bucket}", recursive=True)


def _local_folder(stored: StoredArtifact) -> Path:
    return Path(stored.uri.removeprefix("file://"))


def _staging_entries(store: ArtifactStore) -> list[str]:
    staging = Path(store.storage.root) / ".staging"
    return sorted(os.listdir(staging)) if staging.exists() else []


# -- publishing -----------------------------------------------------------------------------------


def test_save_writes_folder_with_manifest_and_records_hash(store: ArtifactStore) -> None:
    stored = store.save({"a": 1, "b": [1.5, "x"]}, ("run-1", "load", "output"))
    folder = _local_folder(stored)
    assert folder == Path(store.storage.root) / "run-1" / "load" / "output"
    assert sorted(os.listdir(folder)) == sorted([MANIFEST, "value.json"])
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest == {
        "format": "json",
        "materializer": "zenml.artifacts.materializers.JSONMaterializer",
        "data_type": "builtins.dict",
        "content_hash": stored.content_hash,
        "size": stored.size,
    }
    assert stored.format == "json"
    assert stored.size == (folder / "value.json").stat().st_size
    assert stored.content_hash.startswith("xxh3-128:") and len(stored.content_hash) == len("xxh3-128:") + 32
    assert store.hash_folder(str(folder)) == (stored.content_hash, stored.size)
    assert _staging_entries(store) == []


def test_content_hash_is_stable_and_depends_on_content(store: ArtifactStore) -> None:
    array = np.arange(12, dtype=np.int32).reshape(3, 4)
    first = store.save(array, ("r1", "s", "out"))
    again = store.save(array.copy(), ("r2", "s", "out"))
    other = store.save(array + 1, ("r3", "s", "out"))
    assert first.content_hash == again.content_hash
    assert other.content_hash != first.content_hash
    assert first.uri != again.uri


def test_existing_artifact_is_never_overwritten(store: ArtifactStore) -> None:
    stored = store.save([1, 2, 3], ("run", "step", "output"))
    with pytest.raises(ArtifactError, match=r"already exists.*immutable"):
        store.save([4, 5, 6], ("run", "step", "output"))
    assert store.load(stored) == [1, 2, 3]
    assert _staging_entries(store) == []


def test_a_leftover_folder_without_manifest_is_replaced(store: ArtifactStore) -> None:
    leftover = Path(store.artifact_path("run", "step", "output"))
    leftover.mkdir(parents=True)
    (leftover / "garbage.bin").write_bytes(b"from a crashed writer")
    stored = store.save("fresh", ("run", "step", "output"))
    assert sorted(os.listdir(leftover)) == sorted([MANIFEST, "value.json"])
    assert store.load(stored) == "fresh"


class RacingMaterializer(BaseMaterializer):
    """Another writer publishes the same artifact while this one is still writing (a duplicate worker)."""

    format = "racing"
    type_names = ()
    rival: ArtifactStore | None = None

    def save(self, value: Any, folder: ArtifactFolder) -> None:
        assert self.rival is not None
        self.rival.save("published first", ("run", "step", "output"))
        with folder.open("value.json", "w") as handle:
            json.dump(value, handle)

    def load(self, folder: ArtifactFolder) -> Any:  # pragma: no cover
        raise AssertionError


def test_a_concurrently_published_artifact_is_never_replaced(store: ArtifactStore) -> None:
    RacingMaterializer.rival = ArtifactStore(store.uri)
    try:
        with pytest.raises(ArtifactError, match="already exists"):
            store.save("published second", ("run", "step", "output"), RacingMaterializer)
    finally:
        RacingMaterializer.rival = None
    folder = Path(store.artifact_path("run", "step", "output"))
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["format"] == "json"
    assert json.loads((folder / "value.json").read_text()) == "published first"
    assert _staging_entries(store) == []


def test_failing_materializer_leaves_no_partial_artifact(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactError, match=r"'run/step/output'.*HalfWrittenError.*half-way") as info:
        store.save(b"payload", ("run", "step", "output"), ExplodingMaterializer)
    assert isinstance(info.value.__cause__, HalfWrittenError)
    assert not Path(store.artifact_path("run", "step", "output")).exists()
    assert not store.is_present(store.storage.uri_of(store.artifact_path("run", "step", "output")))
    assert _staging_entries(store) == []


def test_a_failed_clean_up_never_hides_the_write_error(store: ArtifactStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: str) -> None:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(store.storage, "remove_tree", refuse)  # e.g. a store that turned read-only mid-write
    with pytest.raises(ArtifactError, match=r"'run/step/output'.*HalfWrittenError") as info:
        store.save(b"payload", ("run", "step", "output"), ExplodingMaterializer)
    notes = getattr(info.value, "__notes__", [])
    assert len(notes) == 1 and "staging folder" in notes[0] and "Permission denied" in notes[0]


@pytest.mark.parametrize(
    "segments",
    [
        ("run", "../escape", "output"),
        ("run", "step", ".."),
        ("..", "step", "output"),
        ("/abs", "step", "output"),
        ("run", "a/b", "output"),
        ("run", "", "output"),
        ("run", ".", "output"),
    ],
)
def test_path_segments_that_could_escape_are_refused(store: ArtifactStore, tmp_path: Path, segments: tuple) -> None:
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(ArtifactError, match="cannot be used in an artifact path"):
        store.save(1, segments)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not (tmp_path / "escape").exists()


def test_materializer_file_names_cannot_escape_the_artifact_folder(store: ArtifactStore, tmp_path: Path) -> None:
    class Sneaky(BaseMaterializer):
        format = "sneaky"
        type_names = ()

        def save(self, value: Any, folder: ArtifactFolder) -> None:
            with folder.open("../../../sneaky.txt", "w") as handle:
                handle.write(value)

        def load(self, folder: ArtifactFolder) -> Any:  # pragma: no cover
            raise AssertionError

    with pytest.raises(ArtifactError, match="artifact file name '..' cannot be used"):
        store.save("x", ("run", "step", "output"), Sneaky)
    assert not list(tmp_path.rglob("sneaky.txt"))
    assert _staging_entries(store) == []


# -- reading and verification -----------------------------------------------------------------------


def test_tampered_artifact_is_an_error_naming_it(store: ArtifactStore) -> None:
    stored = store.save({"label": "cat"}, ("run", "step", "output"))
    data = _local_folder(stored) / "value.json"
    data.write_text(json.dumps({"label": "dog"}))  # still valid JSON of the same type: must not be returned
    with pytest.raises(ArtifactError, match=r"output 'pred' of step 'x'.*does not match its recorded content hash"):
        store.load(stored, "output 'pred' of step 'x'")
    with pytest.raises(ArtifactError, match="tampered or truncated"):
        store.verify(stored, "artifact 7")


def test_truncated_artifact_is_an_error_never_wrong_data(store: ArtifactStore) -> None:
    stored = store.save(np.linspace(0.0, 1.0, 1000), ("run", "step", "output"))
    data = _local_folder(stored) / "array.npy"
    data.write_bytes(data.read_bytes()[:200])
    with pytest.raises(ArtifactError, match=r"^artifact 42 at .* does not match its recorded content hash"):
        store.load(stored, "artifact 42")


def test_extra_file_in_artifact_folder_breaks_verification(store: ArtifactStore) -> None:
    stored = store.save("value", ("run", "step", "output"))
    (_local_folder(stored) / "intruder.txt").write_text("extra")
    with pytest.raises(ArtifactError, match="does not match its recorded content hash"):
        store.load(stored, "artifact 3")


def test_artifacts_hashed_with_blake3_by_earlier_versions_are_still_verified(store: ArtifactStore) -> None:
    stored = store.save({"label": "cat"}, ("run", "step", "output"))
    folder = str(_local_folder(stored))
    legacy_hash, size = store.hash_folder(folder, like="blake3:")
    assert legacy_hash.startswith("blake3:") and len(legacy_hash) == len("blake3:") + 64
    legacy = dataclasses.replace(stored, content_hash=legacy_hash)
    assert store.load(legacy) == {"label": "cat"}
    (_local_folder(stored) / "value.json").write_text(json.dumps({"label": "dog"}))
    with pytest.raises(ArtifactError, match="does not match its recorded content hash"):
        store.load(legacy)


def test_a_hash_of_an_unknown_algorithm_is_refused_with_the_fix(store: ArtifactStore) -> None:
    stored = dataclasses.replace(store.save(3, ("run", "step", "output")), content_hash="sha3-512:abc")
    with pytest.raises(ArtifactError, match=r"unknown algorithm 'sha3-512'.*upgrade zenml"):
        store.load(stored, "artifact 4")
    with pytest.raises(ArtifactError, match=r"unknown algorithm 'sha3-512'"):
        store.verify(stored)


class AnnouncingMaterializer(BaseMaterializer):
    """Announces its file's bytes (or ``announce_as`` instead), optionally writing a second file."""

    format = "announcing"
    type_names = ("builtins.bytes",)
    announce_as: bytes | None = None
    extra_file = False

    def save(self, value: Any, folder: ArtifactFolder) -> None:
        folder.announce("data.bin", self.announce_as if self.announce_as is not None else value)
        with folder.open("data.bin", "wb") as handle:
            handle.write(value)
        if self.extra_file:
            with folder.open("extra.bin", "wb") as handle:
                handle.write(b"x")

    def load(self, folder: ArtifactFolder) -> Any:
        with folder.open("data.bin", "rb") as handle:
            return handle.read()


class ShortAnnouncement(AnnouncingMaterializer):
    announce_as = b"short"


class AnnouncementWithAnotherFile(AnnouncingMaterializer):
    extra_file = True


class FalseAnnouncement(AnnouncingMaterializer):
    announce_as = b"the fake bytes"  # as long as b"the real bytes"


@pytest.mark.parametrize("size", [10, 6 * 1024 * 1024], ids=["inline", "threaded"])
def test_announced_bytes_give_the_hash_of_the_written_files(store: ArtifactStore, size: int) -> None:
    value = os.urandom(size)
    stored = store.save(value, ("run", "step", "output"), materializer=AnnouncingMaterializer)
    assert store.hash_folder(str(_local_folder(stored))) == (stored.content_hash, stored.size)
    assert store.load(stored) == value


def test_announcements_that_do_not_describe_the_folder_fall_back_to_its_files(store: ArtifactStore) -> None:
    for index, materializer in enumerate([ShortAnnouncement, AnnouncementWithAnotherFile]):
        stored = store.save(b"the real bytes", ("run", f"step{index}", "output"), materializer=materializer)
        assert store.hash_folder(str(_local_folder(stored))) == (stored.content_hash, stored.size)
        assert store.load(stored) == b"the real bytes"


def test_a_false_announcement_of_the_right_size_fails_every_read(store: ArtifactStore) -> None:
    stored = store.save(b"the real bytes", ("run", "step", "output"), materializer=FalseAnnouncement)
    with pytest.raises(ArtifactError, match="does not match its recorded content hash"):
        store.load(stored)


@pytest.mark.parametrize("value", [0, -7, 1.5, "naïve ✓", [1, {"a": None}], {"k": [True, False]}])
def test_json_values_are_written_as_json_dump_writes_them_and_hashed_from_memory(
    store: ArtifactStore, value: Any
) -> None:
    stored = store.save(value, ("run", "step", "output"))
    folder = _local_folder(stored)
    assert (folder / "value.json").read_text() == json.dumps(value)
    assert store.hash_folder(str(folder)) == (stored.content_hash, stored.size)
    assert store.load(stored) == value


def test_folders_removed_after_a_save_are_created_again(store: ArtifactStore) -> None:
    """The store remembers folders it made; one deleted since (``zen gc``) is made again, not an error."""
    import shutil

    first = store.save(1, ("run", "step", "a"))
    shutil.rmtree(Path(store.storage.root) / "run")
    shutil.rmtree(Path(store.storage.root) / ".staging")
    second = store.save(2, ("run", "step", "b"))
    assert store.load(second) == 2
    assert not store.is_present(first.uri)
    assert store.save(3, ("run", "other", "a")).content_hash == store.save(3, ("run", "other", "b")).content_hash
    assert _staging_entries(store) == []


def test_missing_artifact_is_an_error(store: ArtifactStore) -> None:
    stored = store.save(5, ("run", "step", "output"))
    (_local_folder(stored) / MANIFEST).unlink()
    with pytest.raises(ArtifactError, match="artifact 9 is missing from the artifact store"):
        store.load(stored, "artifact 9")
    ghost = StoredArtifact(
        uri=store.artifact_path("nope", "step", "output"),
        format="json",
        materializer="zenml.artifacts.materializers.JSONMaterializer",
        data_type="builtins.int",
        content_hash="blake3:" + "0" * 64,
        size=1,
    )
    with pytest.raises(ArtifactError, match="missing"):
        store.load(ghost)
    assert not store.is_present(ghost.uri)


def test_unknown_type_says_how_to_register_a_materializer(store: ArtifactStore) -> None:
    class Opaque:
        pass

    with pytest.raises(ArtifactError, match=r"Opaque.*register_materializer"):
        store.save(Opaque(), ("run", "step", "output"))
    assert not Path(store.artifact_path("run", "step", "output")).exists()


def test_pickle_is_never_chosen_silently(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactError, match="pickling"):
        store.save(np.array([object(), 1], dtype=object), ("run", "step", "output"))
    with pytest.raises(ArtifactError, match="no materializer"):
        store.save((1, 2), ("run", "step", "tuple"))
    with pytest.raises(ArtifactError, match="non-string key"):
        store.save({1: "a"}, ("run", "step", "keys"))
    assert _staging_entries(store) == []


def test_explicit_materializer_that_cannot_handle_the_value_publishes_nothing(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactError, match=r"could not write artifact 'run/step/output'.*AttributeError"):
        store.save([1, 2], ("run", "step", "output"), NumpyMaterializer)
    assert not Path(store.artifact_path("run", "step", "output")).exists()
    assert _staging_entries(store) == []


def test_relative_store_folder_resolves_against_base_dir(tmp_path: Path) -> None:
    store = ArtifactStore("data/artifacts", base_dir=tmp_path)
    stored = store.save(1, ("r", "s", "o"))
    assert Path(stored.uri).is_relative_to(tmp_path / "data" / "artifacts")
    assert ArtifactStore(f"file://{tmp_path / 'other'}").save(2, ("r", "s", "o")).uri.startswith(str(tmp_path))


# -- fsspec stores ------------------------------------------------------------------------------------


def test_memory_store_round_trip_and_verification(memory_store: ArtifactStore) -> None:
    import fsspec

    array = np.arange(6, dtype=np.float64).reshape(2, 3)
    stored = memory_store.save(array, ("run", "step", "output"))
    assert stored.uri.startswith("memory://")
    loaded = memory_store.load(stored, "artifact 1")
    np.testing.assert_array_equal(loaded, array)
    assert memory_store.is_present(stored.uri)
    filesystem = fsspec.filesystem("memory")
    folder = memory_store.storage.path_of(stored.uri)
    assert sorted(p.rsplit("/", 1)[1] for p in filesystem.find(folder)) == sorted([MANIFEST, "array.npy"])
    assert not filesystem.exists(f"{memory_store.storage.root}/.staging") or not filesystem.find(
        f"{memory_store.storage.root}/.staging"
    )
    with pytest.raises(ArtifactError, match="already exists"):
        memory_store.save(array, ("run", "step", "output"))
    with filesystem.open(f"{folder}/array.npy", "wb") as handle:
        np.save(handle, array + 1)
    with pytest.raises(ArtifactError, match="artifact 1 .*does not match its recorded content hash"):
        memory_store.load(stored, "artifact 1")


def test_memory_store_hash_equals_local_hash(memory_store: ArtifactStore, store: ArtifactStore) -> None:
    value = {"k": list(range(50))}
    assert memory_store.save(value, ("a", "b", "c")).content_hash == store.save(value, ("a", "b", "c")).content_hash


def test_memory_store_failed_write_leaves_nothing(memory_store: ArtifactStore) -> None:
    import fsspec

    with pytest.raises(ArtifactError, match="HalfWrittenError"):
        memory_store.save(b"abc", ("run", "step", "output"), ExplodingMaterializer)
    filesystem = fsspec.filesystem("memory")
    root = memory_store.storage.root
    assert not filesystem.exists(f"{root}/run/step/output")
    leftovers = filesystem.find(f"{root}/.staging") if filesystem.exists(f"{root}/.staging") else []
    assert leftovers == []


def test_unknown_protocol_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"protocol 'nosuchproto://' is not supported"):
        ArtifactStore("nosuchproto://bucket/prefix")


def test_known_protocol_without_its_driver_is_a_config_error() -> None:
    if importlib.util.find_spec("gcsfs") is not None:
        pytest.skip("gcsfs is installed here, so the driver is not missing")
    with pytest.raises(ConfigError, match=r"cannot open artifact store 'gs://some-bucket/prefix'.*fsspec driver"):
        ArtifactStore("gs://some-bucket/prefix")


def test_private_registry_does_not_leak_into_the_global_one(tmp_path: Path) -> None:
    from zenml.artifacts import materializer_registry as global_registry

    private = MaterializerRegistry()
    private.register(JSONMaterializer)
    private.register(ExplodingMaterializer)
    assert private.for_type(bytes) is ExplodingMaterializer
    assert global_registry.for_type(bytes) is None
    store = ArtifactStore(str(tmp_path / "a"), materializers=private)
    with pytest.raises(ArtifactError, match="no materializer"):
        store.save(np.zeros(2), ("r", "s", "o"))
