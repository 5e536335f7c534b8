"""Words in messages: articles, counted nouns and metric values, and the messages that use them."""

from __future__ import annotations

import pytest

from zenml.exceptions import ConfigError
from zenml.utils.jsonable import find_non_jsonable
from zenml.utils.text import article, metric_text, plural, with_article


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("int", "an"),
        ("orchestrator", "an"),
        ("evaluator", "an"),
        ("float", "a"),
        ("str", "a"),
        ("processing", "a"),
        ("unique", "a"),
        ("hour", "an"),
        ("", "a"),
    ],
)
def test_article(word: str, expected: str) -> None:
    assert article(word) == expected


def test_plural() -> None:
    assert [plural(n, "step") for n in (0, 1, 2)] == ["0 steps", "1 step", "2 steps"]
    assert plural(1, "class", "classes") == "1 class" and plural(3, "class", "classes") == "3 classes"


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (2.0, 6, "2.0"),
        (2, 6, "2"),
        (0.9616428, 4, "0.9616"),
        (0.97094, 6, "0.97094"),
        (1e20, 6, "1e+20"),
        (float("inf"), 6, "inf"),
        (None, 6, "-"),
    ],
)
def test_metric_text_keeps_a_float_a_float(value: float | None, digits: int, expected: str) -> None:
    assert metric_text(value, digits) == expected


def test_messages_say_an_int_and_an_orchestrator() -> None:
    assert find_non_jsonable(object()) == "value is an object"
    assert with_article("orchestrator") == "an orchestrator"
    from zenml.backends.processing import LocalProcessing
    from zenml.engine import backend_spec
    from zenml.stack import Stack

    with pytest.raises(ConfigError, match="LocalProcessing is not an orchestrator backend"):
        backend_spec("orchestrator", LocalProcessing(), Stack(name="default"), None)


def test_a_second_evaluator_is_refused_with_an_article_that_fits() -> None:
    from zenml.pipelines import SimplePipeline
    from zenml.steps.evaluator import ClassificationEvaluator

    pipeline = SimplePipeline(name="p").add_evaluator(ClassificationEvaluator())
    with pytest.raises(Exception, match="already has an evaluator"):
        pipeline.add_evaluator(ClassificationEvaluator())
