"""Materializers: each built-in format round-trips exactly; users register their own by type."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from zenml.artifacts import ArtifactFolder, ArtifactStore, BaseMaterializer, MaterializerRegistry
from zenml.artifacts.materializers import (
    ArrowMaterializer,
    JSONMaterializer,
    NumpyMaterializer,
    PandasMaterializer,
)
from zenml.exceptions import ArtifactError
from zenml.steps.context import Metrics


class Point:
    """A user type no built-in materializer knows."""

    def __init__(self, x: float, y: float) -> None:
        self.x = x
        self.y = y


class Point3(Point):
    """A subclass: found through the MRO."""


class PointMaterializer(BaseMaterializer):
    """Stores a Point as a small CSV line."""

    format = "point-csv"
    type_names = (f"{Point.__module__}.Point",)

    def save(self, value: Any, folder: ArtifactFolder) -> None:
        with folder.open("point.csv", "w") as handle:
            handle.write(f"{value.x},{value.y}\n")

    def load(self, folder: ArtifactFolder) -> Any:
        with folder.open("point.csv", "r") as handle:
            x, y = handle.read().strip().split(",")
        return Point(float(x), float(y))


@pytest.fixture
def registry() -> MaterializerRegistry:
    """A private registry with the built-ins and the user's materializer (the global one stays clean)."""
    fresh = MaterializerRegistry()
    for materializer in (JSONMaterializer, NumpyMaterializer, ArrowMaterializer, PandasMaterializer):
        fresh.register(materializer)
    return fresh


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(str(tmp_path / "artifacts"))


def _round_trip(store: ArtifactStore, value: Any, name: str = "output") -> tuple[Any, Any]:
    stored = store.save(value, ("run", "step", name))
    return stored, store.load(stored)


@pytest.mark.parametrize(
    "value",
    [None, True, False, 0, -7, 2.5, "text ü", [], [1, "a", None, 2.0], {}, {"a": {"b": [1, {"c": None}]}}],
    ids=repr,
)
def test_json_values_round_trip(store: ArtifactStore, value: Any) -> None:
    stored, loaded = _round_trip(store, value)
    assert stored.format == "json"
    assert loaded == value
    assert type(loaded) is type(value)


def test_metrics_dict_subclass_is_stored_as_json(store: ArtifactStore) -> None:
    stored, loaded = _round_trip(store, Metrics(accuracy=0.75))
    assert stored.format == "json"
    assert stored.data_type == "zenml.steps.context.Metrics"
    assert loaded == {"accuracy": 0.75}


def test_non_finite_float_is_refused_as_json(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactError, match="not finite"):
        store.save(float("nan"), ("run", "step", "output"))


@pytest.mark.parametrize(
    "array",
    [
        np.arange(24, dtype=np.float32).reshape(2, 3, 4),
        np.array([[1, -2], [3, 4]], dtype=np.int8),
        np.array([True, False, True]),
        np.array(["ab", "cde"], dtype="<U3"),
        np.zeros((0, 5), dtype=np.complex128),
        np.asfortranarray(np.arange(6, dtype=np.uint16).reshape(2, 3)),
        np.array(3.5),
    ],
    ids=lambda a: f"{a.dtype}{a.shape}",
)
def test_numpy_arrays_keep_dtype_shape_and_values(store: ArtifactStore, array: np.ndarray) -> None:
    stored, loaded = _round_trip(store, array)
    assert stored.format == "npy"
    assert stored.data_type == "numpy.ndarray"
    assert loaded.dtype == array.dtype
    assert loaded.shape == array.shape
    np.testing.assert_array_equal(loaded, array)


@pytest.mark.parametrize(
    "array",
    [
        np.arange(24, dtype=np.float64).reshape(4, 6),
        np.asfortranarray(np.arange(24, dtype=np.int16).reshape(4, 6)),
        np.arange(30)[::3],
        np.arange(24).reshape(4, 6)[:, 1:4],
        np.asfortranarray(np.zeros((0, 3))),
        np.array(7, dtype=np.uint8),
        np.zeros(2, dtype=[("a", "<i4"), ("b", "<f8")]),
        np.zeros(2, dtype=[(f"field_{i}_{'x' * 40}", "<f4") for i in range(1500)]),  # a version 2.0 header
        np.zeros(2, dtype=[("名前", "<f4")]),  # a version 3.0 header: written by np.save, hashed from the file
        np.random.default_rng(0).random(700_000),  # 5.6 MB: hashed in a thread while written
    ],
    ids=[
        "c", "fortran", "strided", "sliced", "empty-fortran", "0-d", "structured", "long-header", "utf8-names", "large",
    ],  # fmt: skip
)
@pytest.mark.filterwarnings("ignore:Stored array in format:UserWarning")  # formats 2.0 and 3.0 are tested
def test_npy_files_are_byte_for_byte_what_np_save_writes(store: ArtifactStore, array: np.ndarray) -> None:
    stored = store.save(array, ("run", "step", "output"))
    expected = io.BytesIO()
    np.save(expected, array, allow_pickle=False)
    folder = stored.uri.removeprefix("file://")
    assert Path(folder, "array.npy").read_bytes() == expected.getvalue()
    assert store.hash_folder(folder) == (stored.content_hash, stored.size)  # the announced hash is the files'


def test_arrow_table_round_trips_with_schema(store: ArtifactStore) -> None:
    table = pa.table(
        {
            "id": pa.array([1, 2, 3], type=pa.int64()),
            "score": pa.array([0.5, None, 1.5], type=pa.float32()),
            "name": ["a", "b", None],
            "tags": pa.array([["x"], [], ["y", "z"]], type=pa.list_(pa.string())),
        }
    )
    stored, loaded = _round_trip(store, table)
    assert stored.format == "parquet"
    assert stored.data_type == "pyarrow.lib.Table"
    assert loaded.schema.equals(table.schema)
    assert loaded.equals(table)


def test_pandas_dataframe_round_trips_with_index_and_dtypes(store: ArtifactStore) -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {
            "age": pd.Series([31, 45, 27], dtype="int32"),
            "bmi": [22.5, 30.1, 19.0],
            "label": pd.Categorical(["yes", "no", "yes"]),
            "when": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
        },
        index=pd.Index(["p3", "p1", "p2"], name="patient"),
    )
    stored, loaded = _round_trip(store, frame)
    assert stored.format == "pandas-parquet"
    assert stored.data_type == "pandas.core.frame.DataFrame"
    pd.testing.assert_frame_equal(loaded, frame)
    assert loaded.index.name == "patient"
    assert list(loaded.index) == ["p3", "p1", "p2"]


def test_pandas_multiindex_and_range_index(store: ArtifactStore) -> None:
    import pandas as pd

    multi = pd.DataFrame(
        {"v": [1.0, 2.0, 3.0]},
        index=pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1)], names=["grp", "n"]),
    )
    _stored, loaded = _round_trip(store, multi, "multi")
    pd.testing.assert_frame_equal(loaded, multi)
    ranged = pd.DataFrame({"x": [5, 6]}, index=pd.RangeIndex(10, 12))
    _stored, loaded = _round_trip(store, ranged, "ranged")
    pd.testing.assert_frame_equal(loaded, ranged)


def test_registry_picks_by_type_and_format(registry: MaterializerRegistry) -> None:
    import pandas as pd

    assert registry.for_value({"a": 1}) is JSONMaterializer
    assert registry.for_value(np.zeros(1)) is NumpyMaterializer
    assert registry.for_value(pa.table({"a": [1]})) is ArrowMaterializer
    assert registry.for_value(pd.DataFrame({"a": [1]})) is PandasMaterializer
    assert registry.format_for_annotation(float) == "json"
    assert registry.format_for_annotation(np.ndarray) == "npy"
    assert registry.format_for_annotation(Point) == "auto"
    assert registry.format_for_annotation(list[int]) == "auto"
    with pytest.raises(ArtifactError, match=r"Point.*register a\s+Materializer"):
        registry.for_value(Point(1, 2))


def test_registering_something_that_is_not_a_materializer_is_refused(registry: MaterializerRegistry) -> None:
    with pytest.raises(ArtifactError, match="not a Materializer subclass"):
        registry.register(dict)  # type: ignore[arg-type]


def test_custom_materializer_saves_and_loads_by_format(
    registry: MaterializerRegistry, store: ArtifactStore, tmp_path: Path
) -> None:
    registry.register(PointMaterializer)
    custom = ArtifactStore(str(tmp_path / "artifacts"), materializers=registry)
    stored = custom.save(Point3(1.5, -2.0), ("run", "step", "output"))
    assert stored.format == "point-csv"
    assert stored.materializer.endswith("PointMaterializer")
    assert stored.data_type.endswith("Point3")
    folder = Path(stored.uri)
    assert (folder / "point.csv").read_text() == "1.5,-2.0\n"
    assert json.loads((folder / ".zenml-artifact.json").read_text())["format"] == "point-csv"
    loaded = ArtifactStore(str(tmp_path / "artifacts"), materializers=registry).load(stored)
    assert isinstance(loaded, Point)
    assert (loaded.x, loaded.y) == (1.5, -2.0)
    # a registry that does not know the format imports the recorded materializer class instead
    loaded_elsewhere = store.load(stored)
    assert (loaded_elsewhere.x, loaded_elsewhere.y) == (1.5, -2.0)


def test_later_registration_wins_for_a_format(registry: MaterializerRegistry) -> None:
    class OtherJSON(JSONMaterializer):
        type_names = ()

    registry.register(OtherJSON)
    assert registry.for_stored("json", "anything.Ignored") is OtherJSON
    assert registry.for_value([1]) is JSONMaterializer  # the type table is unchanged


def test_stored_format_with_unimportable_materializer_is_an_error(registry: MaterializerRegistry) -> None:
    from zenml.exceptions import ConfigError

    with pytest.raises(ConfigError, match="cannot import module"):
        registry.for_stored("mystery", "no_such_module_zen.Materializer")
    with pytest.raises(ArtifactError, match="is not a Materializer"):
        registry.for_stored("mystery", "json.dumps")
