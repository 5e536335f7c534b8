"""The installed distributions' entry points, scanned once per process and shared by every plugin lookup."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    # importlib.metadata pulls in email, zipfile and csv (~9 ms): imported only when a lookup scans
    import importlib.metadata


class _Selectable(Protocol):
    # what Python 3.11's SelectableGroups and 3.12's EntryPoints (entry_points() without arguments) share
    def select(self, *, group: str) -> importlib.metadata.EntryPoints: ...


@cache
def _installed_entry_points() -> _Selectable:
    # one scan of every distribution's metadata (~5 ms with a few hundred installed); the registry,
    # the step catalog and the trust check each used to repeat it
    import importlib.metadata

    return importlib.metadata.entry_points()


def entry_points(group: str) -> tuple[importlib.metadata.EntryPoint, ...]:
    """The entry points registered under ``group`` (packages installed after the first call are not seen)."""
    return tuple(_installed_entry_points().select(group=group))
