"""What a database error means for the user: the fault (a full disk, a damaged file) and the fix, in one line."""

from __future__ import annotations

from typing import Any

# SQLite's primary result codes (an extended code carries one in its low byte)
_DAMAGED = (
    "the file is damaged or is not a zenml database; restore it from a backup, or move it away and run "
    "'zen init' to start an empty one"
)
_DISK_FULL = "free space on the disk that holds it"
_SQLITE_ADVICE = {
    8: "make the file and its folder writable",  # SQLITE_READONLY
    11: _DAMAGED,  # SQLITE_CORRUPT
    13: _DISK_FULL,  # SQLITE_FULL
    14: "check that its folder exists and is writable",  # SQLITE_CANTOPEN
    26: _DAMAGED,  # SQLITE_NOTADB
}
_POSTGRES_DISK_FULL = "53100"
_MYSQL_DISK_FULL = (1021, 1114)  # ER_DISK_FULL, ER_RECORD_FILE_FULL ("the table is full")


def storage_advice(error: Any) -> str | None:
    """For a driver error (a DBAPI exception) caused by the database's storage, what to do; else ``None``.

    A file store's faults (SQLite: full, read-only, damaged, not a database) need advice about the
    file, never "check that the server is running"; a server's full disk is named too.
    """
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int):
        return _SQLITE_ADVICE.get(code & 0xFF)
    if getattr(error, "sqlstate", None) == _POSTGRES_DISK_FULL:
        return _DISK_FULL
    args = getattr(error, "args", ())
    if args and args[0] in _MYSQL_DISK_FULL:
        return _DISK_FULL
    return None


def first_line(error: BaseException) -> str:
    """The first line of a driver error's message (drivers append SQL and links), or its type."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
