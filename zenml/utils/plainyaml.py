"""The one YAML reader of zenml: safe tags only, and no anchors or aliases (a "billion laughs" costs nothing).

Specs, ``.zen/config.yaml`` and ``--param`` values are plain data. PyYAML's safe loader builds no
objects, but it does expand aliases: 300 bytes of nested ``*a`` references make millions of
list items once validated, dumped or hashed (a 1.3 kB spec took 62 s and 2.1 GB). Nothing
zenml writes uses them, so every reader refuses them before anything is built.
"""

from __future__ import annotations

from typing import Any

import yaml

# libyaml's C parser when PyYAML was built with it (the wheels are): same documents, ~10x faster
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

ALIASES_REFUSED = "YAML anchors and aliases (&name, *name) are not allowed; write the value out in full"


class AliasError(yaml.MarkedYAMLError):
    """A document uses an anchor or an alias; ``problem_mark`` says where the first one is."""


def load_yaml(text: str) -> Any:
    """Parse one YAML document of plain data: safe tags only, anchors and aliases refused.

    Raises:
        AliasError: the document has an anchor (``&name``) or an alias (``*name``).
        yaml.YAMLError: the text is not YAML.
    """
    if "&" in text or "*" in text:  # neither can occur without one of these characters
        _refuse_aliases(text)
    return yaml.load(text, Loader=SAFE_LOADER)


def composes(text: str) -> bool:
    """Whether ``text`` is a YAML document, aliases resolved but not expanded (``*.csv`` is not: no anchor ``.csv``)."""
    try:
        yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.YAMLError:
        return False
    return True


def _refuse_aliases(text: str) -> None:
    """Scan the document's events (cheap: aliases are not expanded at this level) for the first anchor or alias."""
    for event in yaml.parse(text, Loader=SAFE_LOADER):
        if getattr(event, "anchor", None) is not None:
            mark = event.start_mark  # from libyaml: a mark of its own type, with the fields of yaml.error.Mark
            raise AliasError(problem=ALIASES_REFUSED, problem_mark=mark)  # type: ignore[arg-type]


class PlainDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """The safe dumper (C-accelerated where available) that never writes an anchor: what zenml writes, it reads."""

    def ignore_aliases(self, data: Any) -> bool:
        """Write a value shared by two places in full, twice."""
        del data
        return True
