"""``${VAR}`` placeholders in configuration values, filled from the environment when the value is used."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from zenml.exceptions import ConfigError

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_variables(text: str, owner: str, environ: Mapping[str, str] | None = None) -> str:
    """``text`` with every ``${NAME}`` replaced by the environment variable ``NAME``.

    Args:
        text: the configured value, e.g. ``postgresql://zen:${PGPASSWORD}@db/zen``.
        owner: what holds the value, for the error (``stack 'team' metadata_store``).
        environ: where to read variables (default: ``os.environ``).

    Raises:
        ConfigError: a variable is not set; the message names it and ``owner``.
    """
    variables = os.environ if environ is None else environ

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            raise ConfigError(f"{owner} needs the environment variable {name}, which is not set; set it and try again")
        return variables[name]

    return PLACEHOLDER.sub(fill, text)


def expand_in(value: Any, owner: str, environ: Mapping[str, str] | None = None) -> Any:
    """``value`` with ``expand_variables`` applied to every string inside it (dicts and lists, at any depth)."""
    if isinstance(value, str):
        return expand_variables(value, owner, environ)
    if isinstance(value, dict):
        return {key: expand_in(item, f"{owner}.{key}", environ) for key, item in value.items()}
    if isinstance(value, list):
        return [expand_in(item, owner, environ) for item in value]
    return value


def fill_placeholders(text: str, stand_in: str = "placeholder") -> str:
    """``text`` with every ``${NAME}`` replaced by ``stand_in``: its shape, to check before the variables are set."""
    return PLACEHOLDER.sub(stand_in, text)
