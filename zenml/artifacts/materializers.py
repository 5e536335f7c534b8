"""Materializers map Python types to on-disk formats; a registry picks one by the value's type.

Types are registered by their qualified names, so nothing (NumPy, pandas, Arrow) is imported
until a value of that type is actually saved or loaded. Pickle is never chosen automatically.
"""

from __future__ import annotations

import abc
import io
import json
from typing import IO, Any, ClassVar, Protocol

from zenml.exceptions import ArtifactError
from zenml.utils.deprecation import moved_attribute as _moved_attribute
from zenml.utils.importing import qualified_name
from zenml.utils.jsonable import find_non_jsonable
from zenml.utils.trust import import_trusted


class ArtifactFolder(Protocol):
    """Where a materializer reads or writes the files of one artifact."""

    def open(self, name: str, mode: str) -> IO[Any]:
        """Open a file of the artifact (``name`` is relative to the artifact's folder)."""
        ...

    def local_path(self, name: str) -> str | None:
        """A real filesystem path for ``name`` when the store is local, else ``None``."""
        ...

    def location(self) -> tuple[Any | None, str]:
        """``(fsspec filesystem or None for local, path)`` of the artifact's folder."""
        ...

    def announce(self, name: str, *parts: Any) -> None:
        """Say that file ``name`` is about to be written with exactly the bytes of ``parts``, in order.

        ``parts`` are C-contiguous buffers (bytes, arrays). Optional, for large files: the store
        then hashes them from memory while the file is written instead of reading the file back
        afterwards. The file must match exactly (the store checks its size; a wrong announcement
        makes every later read fail its hash check).
        """
        ...


class BaseMaterializer(abc.ABC):
    """Saves values of some types to files and loads them back.

    Examples:
        >>> class TextMaterializer(BaseMaterializer):
        ...     format = "text"
        ...     type_names = ("builtins.bytes",)
        ...     def save(self, value, folder):
        ...         with folder.open("data.bin", "wb") as f:
        ...             f.write(value)
        ...     def load(self, folder):
        ...         with folder.open("data.bin", "rb") as f:
        ...             return f.read()
        >>> register_materializer(TextMaterializer)
    """

    format: ClassVar[str]
    type_names: ClassVar[tuple[str, ...]]

    @abc.abstractmethod
    def save(self, value: Any, folder: ArtifactFolder) -> None:
        """Write ``value`` into ``folder``."""

    @abc.abstractmethod
    def load(self, folder: ArtifactFolder) -> Any:
        """Read the value back from ``folder``."""


class JSONMaterializer(BaseMaterializer):
    """Plain values (None, bool, numbers, strings, lists, dicts with string keys) as JSON."""

    format = "json"
    type_names = tuple(f"builtins.{t}" for t in ("NoneType", "bool", "int", "float", "str", "list", "dict"))

    def save(self, value: Any, folder: ArtifactFolder) -> None:
        """Write the value into the artifact folder."""
        problem = find_non_jsonable(value)
        if problem:
            raise ArtifactError(f"value cannot be stored as JSON: {problem}; register a materializer for it")
        # the text json.dump writes (ASCII: ensure_ascii), announced so the store hashes it from
        # memory instead of reading the file back
        data = json.dumps(value).encode("ascii")
        folder.announce("value.json", data)
        with folder.open("value.json", "wb") as handle:
            handle.write(data)

    def load(self, folder: ArtifactFolder) -> Any:
        """Read the value back from the artifact folder."""
        with folder.open("value.json", "r") as handle:
            return json.load(handle)


class NumpyMaterializer(BaseMaterializer):
    """NumPy arrays as ``.npy`` (no pickled object arrays)."""

    format = "npy"
    type_names = ("numpy.ndarray",)

    def save(self, value: Any, folder: ArtifactFolder) -> None:
        """Write the value into the artifact folder."""
        import numpy as np

        if value.dtype.hasobject:
            raise ArtifactError("object arrays would need pickling; convert to a numeric or string dtype")
        parts = _npy_parts(value)
        if parts is None:  # a header only version 3.0 can hold: NumPy writes it, the store hashes the file
            with folder.open("array.npy", "wb") as handle:
                np.save(handle, value, allow_pickle=False)
            return
        header, data = parts
        folder.announce("array.npy", header, data)  # hashed from memory while it is written
        with folder.open("array.npy", "wb") as handle:
            handle.write(header)
            if isinstance(handle, io.BufferedWriter | io.FileIO):  # a real file: NumPy's direct write
                handle.flush()  # tofile writes to the file descriptor, past Python's buffer
                data.tofile(handle)
            elif data.nbytes:
                handle.write(memoryview(data).cast("B"))

    def load(self, folder: ArtifactFolder) -> Any:
        """Read the value back from the artifact folder."""
        import numpy as np

        with folder.open("array.npy", "rb") as handle:
            return np.load(handle, allow_pickle=False)


def _npy_parts(value: Any) -> tuple[bytes, Any] | None:
    """The ``.npy`` header of ``value`` and the array whose raw memory is the file's data section.

    Exactly what ``np.save`` writes (version 1.0 header, 2.0 when it does not fit), laid out here so
    the bytes are known before writing: a Fortran-ordered array's data is its transpose's memory,
    any other non-contiguous array is copied to C order (``np.save`` copies it chunk by chunk).
    ``None`` when the header needs version 3.0 (field names outside Latin-1), which NumPy offers
    no public writer for.
    """
    import numpy as np

    header_data = np.lib.format.header_data_from_array_1_0(value)
    for write_header in (np.lib.format.write_array_header_1_0, np.lib.format.write_array_header_2_0):
        header = io.BytesIO()
        try:
            write_header(header, header_data)
            break
        except UnicodeEncodeError:  # (a ValueError too) field names only version 3.0 can hold
            return None
        except ValueError:  # too long for version 1.0's 65,535 bytes: try 2.0
            continue
    else:
        return None
    data = value.T if header_data["fortran_order"] else np.ascontiguousarray(value)
    return header.getvalue(), data


class ArrowMaterializer(BaseMaterializer):
    """Arrow tables as Parquet."""

    format = "parquet"
    type_names = ("pyarrow.lib.Table",)

    def save(self, value: Any, folder: ArtifactFolder) -> None:
        """Write the value into the artifact folder."""
        import pyarrow.parquet as pq

        with folder.open("table.parquet", "wb") as handle:
            pq.write_table(value, handle)

    def load(self, folder: ArtifactFolder) -> Any:
        """Read the value back from the artifact folder."""
        import pyarrow.parquet as pq

        with folder.open("table.parquet", "rb") as handle:
            return pq.read_table(handle)


class PandasMaterializer(BaseMaterializer):
    """pandas DataFrames as Parquet (index and dtypes kept through Arrow's pandas metadata)."""

    format = "pandas-parquet"
    type_names = ("pandas.core.frame.DataFrame",)

    def save(self, value: Any, folder: ArtifactFolder) -> None:
        """Write the value into the artifact folder."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        with folder.open("frame.parquet", "wb") as handle:
            pq.write_table(pa.Table.from_pandas(value), handle)

    def load(self, folder: ArtifactFolder) -> Any:
        """Read the value back from the artifact folder."""
        import pyarrow.parquet as pq

        with folder.open("frame.parquet", "rb") as handle:
            return pq.read_table(handle).to_pandas()


class DatasetMaterializer(BaseMaterializer):
    """``Dataset`` artifacts: the folder of Parquet shards per split plus ``dataset.json``.

    Loading returns a lazy handle on the stored folder; nothing is read until batches are.
    """

    format = "dataset"
    type_names = ("zenml.artifacts.dataset.Dataset",)

    def save(self, value: Any, folder: ArtifactFolder) -> None:
        """Move (scratch datasets) or link/copy (stored ones) the shards into the artifact folder."""
        from zenml.artifacts.dataset import copy_dataset

        copy_dataset(value, folder.open, folder.local_path(""))

    def load(self, folder: ArtifactFolder) -> Any:
        """A ``Dataset`` handle on the stored folder."""
        from zenml.artifacts.dataset import Dataset

        filesystem, path = folder.location()
        dataset = Dataset(path, filesystem)
        dataset.info  # noqa: B018 -- fail now, not in the middle of a step, if it is unreadable
        return dataset


class MaterializerRegistry:
    """Finds the materializer for a value (by type, walking the MRO) or for a stored format."""

    def __init__(self) -> None:
        self._by_type: dict[str, type[BaseMaterializer]] = {}
        self._by_format: dict[str, type[BaseMaterializer]] = {}

    def register(self, materializer: type[BaseMaterializer]) -> None:
        """Add ``materializer``; later registrations win for the same type or format."""
        if not (isinstance(materializer, type) and issubclass(materializer, BaseMaterializer)):
            raise ArtifactError(f"{materializer!r} is not a Materializer subclass")
        self._by_format[materializer.format] = materializer
        for name in materializer.type_names:
            self._by_type[name] = materializer

    def for_type(self, cls: type) -> type[BaseMaterializer] | None:
        """The materializer for values of ``cls`` (or a base class), if any."""
        for klass in cls.__mro__:
            found = self._by_type.get(f"{klass.__module__}.{klass.__qualname__}")
            if found:
                return found
        return None

    def for_value(self, value: Any) -> type[BaseMaterializer]:
        """The materializer for ``value``.

        Raises:
            ArtifactError: no registered materializer handles its type.
        """
        found = self.for_type(type(value))
        if found is None:
            raise ArtifactError(
                f"no materializer stores values of type {qualified_name(type(value))}; "
                "return JSON data, a NumPy array, a DataFrame or an Arrow table, or register a "
                "Materializer for the type with zenml.artifacts.register_materializer"
            )
        return found

    def for_stored(self, format_name: str, materializer_path: str) -> type[BaseMaterializer]:
        """The materializer that reads a stored artifact: by format, else by its recorded class."""
        found = self._by_format.get(format_name)
        if found is not None:
            return found
        loaded = import_trusted(materializer_path, f"an artifact of format '{format_name}'")
        if not (isinstance(loaded, type) and issubclass(loaded, BaseMaterializer)):
            raise ArtifactError(f"'{materializer_path}' is not a Materializer; cannot read format '{format_name}'")
        return loaded

    def format_for_annotation(self, annotation: Any) -> str:
        """The format a declared output type will be stored in, or ``auto`` when only the value tells."""
        if isinstance(annotation, type):
            found = self.for_type(annotation)
            if found is not None:
                return found.format
        return "auto"


#: the registry every artifact store uses unless given another (``zenml.registry`` is the backend table)
materializer_registry = MaterializerRegistry()
for _builtin in (JSONMaterializer, NumpyMaterializer, ArrowMaterializer, PandasMaterializer, DatasetMaterializer):
    materializer_registry.register(_builtin)


def register_materializer(materializer: type[BaseMaterializer]) -> type[BaseMaterializer]:
    """Register a user materializer (usable as a class decorator)."""
    materializer_registry.register(materializer)
    return materializer


# ``registry`` was renamed: beside the module ``zenml.registry`` (the backend table) it read as that.
_RENAMED = {
    "registry": "zenml.artifacts.materializers.materializer_registry",
    # renamed by the Base<Role> convention for extension points (docs/contributing/naming.md)
    "Materializer": "zenml.artifacts.materializers.BaseMaterializer",
}


def __getattr__(name: str) -> Any:
    return _moved_attribute(__name__, name, _RENAMED)
