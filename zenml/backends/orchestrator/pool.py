"""``StepPool``: worker processes running one step each at a time; a worker that dies ends only its step.

The standard library's ``ProcessPoolExecutor`` cannot say which task a dead worker was running, and
breaks for good when one dies: it fails every running task and terminates the other workers with
them. Here each worker has its own pipe, so a death is the death of one known step (with the
process's exit code), the other steps go on, and a fresh worker replaces the dead one when needed.

Workers are forks of a fork server (``fork_server``): where it is safe, a fork of the orchestrating
process made before the run is recorded, holding every module the run imported; elsewhere
multiprocessing's own, which imports the step machinery once (``PRELOAD``) for every worker of every
pool of this process, where with "spawn" each worker paid it again. A worker still starts as a
spawned one does: it takes the orchestrating process's current working directory, ``sys.path`` and
environment. From multiprocessing's own server it also imports the main module (a script without a
``__main__`` guard fails there, before it is ready). Where there is no fork server (Windows), workers
are spawned.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import signal
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from zenml.backends.orchestrator import fork_server
from zenml.backends.orchestrator.lost import run_contained
from zenml.backends.orchestrator.worker import start_pool_worker
from zenml.exceptions import BackendError
from zenml.runtime.events import StepOutcome
from zenml.runtime.stores import StoresRecipe

JOIN_SECONDS = 5.0  # how long a worker asked to stop gets before it is killed
READY = "zenml-step-worker-ready"  # a worker's first message: it runs ``serve`` (its start-up did not fail)
#: What the fork server imports once, before it forks workers: this module, and the step machinery with it.
PRELOAD = [__name__]


@dataclass(frozen=True)
class Finished:
    """How a step sent to the pool ended: its outcome, the error it raised, or its worker's death."""

    name: str
    outcome: StepOutcome | None = None
    error: BaseException | None = None
    died: bool = False
    exitcode: int | None = None
    #: the dead worker never got as far as serving (e.g. a script without a ``__main__`` guard)
    before_ready: bool = False


def serve(connection: Any, recipe: StoresRecipe, environ: dict[str, str] | None = None) -> None:
    """A worker process: run each step sent over ``connection`` and send back ``(outcome, error)``; stop on ``None``.

    ``environ``: the orchestrating process's environment when the worker was started (a fork of the
    fork server has the server's, from when it started), taken over as a spawned worker inherits it.
    """
    if environ is not None and environ != os.environ:
        os.environ.clear()
        os.environ.update(environ)
    start_pool_worker(recipe)
    connection.send(READY)
    while True:
        try:
            task = connection.recv()
        except (EOFError, KeyboardInterrupt):  # the orchestrator is gone, or Ctrl-C while idle
            return
        if task is None:
            return
        # Ctrl-C, ignored between steps (the orchestrator stops its pool), interrupts a running step,
        # which records its interruption and returns
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            reply: tuple[StepOutcome | None, BaseException | None] = (run_contained(*task), None)
        except Exception as exc:  # noqa: BLE001 -- every error goes back to the orchestrator, which raises it
            reply = (None, exc)
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            connection.send(reply)
        except Exception as exc:  # noqa: BLE001 -- an error that cannot be pickled: send what it said
            connection.send((None, BackendError(f"step '{task[1]}' raised an error that cannot be sent back: {exc!r}")))


class _Worker:
    def __init__(self, context: Any, recipe: StoresRecipe) -> None:
        self.connection, child = context.Pipe()
        # not a daemon: a step may start processes of its own (training backends do)
        environ = dict(os.environ) if context.get_start_method() == "forkserver" else None
        self.process = context.Process(target=serve, args=(child, recipe, environ), name="zenml-step-worker")
        self.process.start()
        child.close()
        self.ready = False

    def ask_to_exit(self) -> None:
        with contextlib.suppress(OSError):  # already gone
            self.connection.send(None)

    def end(self, kill: bool) -> int | None:
        """Wait for the process to end (killed first if ``kill``, and anyway after ``JOIN_SECONDS``); its exit code."""
        if kill:
            self.process.kill()
        self.process.join(JOIN_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.connection.close()
        code: int | None = self.process.exitcode
        return code


def pool_context() -> Any:
    """The multiprocessing context of step workers: forks of a fork server (see ``fork_server``); else spawn.

    multiprocessing's own server, where it is the one (started here or by ``connect``), preloads
    ``PRELOAD`` (one this program started itself keeps its own list; workers then import the
    machinery themselves, as spawned ones do).
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    fork_server.use_preload(PRELOAD)
    return multiprocessing.get_context("forkserver")


def start_fork_server() -> fork_server.ServerKind:
    """Start a fresh fork server for a run's workers now, before the run is recorded (see ``fork_server``).

    A forked one holds everything this process imported; multiprocessing's own imports ``PRELOAD``
    while this process goes on, and the first worker waits for its imports to end.
    """
    return fork_server.start(PRELOAD)


class StepPool:
    """Up to ``size`` worker processes, started at once (each opens the stores while the first step runs).

    Use as a context manager: leaving it stops every worker, killing those still running a step
    when an exception (e.g. ``KeyboardInterrupt``) is on its way out.
    """

    def __init__(self, size: int, recipe: StoresRecipe) -> None:
        self.context = pool_context()
        self.recipe = recipe
        self.idle = [_Worker(self.context, recipe) for _ in range(size)]
        self.busy: dict[str, _Worker] = {}

    def __enter__(self) -> StepPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def submit(self, name: str, task: tuple[Any, ...]) -> None:
        """Send step ``name`` (``task``: the arguments of ``run_contained``) to an idle worker, or a new one."""
        worker = self.idle.pop() if self.idle else _Worker(self.context, self.recipe)
        try:
            worker.connection.send(task)
        except OSError:  # it died while idle (killed from outside): a fresh one takes the step
            worker.end(kill=True)
            worker = _Worker(self.context, self.recipe)
            worker.connection.send(task)
        self.busy[name] = worker

    def wait(self, timeout: float | None) -> list[Finished]:
        """The steps that ended within ``timeout`` seconds (``None``: until one does); may be empty."""
        handles: dict[Any, str] = {}
        for name, worker in self.busy.items():
            handles[worker.connection] = name
            handles[worker.process.sentinel] = name
        ready = multiprocessing.connection.wait(list(handles), timeout)
        finished = [self._reap(name) for name in dict.fromkeys(handles[handle] for handle in ready)]
        return [result for result in finished if result is not None]

    def _reap(self, name: str) -> Finished | None:
        """What step ``name``'s worker has to say: its reply, its death, or (``None``) only that it is ready."""
        worker = self.busy[name]
        while worker.connection.poll():
            try:
                message = worker.connection.recv()
            except (EOFError, OSError):
                break  # it died (while replying, perhaps)
            except Exception as exc:  # noqa: BLE001 -- an error that cannot be rebuilt here
                self.idle.append(self.busy.pop(name))
                return Finished(name, error=BackendError(f"the reply of step '{name}' cannot be read back: {exc!r}"))
            if message == READY:
                worker.ready = True
                continue
            outcome, error = message
            self.idle.append(self.busy.pop(name))
            return Finished(name, outcome=outcome, error=error)
        if worker.process.is_alive():
            return None
        del self.busy[name]
        # not killed: its pipe may close a moment before it has exited, and the exit code must be its own
        return Finished(name, died=True, exitcode=worker.end(kill=False), before_ready=not worker.ready)

    def stop(self, name: str) -> None:
        """Kill the worker running step ``name`` (it is replaced when a worker is needed again)."""
        self.busy.pop(name).end(kill=True)

    def close(self) -> None:
        """End every worker: idle ones are asked to exit, busy ones are killed."""
        for name in list(self.busy):
            self.stop(name)
        for worker in self.idle:
            worker.ask_to_exit()  # all at once, so they exit in parallel
        while self.idle:
            self.idle.pop().end(kill=False)
