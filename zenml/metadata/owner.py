"""Who drives a run (host, boot, PID namespace, process, heartbeat) and how to tell that it is gone."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from functools import lru_cache

#: a process that started this long after the owner's last heartbeat cannot be the owner
#: (``/proc`` gives boot time in whole seconds and start times in clock ticks, and clocks drift)
_START_TOLERANCE = 2.0


@dataclass(frozen=True)
class RunOwner:
    """The process that drives a run, as recorded on the run's row.

    ``pid`` is only meaningful on ``host`` within one boot (``boot_id``) and one PID namespace
    (``pid_namespace``): containers sharing a hostname, machines with the same name and reboots
    all reuse PIDs. Where any of the three differs from the checking process, only the heartbeat
    can tell whether the owner is alive.
    """

    host: str | None
    pid: int | None
    boot_id: str | None
    pid_namespace: str | None
    heartbeat_at: float | None


def this_process() -> RunOwner:
    """The calling process as a run owner, with a heartbeat of now."""
    return RunOwner(socket.gethostname(), os.getpid(), boot_id(), pid_namespace(), time.time())


@lru_cache(maxsize=1)
def boot_id() -> str | None:
    """The kernel's id of the current boot (Linux), else ``None``."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as handle:
            return handle.read().strip() or None
    except OSError:
        return None


@lru_cache(maxsize=1)
def pid_namespace() -> str | None:
    """The PID namespace of this process, e.g. ``pid:[4026531836]`` (Linux), else ``None``."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def why_dead(owner: RunOwner, *, now: float, stale_after: float) -> str | None:
    """Why the owner of a ``running`` run is gone, or ``None`` while it may still be alive.

    A run without a recorded process (one a scheduler drives) is never declared dead. A stale
    heartbeat is decisive everywhere; the process itself is checked only where its PID means the
    same process as here (same host, boot and PID namespace; legacy rows without boot and
    namespace fall back to the host alone).
    """
    if owner.heartbeat_at is not None and now - owner.heartbeat_at > stale_after:
        return f"no heartbeat for {now - owner.heartbeat_at:.0f} s (limit {stale_after:g} s)"
    if owner.pid is None or not _pid_is_comparable(owner):
        return None
    if owner.pid == os.getpid():
        return None
    gone = _process_gone(owner.pid, owner.heartbeat_at)
    return f"process {owner.pid} on {owner.host} {gone}" if gone else None


def _pid_is_comparable(owner: RunOwner) -> bool:
    if owner.host != socket.gethostname():
        return False
    for recorded, here in ((owner.boot_id, boot_id()), (owner.pid_namespace, pid_namespace())):
        if recorded is not None and recorded != here:
            return False
    return True


def _process_gone(pid: int, last_heartbeat: float | None) -> str | None:
    """How process ``pid`` is not the live owner any more (``None``: it may be)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "has exited"
    except PermissionError:
        pass  # another user's process: it exists; /proc below may still say more
    state, started = _proc_stat(pid)
    if state == "Z":  # killed, but its parent has not collected it yet
        return "has exited (zombie)"
    if started is not None and last_heartbeat is not None and started > last_heartbeat + _START_TOLERANCE:
        return "has exited (its PID now belongs to a newer process)"
    return None


def _proc_stat(pid: int) -> tuple[str | None, float | None]:
    """``(state letter, start time as epoch seconds)`` of a process from ``/proc`` (Linux), else ``None``s."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None, None
    booted = _boot_time()
    if booted is None or len(fields) < 20:
        return fields[0] if fields else None, None
    # fields[0] is field 3 of proc(5) (state); field 22 (starttime, in clock ticks since boot) is fields[19]
    return fields[0], booted + int(fields[19]) / os.sysconf("SC_CLK_TCK")


@lru_cache(maxsize=1)
def _boot_time() -> float | None:
    try:
        with open("/proc/stat") as handle:
            for line in handle:
                if line.startswith("btime "):
                    return float(line.split()[1])
    except OSError:
        return None
    return None
