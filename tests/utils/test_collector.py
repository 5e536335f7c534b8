"""The cycle collector pause of ``zen`` start-up: resumed only when start-up paused it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from zenml.utils import collector


@pytest.fixture(autouse=True)
def _restore_collector() -> Iterator[None]:
    was_enabled = gc.isenabled()
    settled = collector.is_settled()
    yield
    collector.resume()
    collector.set_settled(settled)
    gc.unfreeze()  # give the test process's objects back to the collector
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


def test_pause_then_resume_turns_the_collector_back_on() -> None:
    gc.enable()
    collector.pause_for_startup()
    assert not gc.isenabled()
    collector.resume()
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0  # start-up's objects are skipped by later collections


def test_resume_never_turns_on_a_collector_the_program_turned_off() -> None:
    gc.disable()
    collector.pause_for_startup()  # already off: nothing to resume later
    collector.resume()
    assert not gc.isenabled()


def test_resume_without_a_pause_changes_nothing() -> None:
    gc.enable()
    frozen = gc.get_freeze_count()
    collector.resume()
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_settle_startup_freezes_once_without_a_pause() -> None:
    gc.enable()
    gc.unfreeze()
    collector.set_settled(False)
    collector.settle_startup()
    frozen = gc.get_freeze_count()
    assert frozen > 0 and gc.isenabled()
    gc.unfreeze()
    collector.settle_startup()  # a second run in the same process freezes nothing more
    assert gc.get_freeze_count() == 0


def test_settle_startup_leaves_a_collector_the_program_turned_off() -> None:
    gc.disable()
    gc.unfreeze()
    collector.set_settled(False)
    collector.settle_startup()
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_settle_startup_after_a_pause_resumes_as_resume_does() -> None:
    gc.enable()
    collector.pause_for_startup()
    collector.settle_startup()
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0


def test_freeze_at_exit_freezes_once_when_the_process_ends() -> None:
    import subprocess
    import sys

    program = (
        "import atexit, gc\n"
        "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count() > 0))\n"  # runs last (LIFO)
        "from zenml.utils import collector\n"
        "before = atexit._ncallbacks()\n"
        "collector.freeze_at_exit(); collector.freeze_at_exit()\n"
        "print('registered:', atexit._ncallbacks() - before)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split("\n")[:2] == ["registered: 1", "frozen at exit: True"]
