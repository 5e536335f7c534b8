"""Names zenml gives and accepts: the repository's private folder and the rule for step, pipeline and stack names."""

from __future__ import annotations

import re

from zenml.exceptions import ConfigError

#: the repository's private folder (config, stores, locks), at the project root
ZEN_DIR = ".zen"
#: step, pipeline and stack names; they become folder and file names, so nothing that climbs out
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,99}$")
#: run ids, which name spec files and artifact folders
RUN_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]{0,199}$")


def check_name(name: str, what: str) -> str:
    """Return ``name`` if it is a safe identifier-like name, else raise ``ConfigError``.

    Args:
        name: the name to check.
        what: what it names (``"step"``, ``"pipeline"``, ``"stack"``), for the message.

    Returns:
        ``name`` unchanged.

    Raises:
        ConfigError: the name holds anything but letters, digits, '_' and '-', or is too long.
    """
    if not isinstance(name, str) or not NAME.match(name):
        raise ConfigError(
            f"{what} name {name!r} is not allowed; use letters, digits, '_' or '-' "
            "(starting with a letter or '_', at most 100 characters)"
        )
    return name
