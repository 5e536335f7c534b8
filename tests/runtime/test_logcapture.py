"""``capture_output``: each thread's prints and log records, kept apart and truncated at the front."""

from __future__ import annotations

import io
import logging
import sys
import threading

import pytest

from zenml.runtime import logcapture
from zenml.runtime.logcapture import capture_output


def test_prints_to_stdout_and_stderr_are_captured_and_still_shown(capsys: pytest.CaptureFixture[str]) -> None:
    with capture_output() as log:
        print("to stdout")
        print("to stderr", file=sys.stderr)
    text = log.text()
    assert "to stdout\n" in text and "to stderr\n" in text
    shown = capsys.readouterr()
    assert "to stdout" in shown.out and "to stderr" in shown.err


def test_streams_are_restored_afterwards() -> None:
    stdout, stderr = sys.stdout, sys.stderr
    with capture_output():
        assert sys.stdout is not stdout and sys.stderr is not stderr
    assert sys.stdout is stdout and sys.stderr is stderr


def test_streams_are_restored_when_the_block_raises() -> None:
    stdout, stderr = sys.stdout, sys.stderr
    handlers = list(logging.getLogger().handlers)
    with pytest.raises(RuntimeError), capture_output():
        raise RuntimeError("step failed")
    assert sys.stdout is stdout and sys.stderr is stderr
    assert logging.getLogger().handlers == handlers


def test_one_thread_capturing_twice_in_a_row_gets_separate_logs() -> None:
    stdout = sys.stdout
    with capture_output() as outer:
        print("outer")
    with capture_output() as again:
        print("again")
    assert sys.stdout is stdout
    assert outer.text() == "outer\n" and again.text() == "again\n"


def test_nothing_is_captured_after_the_block() -> None:
    with capture_output() as log:
        print("inside")
    print("outside")
    assert log.text() == "inside\n"


def test_log_records_are_captured_at_the_loggers_own_level() -> None:
    logger = logging.getLogger("zenml.tests.logcapture")
    logger.setLevel(logging.INFO)
    try:
        with capture_output() as log:
            logger.info("informative %d", 42)
            logger.debug("too detailed")
    finally:
        logger.setLevel(logging.NOTSET)
    text = log.text()
    assert "INFO zenml.tests.logcapture: informative 42" in text
    assert "too detailed" not in text


def test_two_threads_capturing_at_once_get_only_their_own_text() -> None:
    both_capturing = threading.Barrier(2, timeout=10)
    printed = threading.Barrier(2, timeout=10)
    texts: dict[str, str] = {}
    logger = logging.getLogger("zenml.tests.logcapture.threads")
    logger.setLevel(logging.INFO)

    def work(name: str) -> None:
        with capture_output() as log:
            both_capturing.wait()
            for number in range(50):
                print(f"{name} line {number}")
            logger.info("%s logged", name)
            printed.wait()  # neither capture ends before both printed everything
        texts[name] = log.text()

    threads = [threading.Thread(target=work, args=(name,)) for name in ("alpha", "beta")]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
    finally:
        logger.setLevel(logging.NOTSET)
    assert sorted(texts) == ["alpha", "beta"]
    for name, other in (("alpha", "beta"), ("beta", "alpha")):
        assert texts[name].count(f"{name} line ") == 50
        assert f"{name} line 49\n" in texts[name]
        assert f"{name} logged" in texts[name]
        assert other not in texts[name]


def test_a_thread_without_a_capture_is_not_recorded_in_another_threads_capture() -> None:
    def chatter() -> None:
        print("from an uncaptured thread")

    with capture_output() as log:
        thread = threading.Thread(target=chatter)
        thread.start()
        thread.join(10)
        print("mine")
    assert log.text() == "mine\n"


def test_long_output_keeps_the_end_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logcapture, "MAX_LOG_CHARS", 100)
    with capture_output() as log:
        for number in range(100):
            print(f"line {number:03d}")  # 9 characters each: 900 in all
    text = log.text()
    note, _, kept = text.partition("\n")
    assert note == "[... 800 earlier characters dropped ...]"
    assert len(kept) == 100
    assert kept.endswith("line 099\n")
    assert "line 000" not in text
    assert log.text() == text  # reading again neither drops more nor changes the note


def test_short_output_has_no_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logcapture, "MAX_LOG_CHARS", 100)
    with capture_output() as log:
        print("x" * 99)  # 100 characters with the newline: exactly the limit
    assert log.text() == "x" * 99 + "\n"


def test_a_nested_capture_leaves_the_outer_one_open() -> None:
    stdout = sys.stdout
    with capture_output() as outer:
        print("before")
        with capture_output() as inner:
            print("inner")
        print("after")
    assert outer.text() == "before\ninner\nafter\n"
    assert inner.text() == "inner\n"
    assert sys.stdout is stdout  # both captures undone


@pytest.mark.timeout(10)  # it used to loop for ever
def test_a_rich_live_display_and_a_capture_do_not_feed_each_other(monkeypatch: pytest.MonkeyPatch) -> None:
    # ``zen run`` on a terminal: Rich's live display stands in for sys.stdout, the capture wraps it,
    # and a console with no file of its own writes wherever sys.stdout leads (Rich unwraps its stand-in)
    from rich.console import Console
    from rich.live import Live

    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stdout", terminal)
    console = Console(force_terminal=True, width=80)
    with Live("the table", console=console, auto_refresh=False), capture_output() as log:
        print("printed by a step")
    assert log.text() == "printed by a step\n"  # once, not the console's echo of it as well
    assert "printed by a step" in terminal.getvalue()
    assert sys.stdout is terminal


def test_the_capture_is_no_stand_in_for_rich_on_a_plain_stream() -> None:
    with capture_output():
        assert not hasattr(sys.stdout, "rich_proxied_file")  # a console writes through it, and is captured
