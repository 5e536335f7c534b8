"""Artifacts and names read back from disk are untrusted: nothing is unpickled, no path leaves its folder.

zenml ships no pickle materializer: a value without a materializer fails the step with a message
on registering one (the opt-in). The tests forge artifact files whose reading would run code
(pickled object arrays, a forged ``pickle`` format, a model whose metadata names a marker
module) and spec or dataset names that climb out of their folders (``../``, absolute paths).
The content hash is recomputed where needed, as if the attacker could also forge the record.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hostile_helpers import Marker, Project, assert_refused, isolated_imports, make_marker, make_project, zen

from zenml import pipeline, step
from zenml.artifacts import ArtifactStore
from zenml.artifacts.materializers import BaseMaterializer
from zenml.exceptions import ArtifactError, StepError, ZenMLError


class _Boom:
    """Unpickling this runs ``touch FLAG``."""

    def __init__(self, flag: Path) -> None:
        self.flag = flag

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.flag}",))


class Opaque:
    """A type no materializer stores."""

    def __init__(self, value: int) -> None:
        self.value = value


@step
def make_opaque() -> Opaque:
    return Opaque(3)


@step
def use_opaque(x: Opaque) -> int:
    return x.value


@pipeline
def opaque_pipeline() -> None:
    use_opaque(make_opaque())


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(str(tmp_path / "store"))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")
    with isolated_imports(tmp_path):
        yield make_project(tmp_path / "project")
        from zenml.repository import close_stores

        close_stores()


@pytest.fixture
def marker(tmp_path: Path) -> Iterator[Marker]:
    folder = tmp_path / "elsewhere"
    made = make_marker(folder)
    with isolated_imports(folder):
        sys.path.insert(0, str(folder))
        yield made


def _forge(store: ArtifactStore, stored: Any, **changes: Any) -> Any:
    """The record with the content hash of what the folder now holds (and any other field changed)."""
    return replace(stored, content_hash=store.hash_folder(store.storage.path_of(stored.uri))[0], **changes)


# -- pickle only on opt-in ----------------------------------------------------------------------------------


def test_a_value_without_materializer_fails_the_step_and_is_never_pickled(repo: Any, tmp_path: Path) -> None:
    with pytest.raises(StepError, match="no materializer stores values of type .*Opaque.*register") as caught:
        opaque_pipeline.run()
    assert caught.value.step == "make_opaque"
    written = [p for p in (tmp_path / ".zen" / "artifacts").rglob("*") if p.is_file()]
    assert not [p for p in written if p.suffix in (".pkl", ".pickle") or b"\x80\x04" in p.read_bytes()[:2]]


def test_a_pickled_object_array_is_never_unpickled(store: ArtifactStore, tmp_path: Path) -> None:
    flag = tmp_path / "unpickled"
    stored = store.save(np.arange(3), ("run", "step", "out"))
    array_file = Path(stored.uri) / "array.npy"
    with array_file.open("wb") as handle:
        np.save(handle, np.array([_Boom(flag)], dtype=object), allow_pickle=True)
    with pytest.raises(ArtifactError, match="output 'out'.*allow_pickle"):
        store.load(_forge(store, stored), "output 'out'")
    assert not flag.exists()


def test_a_forged_pickle_format_is_refused(store: ArtifactStore, tmp_path: Path) -> None:
    import pickle

    flag = tmp_path / "unpickled"
    stored = store.save({"a": 1}, ("run", "step", "out"))
    folder = Path(stored.uri)
    (folder / "value.json").unlink()
    (folder / "value.pkl").write_bytes(pickle.dumps(_Boom(flag)))
    for materializer in ("pickle.loads", "pickle.Unpickler", "zenml.artifacts.materializers.PickleMaterializer"):
        with pytest.raises(ZenMLError, match="(?i)pickle"):
            store.load(_forge(store, stored, format="pickle", materializer=materializer), "output 'out'")
    assert not flag.exists()


def test_a_model_whose_metadata_names_a_foreign_loader_is_refused_before_import(
    store: ArtifactStore, marker: Marker, tmp_path: Path
) -> None:
    from zenml.steps.trainer.base import META_FILE, ModelMaterializer

    model = tmp_path / "model"
    model.mkdir()
    (model / META_FILE).write_text(json.dumps({"loader": f"{marker.module}.Evil"}))
    stored = store.save(model, ("run", "trainer", "model"), materializer=_RawFolder)
    with pytest.raises(ZenMLError, match="outside zenml"):
        store.load(replace(stored, format=ModelMaterializer.format), "output 'model'")
    assert not marker.imported()


class _RawFolder(BaseMaterializer):
    """Stand-in writer: copies a folder into the artifact as the model materializer would."""

    format = "raw-folder"
    type_names = ()

    def save(self, value: Path, folder: Any) -> None:
        for file in value.iterdir():
            with folder.open(file.name, "wb") as handle:
                handle.write(file.read_bytes())

    def load(self, folder: Any) -> None:
        raise AssertionError("this stand-in is only written by the test, never read")


def _files(root: Path) -> set[str]:
    return {str(p) for p in root.rglob("*")}


def _new_files(root: Path, before: set[str]) -> set[str]:
    """Paths that appeared under ``root``, but for SQLite's own ``-wal``/``-shm`` files beside the database."""
    return {p for p in _files(root) - before if not p.endswith(("metadata.db-wal", "metadata.db-shm"))}


# -- names that could climb out -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "hostile"),
    [
        ("pipeline", "../../escaped"),
        ("pipeline", "/tmp/escaped"),
        ("step", "../escaped"),
        ("step", "a/b"),
    ],
)
def test_spec_names_that_would_leave_the_repository_are_refused(
    project: Project, tmp_path: Path, field: str, hostile: str
) -> None:
    data = project.spec_data()
    if field == "pipeline":
        data["pipeline"]["name"] = hostile  # type: ignore[index]
    else:
        data["steps"][hostile] = data["steps"].pop("scale")  # type: ignore[union-attr]
    spec = project.write_spec(data)
    before = _files(tmp_path)
    assert_refused(zen("run", str(spec)), str(spec), "is not allowed")
    assert_refused(zen("step", "exec", str(spec), "load"), str(spec), "is not allowed")
    assert_refused(zen("graph", str(spec)), str(spec), "is not allowed")
    assert _new_files(tmp_path, before) == set()
    assert not Path("/tmp/escaped").exists()


@pytest.mark.parametrize("run_id", ["../../escaped", "..", "/tmp/escaped"])
def test_a_run_id_that_would_leave_the_repository_is_refused(project: Project, tmp_path: Path, run_id: str) -> None:
    """A scheduled execution's spec file is named after the template's run id."""
    data = project.spec_data()
    data["run_id"] = run_id
    spec = project.write_spec(data)
    before = _files(tmp_path)
    assert_refused(zen("step", "begin", str(spec), "--scheduled-run", "manual_1"), "run id", "is not allowed")
    assert _new_files(tmp_path, before) == set()
    assert not list(Path("/tmp").glob("escaped*"))


@pytest.mark.parametrize("shard", ["../../outside.parquet", "/etc/passwd", "..", "a/../../b.parquet"])
def test_dataset_shard_names_cannot_leave_the_dataset(store: ArtifactStore, tmp_path: Path, shard: str) -> None:
    import pyarrow as pa

    from zenml.artifacts.dataset import DatasetWriter

    writer = DatasetWriter(str(tmp_path / "data"), pa.schema([("a", pa.int64())]))
    writer.write("train", pa.record_batch({"a": [1]}))
    writer.add_split("train")
    stored = store.save(writer.close(), ("run", "step", "data"))
    info_file = Path(stored.uri) / "dataset.json"
    info = json.loads(info_file.read_text())
    info["splits"]["train"]["files"] = [shard]
    info_file.write_text(json.dumps(info))
    with pytest.raises(ArtifactError, match="dataset.json is damaged: split 'train' needs a list 'files'"):
        store.load(_forge(store, stored), "output 'data'")


def test_dataset_split_names_cannot_leave_the_dataset(store: ArtifactStore, tmp_path: Path) -> None:
    import pyarrow as pa

    from zenml.artifacts.dataset import DatasetWriter

    writer = DatasetWriter(str(tmp_path / "data"), pa.schema([("a", pa.int64())]))
    writer.write("train", pa.record_batch({"a": [1]}))
    writer.add_split("train")
    stored = store.save(writer.close(), ("run", "step", "data"))
    info_file = Path(stored.uri) / "dataset.json"
    info = json.loads(info_file.read_text())
    info["splits"] = {"../..": info["splits"]["train"]}
    info_file.write_text(json.dumps(info))
    with pytest.raises(ArtifactError, match=r"split name '\.\./\.\.' is not allowed"):
        store.load(_forge(store, stored), "output 'data'")
