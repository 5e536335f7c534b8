"""Content digests of Python values a step can observe (constants, configs, class attributes).

A value is digested by what it holds, walked the way ``pickle`` walks it (``copyreg``'s dispatch
table, then ``__reduce_ex__``), so numbers, strings, containers, NumPy arrays, dataclasses,
pydantic models and any object that can be pickled get a digest that is the same in every process
and changes when anything inside changes. Code met inside a value (a function, class or module) is
handed to a callback, which fingerprints project code by its source and names everything else.
A value that cannot be walked (an open file, a lock, a generator, a socket) raises ``Unhashable``.
"""

from __future__ import annotations

import copyreg
import hashlib
import logging
import sys
import types
from collections.abc import Callable
from typing import Any

from zenml.utils.importing import module_name_of
from zenml.utils.text import with_article

#: leaves written as their type and ``repr`` (exact types only: subclasses go through reduce)
_SCALARS = (type(None), bool, int, float, complex, str)
#: what a value's code callback is given; anything else is data
CODE_TYPES = (types.ModuleType, type, types.FunctionType)


class Unhashable(Exception):
    """A value holds something with no content to hash; ``str(error)`` says what (``holds a … that …``)."""


def value_digest(value: Any, code_token: Callable[[Any], str]) -> str:
    """The sha256 of ``value``'s content; ``code_token`` names (and fingerprints) code found inside.

    Raises:
        Unhashable: the value, or something it holds, cannot be hashed.
    """
    hasher = _ValueHasher(code_token)
    try:
        hasher.feed(value)
    except Unhashable:
        raise
    except RecursionError as exc:
        raise Unhashable("is nested too deeply to hash") from exc
    except Exception as exc:  # a user object whose walk fails (a proxy raising on attribute access)
        # the step is then run uncached and the reason shown; hashing must never fail the run itself
        raise Unhashable(f"could not be hashed ({type(exc).__name__}: {exc})") from exc
    return hasher.hexdigest()


class _ValueHasher:
    def __init__(self, code_token: Callable[[Any], str]) -> None:
        self._code_token = code_token
        self._hash = hashlib.sha256()
        self._memo: dict[int, int] = {}  # id → order of first visit: shared and cyclic references
        # objects built by __reduce_ex__ are kept alive so that their ids are not reused mid-walk
        self._keep: list[Any] = []

    def hexdigest(self) -> str:
        return self._hash.hexdigest()

    def _write(self, tag: str, payload: bytes = b"") -> None:
        self._hash.update(f"{tag}:{len(payload)}:".encode())
        self._hash.update(payload)

    def feed(self, value: Any) -> None:
        kind = type(value)
        if kind in _SCALARS:
            self._write(kind.__name__, repr(value).encode("utf-8", "surrogatepass"))
            return
        if id(value) in self._memo:
            self._write("ref", str(self._memo[id(value)]).encode())
            return
        self._memo[id(value)] = len(self._memo)
        self._keep.append(value)
        if isinstance(value, CODE_TYPES):
            self._write("code", self._code_token(value).encode())
        elif kind in (bytes, bytearray):
            self._write(kind.__name__, bytes(value))
        elif kind in (list, tuple):
            self._items(kind.__name__, value)
        elif kind in (dict, types.MappingProxyType):
            self._items("dict", [item for pair in value.items() for item in pair])
        elif kind in (set, frozenset):
            self._unordered(kind.__name__, value)
        elif isinstance(value, (logging.Logger, logging.LoggerAdapter)):
            # where messages go, not data a result depends on; its name differs between
            # ``python flow.py`` (``__main__``) and ``zen run flow.py:p`` (``flow``)
            self._write("logger")
        elif not self._array(value):
            self._reduced(value)

    def _items(self, tag: str, items: Any) -> None:
        self._write(tag, str(len(items)).encode())
        for item in items:
            self.feed(item)

    def _unordered(self, tag: str, items: Any) -> None:
        # iteration order of a set of strings changes with each process's hash seed: sort the digests
        digests = sorted(value_digest(item, self._code_token) for item in items)
        self._write(tag, "".join(digests).encode())

    def _array(self, value: Any) -> bool:
        numpy = sys.modules.get("numpy")  # never imported here: a value can only be an array if it is
        if numpy is None or type(value) is not numpy.ndarray:
            return False
        if value.dtype.hasobject:
            self._write("ndarray-objects", repr(value.shape).encode())
            self.feed(value.tolist())
            return True
        self._write("ndarray", repr((value.dtype.descr, value.shape)).encode())
        self._hash.update(memoryview(numpy.ascontiguousarray(value)).cast("B"))
        return True

    def _reduced(self, value: Any) -> None:
        """Walk what pickling would store: the constructor, its arguments and the object's state."""
        kind = type(value)
        wrapped = getattr(value, "__wrapped__", None)
        if isinstance(wrapped, CODE_TYPES):  # @lru_cache and the like pickle by name: hash the code they wrap
            self._write("wraps", self._code_token(wrapped).encode())
        reducer = copyreg.dispatch_table.get(kind)
        try:
            reduced = reducer(value) if reducer is not None else value.__reduce_ex__(4)
        except Exception as exc:  # any refusal means "no content to hash"; the reason is reported
            raise Unhashable(
                f"holds {with_article(kind.__module__)}.{kind.__qualname__} that cannot be hashed ({exc})"
            ) from exc
        if isinstance(reduced, str):  # a module-level singleton, pickled by its name
            module = getattr(value, "__module__", None)
            module = module_name_of(value) if isinstance(module, str) else kind.__module__
            self._write("global", f"{module}.{reduced}".encode())
            return
        parts = [list(part) if index in (3, 4) and part is not None else part for index, part in enumerate(reduced)]
        self._keep.append(parts)
        self._items("reduce", parts)
