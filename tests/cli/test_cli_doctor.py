"""``zen doctor`` and ``zenml.history.integrity.check``: what each damage looks like, what ``--fix`` may touch."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import Flow, Result
from sqlalchemy import update

from zenml.artifacts.store import MANIFEST
from zenml.history import integrity as doctor
from zenml.metadata.tables import run_table
from zenml.repository import Repository

Zen = Callable[..., Result]


@pytest.fixture
def run_id(zen: Zen, flow: Flow, repo: Repository) -> str:
    """A completed run of ``simple`` (two steps, two artifacts)."""
    assert zen("run", flow.target("simple"), "-q").code == 0
    return repo.runs()[0].id


def _artifacts_root(repo: Repository) -> Path:
    return Path(repo.stores().artifacts.storage.root)


def _output_folder(repo: Repository, run_id: str, step: str) -> Path:
    return Path(repo.run(run_id).steps[step].outputs["output"].uri)


def _kinds(report: doctor.DoctorReport) -> list[str]:
    return sorted(finding.kind for finding in report.findings)


def _dead_pid() -> int:
    """The pid of a process that has exited and been collected."""
    probe = subprocess.Popen(["true"])
    probe.wait()
    return probe.pid


def test_a_fresh_run_is_healthy(zen: Zen, repo: Repository, run_id: str) -> None:
    result = zen("doctor")
    assert result.code == 0, result.out
    assert "Checked 1 runs and 2 artifacts" in result.out and "healthy" in result.out
    report = doctor.check(repo.stores())
    assert report.healthy and report.findings == ()
    assert (report.runs_checked, report.artifacts_checked) == (1, 2)
    assert report.bytes_hashed > 0


def test_a_run_whose_process_died_is_stuck_until_fixed(zen: Zen, repo: Repository, run_id: str) -> None:
    metadata = repo.stores().metadata
    with metadata.engine.begin() as connection:  # as if the process that ran it had been killed mid-run
        connection.execute(update(run_table).where(run_table.c.id == run_id).values(status="running", pid=_dead_pid()))
    found = zen("doctor")
    assert found.code == 1
    assert "stuck_run" in found.out and run_id in found.out and "has exited" in found.out
    fixed = zen("doctor", "--fix", "--json")
    assert fixed.code == 0, fixed.out
    [finding] = json.loads(fixed.out)["findings"]
    assert finding["action"] == f"marked crashed; finish it with 'zen runs resume {run_id}'" and finding["resolved"]
    assert metadata.get_run(run_id).status == "crashed"
    assert zen("doctor").code == 0


def test_a_missing_artifact_is_reported_and_never_deleted(zen: Zen, repo: Repository, run_id: str) -> None:
    folder = _output_folder(repo, run_id, "load")
    (folder / MANIFEST).unlink()  # the data files stay: they are still recorded data
    result = zen("doctor", "--fix", "--min-age", "0", "--json")
    assert result.code == 1
    [finding] = json.loads(result.out)["findings"]
    assert finding["kind"] == "missing_artifact" and "output 'output' of step 'load'" in finding["detail"]
    assert finding["action"].startswith("not repaired: re-run the producing step with --no-cache")
    assert sorted(os.listdir(folder)) == ["value.json"], "recorded data was deleted"


def test_a_changed_artifact_fails_its_hash_unless_hashes_are_skipped(zen: Zen, repo: Repository, run_id: str) -> None:
    (_output_folder(repo, run_id, "scale") / "value.json").write_text("7.0")
    result = zen("doctor")
    assert result.code == 1
    assert "corrupt_artifact" in result.out and "does not match its recorded content hash" in result.out
    assert zen("doctor", "--no-hash").code == 0


def test_garbage_is_reported_kept_while_young_and_deleted_when_old(zen: Zen, repo: Repository, run_id: str) -> None:
    root = _artifacts_root(repo)
    store = repo.stores().artifacts
    store.save([1, 2], (run_id, "load", "attempt-0123456789ab", "output"))  # published, never recorded
    (root / ".staging" / "f00d").mkdir(parents=True)
    (root / ".staging" / "f00d" / "value.json").write_text("[1")  # a writer killed mid-write
    (root / run_id / "ghost" / "output").mkdir(parents=True)
    (root / run_id / "ghost" / "output" / "part-0.parquet").write_bytes(b"PAR1")  # moved, manifest never came

    listed = zen("doctor")
    assert listed.code == 0, "garbage wastes space but leaves the stores healthy"
    for subject in (f"{run_id}/load/attempt-0123456789ab", ".staging/f00d", f"{run_id}/ghost"):
        assert subject in listed.out
    assert "Run 'zen doctor --fix'" in listed.out

    young = zen("doctor", "--fix", "--json")  # default --min-age: 60 minutes
    assert young.code == 0
    actions = [finding["action"] for finding in json.loads(young.out)["findings"]]
    assert actions == ["kept: modified 0 min ago (younger than --min-age 60 min)"] * 3
    assert (root / ".staging" / "f00d").exists()

    old = zen("doctor", "--fix", "--min-age", "0", "--json")
    assert old.code == 0
    assert [(f["kind"], f["action"]) for f in json.loads(old.out)["findings"]] == [
        ("unrecorded_artifact", "deleted"),
        ("stray_files", "deleted"),
        ("staging_leftover", "deleted"),
    ]
    assert not (root / ".staging" / "f00d").exists()
    assert not (root / run_id / "ghost").exists()
    assert not (root / run_id / "load" / "attempt-0123456789ab" / "output").exists()
    assert repo.run(run_id).steps["scale"].output() == 6.0  # recorded data untouched
    assert doctor.check(repo.stores()).findings == ()


def test_folders_of_unknown_runs_and_stray_single_files_are_never_deleted(
    zen: Zen, repo: Repository, run_id: str
) -> None:
    root = _artifacts_root(repo)
    (root / "20990101-000000-feedbeef" / "step" / "output").mkdir(parents=True)
    (root / "20990101-000000-feedbeef" / "step" / "output" / "value.json").write_text("1")
    (root / run_id / "load" / "notes.txt").write_text("someone's notes")
    result = zen("doctor", "--fix", "--min-age", "0", "--json")
    assert result.code == 0
    actions = sorted(finding["action"] for finding in json.loads(result.out)["findings"])
    assert actions == [
        "kept: '20990101-000000-feedbeef' is not a run of this metadata store (another stack may share this "
        "artifact store)",
        "kept: a single file zenml did not write; remove it by hand if unwanted",
    ]
    assert (root / "20990101-000000-feedbeef" / "step" / "output" / "value.json").exists()
    assert (root / run_id / "load" / "notes.txt").exists()


def test_garbage_is_kept_while_a_run_is_running(repo: Repository, run_id: str) -> None:
    stores = repo.stores()
    stores.metadata.create_run(
        run_id="live", pipeline="p", spec_path="s.yaml", spec_sha256="0" * 64, orchestrator="local",
        created_at=1.0, git=None,
    )  # fmt: skip
    staged = _artifacts_root(repo) / ".staging" / "beef"
    staged.mkdir(parents=True)
    report = doctor.check(stores, fix=True, min_age=0.0)
    [kept] = [f for f in report.findings if f.kind == "staging_leftover"]
    assert kept.action == "kept: run live is running and may be writing it" and not kept.resolved
    assert staged.exists()
    assert "stuck_run" not in _kinds(report), "this process owns the run and is alive"


def test_a_published_folder_not_matching_its_manifest_is_a_partial_artifact(
    zen: Zen, repo: Repository, run_id: str
) -> None:
    stored = repo.stores().artifacts.save("whole", (run_id, "scale", "attempt-aaaaaaaaaaaa", "output"))
    Path(stored.uri, "value.json").write_text('"wh')
    found = zen("doctor")
    assert found.code == 1 and "partial_artifact" in found.out
    fixed = zen("doctor", "--fix", "--min-age", "0", "--json")
    assert fixed.code == 0 and json.loads(fixed.out)["findings"][0]["action"] == "deleted"
    assert not Path(stored.uri).exists()


def test_a_missing_or_edited_spec_file_is_reported(zen: Zen, repo: Repository, run_id: str) -> None:
    spec = repo.root / repo.run(run_id).record.spec_path
    spec.chmod(0o644)
    spec.write_text(spec.read_text() + "\n# edited\n")
    edited = zen("doctor")
    assert edited.code == 1 and "bad_spec" in edited.out and "was changed" in edited.out
    spec.unlink()
    missing = zen("doctor")
    assert missing.code == 1 and "is missing; the run cannot be resumed" in missing.out


def test_json_report(zen: Zen, repo: Repository, run_id: str) -> None:
    (_output_folder(repo, run_id, "load") / "value.json").write_text("4.0")
    result = zen("doctor", "--json")
    assert result.code == 1
    report = json.loads(result.out)
    assert report["healthy"] is False and report["runs_checked"] == 1
    [finding] = report["findings"]
    assert (finding["kind"], finding["problem"], finding["resolved"]) == ("corrupt_artifact", True, False)


def test_bad_input_exits_2(zen: Zen, repo: Repository) -> None:
    negative = zen("doctor", "--min-age", "-1")
    assert negative.code == 2 and "--min-age" in negative.err
    unknown = zen("doctor", "--stack", "nope")
    assert unknown.code == 2
    assert unknown.error_lines == ["Error: no stack named 'nope'; known stacks: default"]
