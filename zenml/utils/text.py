"""Words in messages: the article before a noun, a counted noun, and a metric value as text.

One helper per rule, so no message says "a orchestrator", "1 steps" or shows a float metric as an int.
"""

from __future__ import annotations

import math

# Words whose first letter is a vowel but whose sound is not (and the reverse), as they occur in
# zenml's messages: type names, backend kinds, tasks.
_CONSONANT_SOUND = ("uni", "use", "usa", "one", "eu", "uri", "url")
_VOWEL_SOUND = ("hour", "honest")


def article(word: str) -> str:
    """``"an"`` or ``"a"``, as said before ``word`` (``an int``, ``an orchestrator``, ``a str``).

    Examples:
        >>> article("int"), article("orchestrator"), article("float"), article("unique")
        ('an', 'an', 'a', 'a')
    """
    lowered = word.strip().lower()
    if not lowered:
        return "a"
    if lowered.startswith(_VOWEL_SOUND):
        return "an"
    if lowered.startswith(_CONSONANT_SOUND):
        return "a"
    return "an" if lowered[0] in "aeiou" else "a"


def with_article(word: str) -> str:
    """``word`` after its article: ``with_article("int") == "an int"``."""
    return f"{article(word)} {word}"


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``1 step``, ``2 steps``, ``0 steps`` (``many``: the plural when it is not ``noun + "s"``).

    Examples:
        >>> plural(1, "step"), plural(3, "step"), plural(2, "class", "classes")
        ('1 step', '3 steps', '2 classes')
    """
    return f"{count} {noun if count == 1 else (many or noun + 's')}"


def metric_text(value: float | None, digits: int = 6) -> str:
    """A metric as it was logged, to ``digits`` significant digits; ``-`` when missing.

    A float keeps its decimal point (a metric logged as ``2.0`` shows ``2.0``, not ``2``, so a
    float and an int never look alike); an int shows as an int.

    Examples:
        >>> metric_text(2.0), metric_text(2), metric_text(0.961643, 4), metric_text(None)
        ('2.0', '2', '0.9616', '-')
    """
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return "-"
    if isinstance(value, int):
        return str(value)
    text = f"{value:.{digits}g}"
    if math.isfinite(value) and not any(mark in text for mark in ".e"):
        text += ".0"
    return text


def seconds(value: float | None) -> str:
    """A duration as SI text, as the docs and reports write it: ``0.12 s``, ``3 min 05 s``; ``-`` when missing.

    Examples:
        >>> seconds(0.123), seconds(185.4), seconds(None)
        ('0.12 s', '3 min 05 s', '-')
    """
    if value is None:
        return "-"
    if value < 60:
        return f"{value:.2f} s"
    minutes, rest = divmod(round(value), 60)
    return f"{minutes} min {rest:02d} s"
