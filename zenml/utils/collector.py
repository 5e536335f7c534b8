"""Python's cycle collector around start-up: paused while ``zen`` starts, start-up's objects frozen before steps run."""

from __future__ import annotations

import atexit
import gc

#: ``paused``: whether ``pause_for_startup`` turned the collector off (and so ``resume`` may turn it on);
#: ``exit_freeze``: whether ``freeze_at_exit`` is registered; ``settled``: whether start-up's objects
#: were frozen (by ``resume`` or ``settle_startup``)
_state = {"paused": False, "exit_freeze": False, "settled": False}


def pause_for_startup() -> None:
    """Stop the cycle collector (a no-op if it is already off).

    Start-up (imports, the pipeline, the spec) creates a few hundred thousand objects that live
    until the process ends; the collections they trigger free nothing and cost ~35 ms of a 0.4 s
    ``zen run``. Only the ``zen`` console entry point calls this, for ``zen run`` and ``zen step``,
    and ``resume`` runs before the first step executes, so user code always runs with the
    collector on.
    """
    if gc.isenabled():
        gc.disable()
        _state["paused"] = True


def resume() -> None:
    """Turn the collector back on if ``pause_for_startup`` turned it off (never one the user turned off).

    What start-up created moves to the permanent generation first, so later full collections do
    not walk it again.
    """
    if _state["paused"]:
        _state["paused"] = False
        _state["settled"] = True
        gc.freeze()
        gc.enable()


def settle_startup() -> None:
    """Before a process's first run executes, move what exists to the permanent generation (once).

    For programs that run a pipeline without the ``zen`` command (a script calling
    ``pipeline.run()``): start-up (zenml's imports, the pipeline, the spec) leaves a few hundred
    thousand long-lived objects that every later collection walks again (~30 ms of collections in
    a 10-step run, and a full one now and then as steps go). Frozen objects are still freed when
    nothing refers to them; only cycles among them are never collected. A ``zen`` process was
    settled by ``resume`` already, and a collector the program turned off is left alone. Unlike
    ``zen``, nothing changes at exit: the program's own cycles are collected then as before.
    """
    if _state["paused"]:
        resume()
    elif not _state["settled"] and gc.isenabled():
        _state["settled"] = True
        gc.freeze()


def freeze_at_exit() -> None:
    """Skip the collector's passes over every live object when this process shuts down (registered once).

    Interpreter shutdown collects cycles over everything still alive: ~100 ms after a run has
    imported SQLAlchemy and pydantic, paid by whoever waits for the process to end (a ``zen``
    command's caller, a pool waiting for its workers). Freezing at exit skips that; objects still
    referenced are finalised as before, and zenml closes its stores and files itself.
    """
    if not _state["exit_freeze"]:
        _state["exit_freeze"] = True
        atexit.register(gc.freeze)


def is_settled() -> bool:
    """Whether this process's start-up objects were frozen (by ``resume`` or ``settle_startup``)."""
    return _state["settled"]


def set_settled(settled: bool) -> None:
    """Record whether start-up was settled; ``False`` lets the next run freeze again.

    For a process that gave its frozen objects back (``gc.unfreeze()``, as test suites do) and
    wants the next run to settle anew, and for restoring the state afterwards.
    """
    _state["settled"] = settled
