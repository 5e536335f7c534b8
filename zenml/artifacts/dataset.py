"""``Dataset``: tabular data as named splits of Parquet shards plus a schema, read as a stream.

The folder layout is ``dataset.json`` (schema, splits, rows, shard files) and one sub-folder of
``*.parquet`` shards per split. A ``Dataset`` object is only a handle: batches are read lazily,
so data steps stream through data larger than memory.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from zenml.exceptions import ArtifactError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

INFO_FILE = "dataset.json"
DEFAULT_BATCH_ROWS = 65_536
DEFAULT_SHARD_ROWS = 250_000
_SPLIT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]{0,99}$")


def check_split_name(name: str) -> str:
    """Refuse split names that are not safe folder names."""
    if not isinstance(name, str) or not _SPLIT.match(name):
        raise ArtifactError(f"split name {name!r} is not allowed; use letters, digits, '_' or '-'")
    return name


def schema_to_text(schema: pa.Schema) -> str:
    """An Arrow schema as base64 IPC bytes (exact types and metadata survive)."""
    return base64.b64encode(schema.serialize().to_pybytes()).decode()


def schema_from_text(text: str) -> pa.Schema:
    """The inverse of ``schema_to_text``."""
    import pyarrow as pa

    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(text)))


_SHARD = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,199}$")


def _info_problem(info: Any) -> str | None:
    """What is wrong with a parsed ``dataset.json`` (shape, split and shard names), or ``None``.

    Shard names are joined to the dataset's folder, so one such as ``../x`` would read outside it.
    """
    if not isinstance(info, dict) or not isinstance(info.get("splits"), dict):
        return "it needs a mapping 'splits'"
    if not isinstance(info.get("schema"), str):
        return "it needs the text 'schema'"
    try:
        schema_from_text(info["schema"])
    except Exception as exc:  # noqa: BLE001 -- base64 or Arrow IPC errors: all mean an unreadable schema
        return f"its schema cannot be read ({type(exc).__name__})"
    for split, entry in info["splits"].items():
        if not _SPLIT.match(split):
            return f"split name {split!r} is not allowed"
        if not isinstance(entry, dict):
            return f"split '{split}' is not a mapping"
        rows, files = entry.get("rows"), entry.get("files")
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
            return f"split '{split}' needs a row count 'rows'"
        if not isinstance(files, list) or not all(isinstance(f, str) and _SHARD.match(f) for f in files):
            return f"split '{split}' needs a list 'files' of shard file names"
    return None


class Dataset:
    """A handle on a dataset folder (local path, or a path on an fsspec filesystem).

    Args:
        path: the dataset's folder.
        filesystem: an fsspec filesystem for remote folders; ``None`` for local ones.
        ephemeral: a scratch dataset a step just produced (its files may be moved when stored).
    """

    def __init__(self, path: str, filesystem: Any | None = None, *, ephemeral: bool = False) -> None:
        self.path = path
        self.filesystem = filesystem
        self.ephemeral = ephemeral
        self._info: dict[str, Any] | None = None

    def __repr__(self) -> str:
        splits = ", ".join(f"{name}={self.num_rows(name)}" for name in self.splits) if self._exists() else "?"
        return f"Dataset({self.path!r}, splits: {splits})"

    # -- metadata --------------------------------------------------------------------------------

    def _exists(self) -> bool:
        try:
            self.info  # noqa: B018 -- loads and caches
        except ArtifactError:
            return False
        return True

    def _join(self, *parts: str) -> str:
        return "/".join([self.path.rstrip("/"), *parts]) if self.filesystem else os.path.join(self.path, *parts)

    def _open(self, relative: str, mode: str = "rb") -> Any:
        full = self._join(relative)
        return self.filesystem.open(full, mode) if self.filesystem else open(full, mode)

    @property
    def info(self) -> dict[str, Any]:
        """The parsed ``dataset.json``."""
        if self._info is None:
            try:
                with self._open(INFO_FILE, "rb") as handle:
                    info = json.loads(handle.read())
            except (OSError, ValueError) as exc:
                raise ArtifactError(f"{self.path} is not a zenml dataset (no readable {INFO_FILE}): {exc}") from exc
            problem = _info_problem(info)
            if problem:
                raise ArtifactError(
                    f"{self.path}/{INFO_FILE} is damaged: {problem}; re-run the step that wrote it with --no-cache"
                )
            self._info = info
        return self._info

    @property
    def schema(self) -> pa.Schema:
        """The Arrow schema every split shares."""
        return schema_from_text(self.info["schema"])

    @property
    def column_names(self) -> list[str]:
        """Column names in order."""
        return list(self.schema.names)

    @property
    def splits(self) -> list[str]:
        """Split names in their recorded order."""
        return list(self.info["splits"])

    def num_rows(self, split: str | None = None) -> int:
        """Rows in one split, or in all of them."""
        splits = self.info["splits"]
        if split is None:
            return sum(int(entry["rows"]) for entry in splits.values())
        return int(self._split_entry(split)["rows"])

    def _split_entry(self, split: str) -> dict[str, Any]:
        try:
            entry: dict[str, Any] = self.info["splits"][split]
        except KeyError:
            raise ArtifactError(f"dataset has no split '{split}' (splits: {', '.join(self.splits)})") from None
        return entry

    def files(self, split: str) -> list[str]:
        """Shard paths of a split, relative to the dataset folder, in order."""
        return [f"{split}/{name}" for name in self._split_entry(split)["files"]]

    # -- reading ---------------------------------------------------------------------------------

    def batches(
        self, split: str | None = None, *, batch_rows: int = DEFAULT_BATCH_ROWS, columns: Sequence[str] | None = None
    ) -> Iterator[pa.RecordBatch]:
        """Stream record batches of one split (or of every split, in order)."""
        for name in [split] if split is not None else self.splits:
            for relative in self.files(name):
                yield from self.read_shard(relative, batch_rows=batch_rows, columns=columns)

    def read_shard(
        self, relative: str, *, batch_rows: int = DEFAULT_BATCH_ROWS, columns: Sequence[str] | None = None
    ) -> Iterator[pa.RecordBatch]:
        """Stream the record batches of one shard file."""
        import pyarrow.parquet as pq

        with self._open(relative) as handle:
            parquet = pq.ParquetFile(handle)
            yield from parquet.iter_batches(batch_size=batch_rows, columns=list(columns) if columns else None)

    def to_table(self, split: str | None = None) -> pa.Table:
        """One split (or all splits concatenated) as an Arrow table."""
        import pyarrow as pa

        return pa.Table.from_batches(list(self.batches(split)), schema=self.schema)

    def to_pandas(self, split: str | None = None) -> pd.DataFrame:
        """One split (or all) as a pandas DataFrame."""
        frame: pd.DataFrame = self.to_table(split).to_pandas()
        return frame

    # -- writing ---------------------------------------------------------------------------------

    @classmethod
    def from_tables(cls, path: str, tables: Mapping[str, pa.Table], *, ephemeral: bool = True) -> Dataset:
        """Write in-memory tables (split → table, all with one schema) as a local dataset."""
        first = next(iter(tables.values()))
        writer = DatasetWriter(path, first.schema)
        for split, table in tables.items():
            writer.add_split(split)
            for batch in table.to_batches():
                writer.write(split, batch)
        return writer.close(ephemeral=ephemeral)


class DatasetWriter:
    """Writes batches into split folders of a local dataset, rolling shards every ``shard_rows`` rows."""

    def __init__(
        self, path: str, schema: pa.Schema, *, shard_rows: int = DEFAULT_SHARD_ROWS, prefix: str = "part"
    ) -> None:
        self.path = path
        self.schema = schema
        self.shard_rows = shard_rows
        self.prefix = prefix
        self._writers: dict[str, Any] = {}
        self._rows_in_shard: dict[str, int] = {}
        self._shard_index: dict[str, int] = {}
        self._splits: list[str] = []
        os.makedirs(path, exist_ok=True)

    def add_split(self, split: str) -> None:
        """Declare a split (so an empty split is still recorded)."""
        check_split_name(split)
        if split not in self._splits:
            self._splits.append(split)
            os.makedirs(os.path.join(self.path, split), exist_ok=True)

    def write(self, split: str, batch: pa.RecordBatch) -> None:
        """Append a batch to a split."""
        import pyarrow.parquet as pq

        self.add_split(split)
        if batch.num_rows == 0:
            return
        if not batch.schema.equals(self.schema):
            batch = batch.cast(self.schema) if batch.schema.names == self.schema.names else batch
        if split not in self._writers or self._rows_in_shard[split] >= self.shard_rows:
            self._roll(split)
            name = f"{self.prefix}-{self._shard_index[split]:05d}.parquet"
            self._writers[split] = pq.ParquetWriter(os.path.join(self.path, split, name), self.schema)
        self._writers[split].write_batch(batch)
        self._rows_in_shard[split] += batch.num_rows

    def _roll(self, split: str) -> None:
        if split in self._writers:
            self._writers.pop(split).close()
        self._shard_index[split] = self._shard_index.get(split, -1) + 1
        self._rows_in_shard[split] = 0

    def close(self, *, ephemeral: bool = True) -> Dataset:
        """Finish every shard and write ``dataset.json``."""
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
        return finalize_dataset(self.path, self.schema, self._splits, ephemeral=ephemeral)


def finalize_dataset(path: str, schema: pa.Schema, splits: Iterable[str], *, ephemeral: bool = True) -> Dataset:
    """Record the shards found in each local split folder (with row counts) in ``dataset.json``."""
    import pyarrow.parquet as pq

    entries: dict[str, dict[str, Any]] = {}
    for split in splits:
        folder = os.path.join(path, check_split_name(split))
        os.makedirs(folder, exist_ok=True)
        names = sorted(name for name in os.listdir(folder) if name.endswith(".parquet"))
        rows = sum(pq.ParquetFile(os.path.join(folder, name)).metadata.num_rows for name in names)
        entries[split] = {"rows": rows, "files": names}
    info = {
        "format": 1,
        "schema": schema_to_text(schema),
        "columns": [{"name": field.name, "type": str(field.type)} for field in schema],
        "splits": entries,
    }
    with open(os.path.join(path, INFO_FILE), "w") as handle:
        json.dump(info, handle, indent=1)
    return Dataset(path, ephemeral=ephemeral)


def copy_dataset(dataset: Dataset, open_target: Any, target_local: str | None) -> None:
    """Copy (or, for an ephemeral local dataset, move) a dataset's files into an artifact folder."""
    relatives = [INFO_FILE] + [relative for split in dataset.splits for relative in dataset.files(split)]
    if target_local is not None and dataset.filesystem is None:
        for relative in relatives:
            source, target = os.path.join(dataset.path, relative), os.path.join(target_local, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if dataset.ephemeral:
                os.replace(source, target)
            else:
                _link_or_copy(source, target)
        for split in dataset.splits:
            os.makedirs(os.path.join(target_local, split), exist_ok=True)
        return
    for relative in relatives:
        with dataset._open(relative) as source, open_target(relative, "wb") as target:
            shutil.copyfileobj(source, target, 8 * 1024 * 1024)


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)  # stored artifacts are immutable, so sharing the inode is safe
    except OSError:
        shutil.copyfile(source, target)
