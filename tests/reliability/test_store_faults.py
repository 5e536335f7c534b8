"""Stores failing under a running pipeline: the metadata server dies, the artifact store fills up or turns read-only.

Each fault must end the run with one clear line (what failed, where, how to fix it) instead of a
hang or a driver traceback, leave no half-written artifact in the store, and leave a run that
``zen runs resume`` completes once the fault is gone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from servers import PASSWORD, PrivateMariaDB, PrivatePostgres, PrivateServer

if TYPE_CHECKING:
    from zenml.metadata import SQLMetadataStore

RecordProperty = Callable[[str, object], None]  # pytest's record_property fixture

ZEN = str(Path(sys.executable).parent / "zen")
WAIT_S = 120.0
BIG_FLOATS = 400_000  # 3.2 MB: more than the 1 MB disk of the full-disk test holds

FLOW = f'''
import time
from pathlib import Path

import numpy as np

from zenml import pipeline, step


@step
def first() -> int:
    return 1


@step
def hold(x: int) -> int:
    """Waits, while the file HOLD exists, for the test to inject its fault and create RELEASE."""
    if Path("HOLD").exists():
        Path("HELD").touch()
        while not Path("RELEASE").exists():
            time.sleep(0.02)
    return x + 1


@step
def big(x: int) -> np.ndarray:
    return np.full({BIG_FLOATS}, float(x))


@pipeline
def faulty() -> None:
    big(hold(first()))
'''


class Project:
    """A zenml project in a folder, run through the ``zen`` command as a user would."""

    def __init__(
        self,
        root: Path,
        monkeypatch: pytest.MonkeyPatch,
        *,
        metadata_url: str | None = None,
        artifact_store: Path | None = None,
    ) -> None:
        self.root = root
        # The stack comes from the environment, in the test process as in the `zen` processes.
        if metadata_url:
            monkeypatch.setenv("ZEN_METADATA_STORE", metadata_url)
        if artifact_store:
            monkeypatch.setenv("ZEN_ARTIFACT_STORE", str(artifact_store))
        self.env = dict(os.environ)
        root.mkdir(exist_ok=True)
        (root / "flow_faulty.py").write_text(FLOW)
        self.zen("init", ".")

    def zen(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([ZEN, *args], cwd=self.root, env=self.env, capture_output=True, text=True, timeout=WAIT_S)

    def start_held_run(self) -> subprocess.Popen[str]:
        """Start ``zen run`` with the ``hold`` step waiting; return once it waits."""
        (self.root / "HOLD").touch()
        process = subprocess.Popen(
            [ZEN, "run", "flow_faulty.py:faulty"],
            cwd=self.root,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + WAIT_S
        while not (self.root / "HELD").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                out, err = process.communicate()
                pytest.fail(f"the run never reached the held step:\n{out}\n{err}")
            time.sleep(0.05)
        return process

    def release(self, process: subprocess.Popen[str]) -> tuple[subprocess.CompletedProcess[str], float]:
        """Let the held step finish; return the run's result and how long it took to end after that."""
        (self.root / "RELEASE").touch()
        released = time.monotonic()
        try:
            out, err = process.communicate(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            pytest.fail(f"the run hung for {WAIT_S:.0f} s after the fault:\n{out}\n{err}")
        result = subprocess.CompletedProcess(process.args, process.returncode, out, err)
        return result, time.monotonic() - released

    def open_metadata(self) -> SQLMetadataStore:
        from zenml.repository import Repository

        return Repository(self.root).stores().metadata

    def only_run_id(self) -> str:
        runs = self.open_metadata().runs(pipeline="faulty")
        assert len(runs) == 1, runs
        return runs[0].id


@pytest.fixture(autouse=True)
def stores_closed() -> Iterator[None]:
    """The stores this process opened to check a project are closed after each test."""
    yield
    from zenml.repository import close_stores

    close_stores()


def assert_one_clear_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """The run failed with an ``Error:`` line holding every fragment, no traceback and no password."""
    text = result.stdout + result.stderr
    assert result.returncode != 0, text
    assert "Traceback" not in text, text
    assert PASSWORD not in text
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert errors, text
    assert all(fragment in errors[0] for fragment in fragments), errors
    return errors[0]


def assert_resume_completes(project: Project, run_id: str) -> float:
    """``zen runs resume`` finishes the run: each step recorded once, completed, its artifact intact."""
    started = time.monotonic()
    resumed = project.zen("runs", "resume", run_id)
    took = time.monotonic() - started
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"Run {run_id} completed after resume" in resumed.stdout
    from zenml.repository import Repository

    run = Repository(project.root).run(run_id)
    assert run.status == "completed"
    assert sorted(run.steps) == ["big", "first", "hold"]
    assert {step.status for step in run.steps.values()} == {"completed"}
    assert len(project.open_metadata().step_runs(run_id)) == 3  # no step recorded twice
    assert run.steps["hold"].outputs["output"].read() == 2
    values = run.steps["big"].outputs["output"].read()  # read() verifies the content hash
    assert values.shape == (BIG_FLOATS,) and float(values[0]) == 2.0
    return took


def published(store: Path) -> tuple[set[str], list[str]]:
    """``(artifacts with a manifest, everything else under .staging)`` in a local artifact store."""
    from zenml.artifacts.store import MANIFEST

    artifacts = {
        str(manifest.parent.relative_to(store)).split("/", 1)[1]  # drop the run id: "step/output"
        for manifest in store.rglob(MANIFEST)
        if ".staging" not in manifest.parts
    }
    staging = store / ".staging"
    leftovers = sorted(str(p.relative_to(store)) for p in staging.rglob("*")) if staging.exists() else []
    return artifacts, leftovers


def unpublished_folders(store: Path, run_id: str) -> list[str]:
    """Folders of the run's artifacts that exist without a manifest (a visible half-written artifact)."""
    from zenml.artifacts.store import MANIFEST

    run_folder = store / run_id
    return sorted(str(p.relative_to(store)) for p in run_folder.glob("*/*") if not (p / MANIFEST).exists())


# -- the metadata database goes away ---------------------------------------------------------------


def _running(server: PrivateServer) -> Iterator[PrivateServer]:
    try:
        server.initialise()
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture(params=["postgres", "mariadb"])
def private_server(request: pytest.FixtureRequest) -> Iterator[PrivateServer]:
    """A database server of the test's own (the shared ones must never be stopped)."""
    yield from _running(PrivatePostgres.find() if request.param == "postgres" else PrivateMariaDB.find())


@pytest.fixture
def private_postgres() -> Iterator[PrivateServer]:
    """A PostgreSQL server of the test's own."""
    yield from _running(PrivatePostgres.find())


@pytest.mark.services
def test_metadata_server_dies_mid_run_then_resume_completes(
    private_server: PrivateServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    record_property: RecordProperty,
) -> None:
    project = Project(tmp_path / "project", monkeypatch, metadata_url=private_server.url)
    process = project.start_held_run()

    private_server.kill()
    result, failed_after = project.release(process)

    redacted = private_server.url.replace(f":{PASSWORD}@", ":***@")
    line = assert_one_clear_error(result, "cannot connect to the metadata store", redacted, "zen runs resume")
    assert "check that the server is running" in line

    private_server.start()
    run_id = project.only_run_id()
    resumed_in = assert_resume_completes(project, run_id)
    name = private_server.name
    print(f"\n{name}: the run failed {failed_after:.1f} s after the server died; resume took {resumed_in:.1f} s")
    record_property(f"{name}_fail_after_kill_s", round(failed_after, 2))
    record_property(f"{name}_resume_s", round(resumed_in, 2))


@pytest.mark.services
def test_metadata_outage_longer_than_a_heartbeat_is_ridden_out(
    private_postgres: PrivateServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zenml.engine import HEARTBEAT_SECONDS

    project = Project(tmp_path / "project", monkeypatch, metadata_url=private_postgres.url)
    process = project.start_held_run()

    private_postgres.kill()
    time.sleep(HEARTBEAT_SECONDS + 3)  # one heartbeat falls in the outage (and gives up after ~2 s of retries)
    private_postgres.start()
    result, _ = project.release(process)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert project.open_metadata().get_run(project.only_run_id()).status == "completed"


# -- the artifact store is full or read-only --------------------------------------------------------


def _root_command(*command: str) -> None:
    """Run a mount command, skipping the test when this machine does not permit it."""
    if os.geteuid() != 0:
        pytest.skip(f"'{' '.join(command[:2])}' needs root")
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        pytest.skip(f"'{' '.join(command)}' is not permitted here: {result.stderr.strip()}")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs: the artifact store of the full-disk test."""
    disk = tmp_path / "disk"
    disk.mkdir()
    _root_command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk))
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True, timeout=60)


class ReadOnlySwitch:
    """Makes a folder read-only and writable again: a read-only bind mount as root (root ignores chmod)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.as_root = os.geteuid() == 0

    def set(self, read_only: bool) -> None:
        if self.as_root:
            mode = "ro" if read_only else "rw"
            _root_command("mount", "-o", f"remount,{mode},bind", str(self.folder))
            return
        for folder in [self.folder, *[p for p in self.folder.rglob("*") if p.is_dir()]]:
            folder.chmod(0o555 if read_only else 0o755)


@pytest.fixture
def read_only_switch(tmp_path: Path) -> Iterator[ReadOnlySwitch]:
    """A folder for an artifact store that the test can turn read-only."""
    source, folder = tmp_path / "store-source", tmp_path / "store"
    source.mkdir()
    folder.mkdir()
    if os.geteuid() != 0:
        yield ReadOnlySwitch(folder)
        return
    _root_command("mount", "--bind", str(source), str(folder))
    try:
        yield ReadOnlySwitch(folder)
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True, timeout=60)


def test_full_artifact_store_fails_the_step_cleanly_then_resume_completes(
    small_disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, record_property: RecordProperty
) -> None:
    project = Project(tmp_path / "project", monkeypatch, artifact_store=small_disk)

    result = project.zen("run", "flow_faulty.py:faulty")

    line = assert_one_clear_error(result, "step 'big' failed", "ArtifactError", "big/output", "artifact store is full")
    run_id = project.only_run_id()
    assert project.open_metadata().get_run(run_id).status == "failed"
    artifacts, leftovers = published(small_disk)
    assert artifacts == {"first/output", "hold/output"}
    assert leftovers == []
    assert unpublished_folders(small_disk, run_id) == []

    _root_command("mount", "-o", "remount,size=16m", "tmpfs", str(small_disk))
    resumed_in = assert_resume_completes(project, run_id)
    print(f"\nfull disk: {line}\nresume took {resumed_in:.1f} s")
    record_property("full_disk_resume_s", round(resumed_in, 2))


def test_read_only_artifact_store_fails_the_step_cleanly_then_resume_completes(
    read_only_switch: ReadOnlySwitch,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    record_property: RecordProperty,
) -> None:
    store = read_only_switch.folder
    project = Project(tmp_path / "project", monkeypatch, artifact_store=store)
    process = project.start_held_run()

    read_only_switch.set(read_only=True)
    try:
        result, failed_after = project.release(process)
    finally:
        read_only_switch.set(read_only=False)

    line = assert_one_clear_error(
        result, "step 'hold' failed", "ArtifactError", "hold/output", "artifact store is read-only"
    )
    run_id = project.only_run_id()
    artifacts, leftovers = published(store)
    assert artifacts == {"first/output"}
    assert leftovers == []
    assert unpublished_folders(store, run_id) == []

    resumed_in = assert_resume_completes(project, run_id)
    print(f"\nread-only store: {line}\nfailed {failed_after:.1f} s after release; resume took {resumed_in:.1f} s")
    record_property("read_only_resume_s", round(resumed_in, 2))


# -- the metadata store's disk fills up or turns read-only mid-run -----------------------------------


def fill(folder: Path) -> None:
    """Write to ``folder`` until its file system is full, as another program might."""
    with (folder / "filler").open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass


def assert_unfinished_run(result: subprocess.CompletedProcess[str], run_id: str, *fragments: str) -> str:
    """Exit 1 (a run was recorded): the store's fault with its fix, then how to resume the run."""
    line = assert_one_clear_error(result, *fragments)
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 2, errors
    assert "did not complete" in errors[1] and f"zen runs resume {run_id}" in errors[1], errors[1]
    assert "check that the server is running" not in result.stderr
    return line


def test_full_metadata_disk_mid_run_exits_1_then_resume_completes(
    small_disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, record_property: RecordProperty
) -> None:
    project = Project(tmp_path / "project", monkeypatch, metadata_url=f"sqlite:///{small_disk}/metadata.db")
    process = project.start_held_run()

    fill(small_disk)
    result, failed_after = project.release(process)

    run_id = project.only_run_id()
    line = assert_unfinished_run(result, run_id, "metadata store", "database or disk is full", "free space")
    (small_disk / "filler").unlink()
    shown = project.zen("runs", "show", run_id)  # the dead process's run is reaped: recorded, not complete
    assert shown.returncode == 0 and "crashed" in shown.stdout.splitlines()[0], shown.stdout
    resumed_in = assert_resume_completes(project, run_id)
    print(f"\nfull metadata disk: {line}\nfailed {failed_after:.1f} s after release; resume took {resumed_in:.1f} s")
    record_property("full_metadata_disk_resume_s", round(resumed_in, 2))
