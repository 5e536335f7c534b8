"""The exception family's shared text helpers: short quotes of bad values, bounded and redacted messages."""

from __future__ import annotations

import pytest

from zenml.exceptions import MESSAGE_LIMIT, QUOTE_LIMIT, ConfigError, StepError, excerpt, redact_urls_in_text


def test_excerpt_quotes_short_values_whole() -> None:
    assert excerpt("high") == "'high'"
    assert excerpt([1, "a"]) == "[1, 'a']"
    assert excerpt(None) == "None"


def test_excerpt_cuts_a_long_string_and_gives_its_length() -> None:
    quoted = excerpt("x" * 8_000_000)
    assert quoted == repr("x" * QUOTE_LIMIT) + "… (8000000 characters)"


def test_excerpt_never_walks_a_huge_or_shared_container() -> None:
    level = ["lol"] * 9
    for _ in range(9):  # 9**10 items if walked as a tree
        level = [level] * 9
    quoted = excerpt(level)
    assert len(quoted) <= QUOTE_LIMIT + 1
    assert excerpt(list(range(1_000_000))).startswith("[0, 1, 2")


def test_messages_keep_their_head_and_tail_but_not_megabytes() -> None:
    error = ConfigError("bad value " + "v" * 8_000_000 + " in spec.yaml; fix it")
    message = str(error)
    assert len(message) < MESSAGE_LIMIT + 100
    assert message.startswith("bad value vvv") and message.endswith(" in spec.yaml; fix it")
    assert "characters cut" in message
    step = StepError("load", "ValueError", "w" * 1_000_000)
    assert len(str(step)) < MESSAGE_LIMIT + 100
    assert step.error_message == "w" * 1_000_000  # the record keeps what the step raised


@pytest.mark.timeout(60)
def test_redaction_takes_linear_time_on_long_words() -> None:
    # the old pattern retried at every letter of a word: 44 s for 160 kB, hours for a megabyte
    for text in ("x" * 2_000_000, "a://b:" * 300_000, "x1" * 1_000_000):
        assert redact_urls_in_text(text) == text
    assert str(ConfigError("db " + "x" * 1_000_000 + " mysql://u:pw@h/db")).endswith("mysql://u:***@h/db")
