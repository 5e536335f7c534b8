"""``zen datasources``: the datasources of recorded runs and the versions of the data they read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from zenml.cli.options import StackOption
from zenml.cli.output import console, size, table, when
from zenml.exceptions import ArtifactError, redact_urls_in_text

if TYPE_CHECKING:
    from zenml.artifacts.dataset import Dataset
    from zenml.metadata.records import ArtifactRecord
    from zenml.runtime.data import DataVersion
    from zenml.runtime.stores import Stores

datasources_app = typer.Typer(help="Datasources and the versions of the data they read.", no_args_is_help=True)

def _stores(stack: str | None) -> Stores:
    from zenml.repository import Repository

    stores: Stores = Repository(stack=stack).stores()
    return stores


@datasources_app.command("list")
def datasources_list(
    pipeline: str | None = typer.Option(None, "--pipeline", "-p", help="Only the datasources of this pipeline."),
    stack: StackOption = None,
) -> None:
    """List each datasource with its data versions: hash, rows, size, and the first and last run that used it."""
    from zenml.runtime.data import data_versions, short_version

    stores = _stores(stack)
    versions = data_versions(stores, pipeline)
    grid = table("datasource", "source", "version", "rows", "size", "runs", "first run", "last run")
    shown: set[str] = set()
    for version in sorted(versions, key=lambda v: v.datasource):  # stable: newest version first per datasource
        first_of_its_datasource = version.datasource not in shown
        shown.add(version.datasource)
        rows, stored = _rows_and_size(stores, version.snapshot)
        grid.add_row(
            version.datasource if first_of_its_datasource else "",
            redact_urls_in_text(version.source) if first_of_its_datasource else "",
            short_version(version.version),
            rows,
            stored,
            str(len(version.runs)),
            version.runs[0],
            version.runs[-1],
        )
    console.print(grid if versions else "No datasource has read data yet.", markup=False)


@datasources_app.command("show")
def datasources_show(
    name: str = typer.Argument(..., help="A datasource (PIPELINE/STEP, or a step or pipeline name) or a data version."),
    stack: StackOption = None,
) -> None:
    """Show a data version (a datasource's newest, or the one named): source, runs, schema and statistics."""
    from zenml.runtime.data import find_data_version

    stores = _stores(stack)
    version = find_data_version(stores, name)
    console.print(f"Data version {version.version} of datasource {version.datasource}", markup=False)
    console.print(f"  source: {redact_urls_in_text(version.source)}", markup=False)
    first, last = (stores.metadata.get_run(run_id) for run_id in (version.runs[0], version.runs[-1]))
    console.print(
        f"  used by {len(version.runs)} run(s): first {first.id} ({when(first.created_at)} UTC), "
        f"last {last.id} ({when(last.created_at)} UTC)",
        markup=False,
    )
    dataset, problem = _snapshot(stores, version)
    if dataset is None:
        console.print(
            f"  snapshot: {problem}; replays of its runs need --refresh-data (which reads the source anew)",
            markup=False,
        )
        return
    artifact = next(iter(version.snapshot.values()))
    console.print(f"  snapshot: artifact #{artifact.id} at {artifact.uri}", markup=False)
    console.print(f"  rows: {dataset.num_rows()}, stored size {size(artifact.size)}", markup=False)
    _print_schema_and_statistics(dataset)


def _rows_and_size(stores: Stores, snapshot: dict[str, ArtifactRecord]) -> tuple[str, str]:
    """Rows (from the stored ``dataset.json``, nothing else read) and stored size; ``gone`` for a deleted snapshot."""
    from zenml.artifacts.dataset import Dataset

    artifact = next((a for a in snapshot.values() if a.format == "dataset"), None)
    if artifact is None:
        return "-", size(sum(a.size for a in snapshot.values()))
    if not stores.artifacts.is_present(artifact.uri):
        return "gone", size(artifact.size)
    storage = stores.artifacts.storage
    try:
        rows = Dataset(storage.path_of(artifact.uri), getattr(storage, "fs", None)).num_rows()
    except ArtifactError:  # a damaged dataset.json: 'zen datasources show' says what is wrong
        return "unreadable", size(artifact.size)
    return str(rows), size(artifact.size)


def _snapshot(stores: Stores, version: DataVersion) -> tuple[Dataset | None, str]:
    """The version's stored dataset, read back with its content hash checked; else ``None`` and why."""
    from zenml.artifacts.dataset import Dataset
    from zenml.runtime.reuse import stored_artifact

    artifact = next((a for a in version.snapshot.values() if a.format == "dataset"), None)
    if artifact is None:
        return None, "this datasource stored no dataset"
    try:
        value = stores.artifacts.load(stored_artifact(artifact), f"the snapshot of {version.datasource}")
    except ArtifactError as exc:
        return None, f"gone from the artifact store or damaged ({exc})"
    return (value, "") if isinstance(value, Dataset) else (None, "this datasource stored no dataset")


def _print_schema_and_statistics(dataset: Any) -> None:
    from zenml.backends.processing.local import LocalProcessing
    from zenml.steps.statistics import compute_statistics

    schema = table("column", "type", title="Schema")
    for field in dataset.schema:
        schema.add_row(field.name, str(field.type))
    console.print(schema, markup=False)
    statistics = compute_statistics(LocalProcessing(), dataset)
    grid = table("split", "column", "kind", "count", "missing", "summary", title="Statistics")
    for row in statistics.rows():
        grid.add_row(*row)
    console.print(grid, markup=False)
