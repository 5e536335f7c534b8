"""The one YAML reader: plain data only, anchors and aliases refused before anything expands them."""

from __future__ import annotations

import pytest
import yaml

from zenml.utils.plainyaml import AliasError, PlainDumper, composes, load_yaml


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("a: &x 1\nb: 2\n", 1, 4),  # an anchor, even one nothing refers to
        ("base: &b {k: 1}\nother:\n  <<: *b\n", 1, 7),  # a merge key reads an alias
        ("- 1\n- [&l [lol, lol], *l, *l]\n", 2, 4),
        ("top:\n  list: [1, 2]\n  again: *undefined\n", 3, 10),  # refused before "undefined" is noticed
    ],
)
def test_anchors_and_aliases_are_refused_where_they_are(text: str, line: int, column: int) -> None:
    with pytest.raises(AliasError, match="anchors and aliases") as refused:
        load_yaml(text)
    mark = refused.value.problem_mark
    assert mark is not None
    assert (mark.line + 1, mark.column + 1) == (line, column)
    assert isinstance(refused.value, yaml.YAMLError)  # callers that report YAML errors report this one too


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("url: http://h/x?a=1&b=2\n", {"url": "http://h/x?a=1&b=2"}),
        ("glob: '*.csv'\nwho: R&D\n", {"glob": "*.csv", "who": "R&D"}),
        ("expr: 2 * 3\n", {"expr": "2 * 3"}),
        ("plain: [1, 2.5, true, null]\n", {"plain": [1, 2.5, True, None]}),
    ],
)
def test_ampersands_and_stars_inside_values_are_data(text: str, value: object) -> None:
    assert load_yaml(text) == value


def test_composes_tells_yaml_with_aliases_from_text_that_only_looks_like_it() -> None:
    assert composes("[&a [1, 2], *a]")
    assert not composes("*.csv")  # an alias to an anchor that does not exist: not YAML, just text


def test_the_plain_dumper_writes_shared_values_in_full() -> None:
    shared = [1, 2]
    text = yaml.dump({"a": shared, "b": shared}, Dumper=PlainDumper)
    assert "&" not in text and "*" not in text
    assert load_yaml(text) == {"a": [1, 2], "b": [1, 2]}
