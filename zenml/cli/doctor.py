"""``zen doctor``: check the metadata and artifact stores against each other, and repair what is safe."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer

from zenml.cli.options import StackOption, json_flag
from zenml.cli.output import console, size, table

if TYPE_CHECKING:
    from zenml.history.integrity import DoctorReport, Finding


def doctor(
    fix: bool = typer.Option(
        False, "--fix", help="Mark stuck runs crashed and delete garbage nothing can still be writing."
    ),
    min_age: float = typer.Option(
        60.0, "--min-age", min=0.0, help="With --fix: delete garbage only once untouched for this many minutes."
    ),
    no_hash: bool = typer.Option(False, "--no-hash", help="Only check artifacts are present; do not re-hash them."),
    stack: StackOption = None,
    as_json: Annotated[bool, json_flag("Print the report as JSON.")] = False,
) -> None:
    """Check the stores: stuck runs, missing or corrupt artifacts, unrecorded files (exit 1 on problems)."""
    from zenml.history import integrity as checks
    from zenml.repository import LostMetadataStoreError, Repository

    repository = Repository(stack=stack)
    try:
        stores = repository.stores()
        lost: Finding | None = None
    except LostMetadataStoreError as error:
        lost = checks.lost_metadata_finding(error.database, error.artifact_store, fixed=fix)
        if not fix:
            _show(checks.DoctorReport((lost,), 0, 0, 0, 0, fixed=False), as_json)
            raise typer.Exit(1) from None
        stores = repository.stores(new_metadata_store=True)  # the user asked for it: start an empty store
    report = checks.check(stores, fix=fix, min_age=min_age * 60, verify_hashes=not no_hash)
    if lost is not None:
        report = replace(report, findings=(lost, *report.findings))
    _show(report, as_json)
    raise typer.Exit(0 if report.healthy else 1)


def _show(report: DoctorReport, as_json: bool) -> None:
    if as_json:
        console.out(json.dumps(report.to_dict(), indent=2), highlight=False)
    else:
        _print(report)


def _print(report: DoctorReport) -> None:
    if report.findings:
        grid = table("", "kind", "subject", "detail", "action")
        for finding in report.findings:
            grid.add_row(_mark(finding), finding.kind, finding.subject, finding.detail, finding.action or "-")
        console.print(grid)
    checked = f"{report.runs_checked} runs and {report.artifacts_checked} artifacts"
    hashed = f", {size(report.bytes_hashed)} re-hashed" if report.bytes_hashed else ""
    elsewhere = ""
    if report.artifacts_elsewhere:
        elsewhere = f" ({report.artifacts_elsewhere} recorded in other artifact stores, not checked)"
    verdict = "[green]healthy[/]" if report.healthy else f"[red]{len(report.problems)} problem(s)[/]"
    console.print(f"Checked {checked}{hashed}{elsewhere}: {verdict}")
    pending = [finding for finding in report.findings if not finding.resolved]
    if pending and not report.fixed:
        console.print("Run 'zen doctor --fix' to mark stuck runs crashed and delete garbage older than --min-age.")


def _mark(finding: Finding) -> str:
    if finding.resolved:
        return "[green]fixed[/]"
    return "[red]problem[/]" if finding.is_problem else "[yellow]garbage[/]"
