"""Stopping a step attempt that runs past its timeout, in whichever thread or process runs it."""

from __future__ import annotations

import ctypes
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class StepTimeout(BaseException):
    """Raised inside a step when its timeout expires.

    A ``BaseException``, like ``KeyboardInterrupt``, so a step's own ``except Exception`` cannot
    swallow it and keep running.
    """


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Raise ``StepTimeout`` in the calling thread if the block is still running after ``seconds``.

    In the main thread (``zen run``, ``zen step exec``, a process-pool worker) a ``SIGALRM`` timer
    interrupts even a blocking ``time.sleep`` or socket read. Elsewhere (a Dask worker thread, a
    pipeline started from a thread) or while another timer owns ``SIGALRM``, the exception is
    injected into the thread and raised at its next Python instruction: a step blocked inside one
    long C call stops when that call returns. (The ``parallel`` and ``dask`` orchestrators stop
    such a step from outside, with its worker process: ``zenml.backends.orchestrator.lost``.)
    """
    if seconds is None:
        yield
    elif _can_use_alarm():
        with _alarm(seconds):
            yield
    else:
        with _injected(seconds):
            yield


def _can_use_alarm() -> bool:
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return False
    remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    return remaining == 0  # someone else's timer (e.g. pytest-timeout) would be lost


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        raise StepTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def _injected(seconds: float) -> Iterator[None]:
    target = threading.get_ident()
    lock = threading.Lock()
    state = {"active": True, "fired": False}

    def expire() -> None:
        with lock:
            if state["active"]:
                state["fired"] = True
                _set_async_exc(target, StepTimeout)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    finished = False
    try:
        yield
        finished = True
    finally:
        timer.cancel()
        with lock:
            state["active"] = False
            if state["fired"]:
                _set_async_exc(target, None)  # clear it if still pending, so it cannot fire later
    if finished and state["fired"]:
        raise StepTimeout  # the block ended after the deadline, before the injected exception landed


def _set_async_exc(thread_id: int, exception: type[BaseException] | None) -> None:
    exc = ctypes.py_object(exception) if exception is not None else None
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), exc)
