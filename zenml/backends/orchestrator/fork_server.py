"""The fork server step workers are forked from: where it is safe, a fork of the orchestrating process itself.

Pool workers and a local Dask cluster's workers start with multiprocessing's "forkserver" method.
multiprocessing's own fork server is a fresh interpreter that first imports zenml's step machinery
(0.2 s of CPU on a quiet machine, 0.5 s on a slow one) while the run waits for its first worker.
Forking the orchestrating process instead, just before the run is recorded, gives a server that
already holds every module the run imported, the pipeline's own code included, in a few milliseconds.
Its workers are then started exactly as before: each asks the server for a fork of its own.

A fork is only as safe as the process it copies, so this is done only:

- on Linux (macOS's system libraries are not fork-safe);
- while this process runs one thread (a lock another thread held would stay locked in the copy
  forever). A notebook kernel, a test watchdog or a library's thread pool means no fork;
- with a fresh server for every run. A server forked for an earlier run holds that run's copy of
  the pipeline's code; the next run's workers must run the code its spec was compiled from.

The copy inherits this process's database connections but never uses them
(``zenml.runtime.stores`` forgets inherited stores in every forked child). Everywhere else
multiprocessing's own fork server is started, as before. This module reaches into
``multiprocessing.forkserver``'s server object, whose fields are the same from Python 3.8 to 3.13;
where they or the server's entry point differ, the standard server is used.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import multiprocessing
import multiprocessing.forkserver as mp_forkserver
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from multiprocessing import connection as mp_connection
from multiprocessing import resource_tracker
from multiprocessing import util as mp_util
from typing import Any, Literal, NoReturn

from zenml.utils import collector

ServerKind = Literal["forked", "spawned", "none"]
#: the fields of ``multiprocessing.forkserver.ForkServer`` this module sets, and the entry point it calls
_SERVER_FIELDS = ("_forkserver_address", "_forkserver_alive_fd", "_forkserver_pid", "_lock", "_preload_modules")
_MAIN_PARAMETERS = ["listener_fd", "alive_r", "preload", "main_path", "sys_path"]
#: how long a replaced server gets to exit before it is left to exit on its own (it holds no work)
_REAP_SECONDS = 1.0
#: the pid of the server this process forked while it is the one workers are forked from; whether
#: multiprocessing's own server was given its preload list; servers replaced before they had exited
_state: dict[str, Any] = {"forked_pid": None, "preload_set": False, "unreaped": []}


def start(preload: Sequence[str]) -> ServerKind:
    """Start a fork server for a run's workers: ``"forked"`` from this process where safe, else ``"spawned"``.

    ``preload``: the modules the workers need; a forked server imports those this process has not
    (in the server, while this process goes on), a spawned one imports them all. ``"none"``: this
    platform has no fork server (Windows); workers are spawned.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return "none"
    server: Any = mp_forkserver._forkserver
    if _forkable(server):
        stop_forked()
        _fork(server, [name for name in preload if name not in sys.modules])
        return "forked"
    stop_forked()
    use_preload(preload)
    mp_forkserver.ensure_running()
    return "spawned"


def use_preload(preload: Sequence[str]) -> None:
    """The modules multiprocessing's own fork server imports when it starts (the first list given wins).

    It replaces the default ``["__main__"]``: the server must not run a script's top level, which
    may start a run. A server that is already running keeps the list it started with.
    """
    if not _state["preload_set"]:
        _state["preload_set"] = True
        multiprocessing.get_context("forkserver").set_forkserver_preload(list(preload))


def running() -> ServerKind:
    """Which fork server new workers of this process are forked from now (``"none"``: no server runs)."""
    server = getattr(mp_forkserver, "_forkserver", None)
    pid = getattr(server, "_forkserver_pid", None)
    if pid is None:
        return "none"
    return "forked" if pid == _state["forked_pid"] else "spawned"


def stop_forked() -> None:
    """Stop the server this process forked for an earlier run, if it runs; the next worker needs a new one.

    The server exits once every worker it forked has (they hold its "alive" pipe too), so this
    waits at most ``_REAP_SECONDS`` for it and otherwise leaves it to exit on its own.
    """
    pid = _state["forked_pid"]
    if pid is None:
        return
    server: Any = mp_forkserver._forkserver
    with server._lock:
        _state["forked_pid"] = None
        if server._forkserver_pid != pid:  # already replaced (multiprocessing restarts a dead server)
            return
        os.close(server._forkserver_alive_fd)
        server._forkserver_address = server._forkserver_alive_fd = server._forkserver_pid = None
    _reap(pid)


def _forkable(server: Any) -> bool:
    """Whether this process may fork the server: Linux, one thread, and the server internals this module knows."""
    if not sys.platform.startswith("linux"):
        return False
    if not all(hasattr(server, name) for name in _SERVER_FIELDS):
        return False
    if list(inspect.signature(mp_forkserver.main).parameters) != _MAIN_PARAMETERS:
        return False
    running_pid = server._forkserver_pid
    if running_pid is not None and running_pid != _state["forked_pid"]:
        return False  # a server this process did not fork (multiprocessing's own): keep using it
    return _one_thread()


def _one_thread() -> bool:
    """Whether this process runs a single thread: no Python thread and no native one (``/proc/self/task``)."""
    if threading.active_count() != 1:
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def _fork(server: Any, imports: list[str]) -> None:
    """Fork this process into a fork server and make it the one multiprocessing forks workers from."""
    resource_tracker.ensure_running()  # workers are handed its pipe, as the standard server's are
    listener = socket.socket(socket.AF_UNIX)
    address = mp_connection.arbitrary_address("AF_UNIX")  # type: ignore[attr-defined]
    listener.bind(address)
    if not mp_util.is_abstract_socket_namespace(address):
        os.chmod(address, 0o600)
    listener.listen()
    alive_r, alive_w = os.pipe()
    for stream in (sys.stdout, sys.stderr):  # what is buffered now must not be written twice
        with contextlib.suppress(Exception):
            stream.flush()
    with server._lock:
        pid = os.fork()
        if pid == 0:
            _serve(listener, alive_r, alive_w, imports)
        os.close(alive_r)
        listener.close()
        server._forkserver_address, server._forkserver_alive_fd, server._forkserver_pid = address, alive_w, pid
        _state["forked_pid"] = pid


def _serve(listener: socket.socket, alive_r: int, alive_w: int, imports: list[str]) -> NoReturn:
    """The forked server: look like a fresh process to the workers, import what they need, then serve forks."""
    code = 0
    try:
        os.close(alive_w)  # only clients hold it: the server ends when they all have
        # forked while this process held it: a step asking for a fork server of its own would wait forever
        mp_forkserver._forkserver._lock = threading.Lock()  # type: ignore[attr-defined]
        _default_signal_handlers()
        for name in imports:
            with contextlib.suppress(ImportError):  # as the standard server does: the worker's own import says why
                importlib.import_module(name)
        # what this copy holds lives until it exits: its workers should not walk it in every full
        # collection; and a ``zen`` start-up paused the collector, which workers must have on
        collector.settle_startup()
        mp_forkserver.main(listener.detach(), alive_r, [], None, None)
    except SystemExit:  # every client is gone
        code = 0
    except BaseException:  # noqa: BLE001 -- printed, as the standard server prints its failures
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def _default_signal_handlers() -> None:
    """Give every signal the handler a fresh interpreter has; workers are forked with these."""
    signal.set_wakeup_fd(-1)
    for number in signal.valid_signals():
        with contextlib.suppress(OSError, ValueError, TypeError):
            handler = signal.getsignal(number)
            if callable(handler) and handler is not signal.default_int_handler:
                signal.signal(number, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _reap(pid: int) -> None:
    """Wait (briefly) for replaced servers to exit, so none is left a zombie; retried at the next replacement."""
    waiting = [*_state["unreaped"], pid]
    deadline = time.monotonic() + _REAP_SECONDS
    while waiting and time.monotonic() < deadline:
        waiting = [server for server in waiting if not _exited(server)]
        if waiting:
            time.sleep(0.005)
    _state["unreaped"] = waiting


def _exited(pid: int) -> bool:
    try:
        done, _status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done != 0
