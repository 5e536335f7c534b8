"""``deadline``: a step attempt past its timeout is stopped by SIGALRM (main thread) or an injected exception."""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType

import pytest

from zenml.runtime.deadline import StepTimeout, deadline


def _in_thread(target: object) -> dict[str, object]:
    """Run ``target`` in a fresh thread; return what it stored in the shared dict."""
    result: dict[str, object] = {}
    thread = threading.Thread(target=target, args=(result,), daemon=True)  # type: ignore[arg-type]
    thread.start()
    thread.join(20)
    assert not thread.is_alive(), "the thread was never stopped"
    return result


def test_step_timeout_is_not_an_exception() -> None:
    assert issubclass(StepTimeout, BaseException)
    assert not issubclass(StepTimeout, Exception)


def test_main_thread_blocking_sleep_is_interrupted_by_the_alarm() -> None:
    assert threading.current_thread() is threading.main_thread()
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0  # pytest-timeout uses a thread, SIGALRM is free
    began = time.monotonic()
    with pytest.raises(StepTimeout), deadline(0.3):
        time.sleep(30)
    elapsed = time.monotonic() - began
    assert 0.2 < elapsed < 10
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0  # the timer is disarmed afterwards


def test_previous_sigalrm_handler_is_restored() -> None:
    calls: list[int] = []

    def mine(signum: int, frame: FrameType | None) -> None:
        del frame
        calls.append(signum)

    previous = signal.signal(signal.SIGALRM, mine)
    try:
        with pytest.raises(StepTimeout), deadline(0.2):
            time.sleep(30)
        assert signal.getsignal(signal.SIGALRM) is mine
        with deadline(5):
            pass
        assert signal.getsignal(signal.SIGALRM) is mine
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        time.sleep(0.5)
        assert calls == [signal.SIGALRM]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_an_armed_timer_of_someone_else_is_left_alone() -> None:
    """With another ITIMER_REAL armed the deadline injects instead, and the other timer survives."""
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    signal.setitimer(signal.ITIMER_REAL, 60)
    try:
        began = time.monotonic()
        with pytest.raises(StepTimeout), deadline(0.3):
            while time.monotonic() - began < 30:
                time.sleep(0.01)
        assert time.monotonic() - began < 10
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0 < remaining <= 60  # not disarmed nor replaced
        assert signal.getsignal(signal.SIGALRM) is not signal.SIG_DFL
        assert fired == []
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_worker_thread_busy_loop_is_stopped_by_an_injected_exception() -> None:
    def work(result: dict[str, object]) -> None:
        began = time.monotonic()
        iterations = 0
        try:
            with deadline(0.3):
                while time.monotonic() - began < 30:
                    time.sleep(0.01)
                    iterations += 1
        except StepTimeout:
            result["stopped_after"] = time.monotonic() - began
        result["iterations"] = iterations

    result = _in_thread(work)
    assert "stopped_after" in result, result
    assert 0.2 < result["stopped_after"] < 10  # type: ignore[operator]
    assert result["iterations"] > 0  # type: ignore[operator]


def test_worker_thread_does_not_touch_sigalrm() -> None:
    before = signal.getsignal(signal.SIGALRM)

    def work(result: dict[str, object]) -> None:
        try:
            with deadline(0.2):
                for _ in range(3000):
                    time.sleep(0.01)
        except StepTimeout:
            result["timed_out"] = True

    assert _in_thread(work) == {"timed_out": True}
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0


def test_main_thread_block_finishing_in_time_raises_nothing_now_or_later() -> None:
    with deadline(0.3):
        value = sum(range(1000))
    assert value == 499500
    time.sleep(0.6)  # past the deadline: nothing may fire now
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0


def test_worker_thread_block_finishing_in_time_raises_nothing_now_or_later() -> None:
    def work(result: dict[str, object]) -> None:
        try:
            with deadline(0.3):
                time.sleep(0.01)
            for _ in range(60):  # 0.6 s of Python instructions past the deadline
                time.sleep(0.01)
            result["finished"] = True
        except StepTimeout:
            result["late"] = True

    assert _in_thread(work) == {"finished": True}


def test_except_exception_in_the_block_does_not_swallow_the_timeout() -> None:
    swallowed: list[BaseException] = []
    began = time.monotonic()
    with pytest.raises(StepTimeout), deadline(0.3):
        while time.monotonic() - began < 30:
            try:
                time.sleep(30)
            except Exception as exc:  # noqa: BLE001 -- exactly what a careless step does
                swallowed.append(exc)
    assert swallowed == []
    assert time.monotonic() - began < 10


def test_except_exception_in_a_worker_thread_does_not_swallow_the_timeout() -> None:
    def work(result: dict[str, object]) -> None:
        began = time.monotonic()
        swallowed = 0
        try:
            with deadline(0.3):
                while time.monotonic() - began < 30:
                    try:
                        time.sleep(0.01)
                    except Exception:  # noqa: BLE001
                        swallowed += 1
        except StepTimeout:
            result["stopped_after"] = time.monotonic() - began
        result["swallowed"] = swallowed

    result = _in_thread(work)
    assert result["swallowed"] == 0
    assert result["stopped_after"] < 10  # type: ignore[operator]


def test_none_is_no_deadline() -> None:
    before = signal.getsignal(signal.SIGALRM)
    with deadline(None):
        assert signal.getsignal(signal.SIGALRM) is before
        assert signal.getitimer(signal.ITIMER_REAL)[0] == 0
        time.sleep(0.2)
    assert signal.getsignal(signal.SIGALRM) is before


def test_an_exception_of_the_block_passes_through_and_disarms() -> None:
    with pytest.raises(KeyError), deadline(0.3):
        raise KeyError("own error")
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0
    time.sleep(0.5)  # the alarm must not fire afterwards
