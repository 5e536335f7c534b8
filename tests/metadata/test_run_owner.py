"""When the process owning a ``running`` run counts as gone (``zenml.metadata.owner.why_dead``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from zenml.metadata import SQLMetadataStore
from zenml.metadata.owner import RunOwner, boot_id, pid_namespace, this_process, why_dead

LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _exited_pid() -> int:
    probe = subprocess.Popen(["true"])
    probe.wait()
    return probe.pid


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A live process, killed after the test."""
    process = subprocess.Popen(["sleep", "60"])
    yield process
    process.kill()
    process.wait()


def test_this_process_is_alive_and_records_where_its_pid_is_meaningful() -> None:
    owner = this_process()
    assert (owner.host, owner.pid) == (socket.gethostname(), os.getpid())
    assert (owner.boot_id, owner.pid_namespace) == (boot_id(), pid_namespace())
    assert why_dead(owner, now=time.time(), stale_after=60.0) is None


def test_an_exited_process_is_gone_at_once() -> None:
    owner = replace(this_process(), pid=_exited_pid())
    assert why_dead(owner, now=time.time(), stale_after=60.0) == f"process {owner.pid} on {owner.host} has exited"


def test_a_stale_heartbeat_is_decisive_wherever_the_owner_ran(sleeper: subprocess.Popen[bytes]) -> None:
    owner = RunOwner("another-machine", sleeper.pid, "another-boot", "pid:[1]", heartbeat_at=time.time() - 90)
    assert why_dead(owner, now=time.time(), stale_after=60.0) == "no heartbeat for 90 s (limit 60 s)"


def test_a_pid_from_another_host_boot_or_namespace_is_not_checked() -> None:
    here = replace(this_process(), pid=_exited_pid())
    for elsewhere in (
        replace(here, host="another-machine"),
        replace(here, boot_id="another-boot"),  # a reboot, or another machine with the same name
        replace(here, pid_namespace="pid:[1]"),  # another container sharing the hostname
    ):
        assert why_dead(elsewhere, now=time.time(), stale_after=60.0) is None, elsewhere


def test_rows_from_before_boot_and_namespace_were_recorded_fall_back_to_the_host() -> None:
    legacy = RunOwner(socket.gethostname(), _exited_pid(), None, None, heartbeat_at=time.time())
    assert "has exited" in str(why_dead(legacy, now=time.time(), stale_after=60.0))


def test_a_run_a_scheduler_drives_is_never_declared_dead() -> None:
    unowned = RunOwner(None, None, None, None, None)
    assert why_dead(unowned, now=time.time(), stale_after=0.0) is None


@LINUX
def test_a_killed_but_uncollected_process_is_gone() -> None:
    zombie = subprocess.Popen(["true"])
    try:
        while Path(f"/proc/{zombie.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            time.sleep(0.01)  # it exits at once; nobody collects it until wait() below
        owner = replace(this_process(), pid=zombie.pid)
        assert why_dead(owner, now=time.time(), stale_after=60.0) == (
            f"process {zombie.pid} on {owner.host} has exited (zombie)"
        )
    finally:
        zombie.wait()


@LINUX
def test_a_pid_reused_by_a_newer_process_is_gone(sleeper: subprocess.Popen[bytes]) -> None:
    beat = time.time() - 30  # the owner's last heartbeat, long before ``sleeper`` started
    owner = replace(this_process(), pid=sleeper.pid, heartbeat_at=beat)
    assert why_dead(owner, now=time.time(), stale_after=60.0) == (
        f"process {sleeper.pid} on {owner.host} has exited (its PID now belongs to a newer process)"
    )
    assert why_dead(replace(owner, heartbeat_at=time.time()), now=time.time(), stale_after=60.0) is None


def test_the_store_records_the_owner_and_reaps_it_when_it_dies(tmp_path: Path) -> None:
    store = SQLMetadataStore(f"sqlite:///{tmp_path}/metadata.db")
    try:
        store.create_run(run_id="r", pipeline="p", spec_path="s.yaml", spec_sha256="0" * 64, orchestrator="local",
                         created_at=1.0, git=None)  # fmt: skip
        record = store.get_run("r")
        assert (record.pid, record.boot_id, record.pid_namespace) == (os.getpid(), boot_id(), pid_namespace())
        assert store.dead_runs() == []
        with store.engine.begin() as connection:
            connection.exec_driver_sql(f"UPDATE runs SET pid = {_exited_pid()} WHERE id = 'r'")
        [(dead, reason)] = store.dead_runs()
        assert dead.id == "r" and "has exited" in reason
        assert store.reap_dead_runs() == ["r"]
        assert store.get_run("r").status == "crashed"
    finally:
        store.close()
