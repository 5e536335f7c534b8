"""Keep frameworks' start-up noise (TensorFlow's C++ log, CUDA probes, Beam notices) off the terminal.

TensorFlow writes its start-up lines (absl's ``All log messages before absl::InitializeLog()``, the
oneDNN, ``cudart_stub`` and ``cpu_feature_guard`` notices, ``failed call to cuInit``) from C++
straight to file descriptor 2, partly before ``TF_CPP_MIN_LOG_LEVEL`` takes effect, so no
environment variable hides them all. zenml loads the frameworks it drives through
``import_tensorflow`` and ``import_beam``: while they load, descriptor 2 goes to a file, and
afterwards every line that is not known start-up noise is written back, in order. Nothing else
is hidden: Python warnings and TensorFlow's later messages still show. (What is held is written
back when loading ends; should the process die while loading, ``--verbose`` shows why.)

``ZEN_VERBOSE=1`` (set by ``zen --verbose``) shows everything, and so does a
``TF_CPP_MIN_LOG_LEVEL=0`` the user set: they asked for TensorFlow's full log.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from types import ModuleType
from typing import Any

VERBOSE_ENV = "ZEN_VERBOSE"
#: start-up lines that say nothing a user can act on (each alone on a line)
_NOISE = re.compile(
    r"^(?:"
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IW]\d{4} [\d:.]+ +\d+ \S+\.cc:\d+\] .*"  # C++ INFO/WARNING lines of the start-up (absl format)
    r"|E\d{4} [\d:.]+ +\d+ \S+\.cc:\d+\] .*(?:failed call to cuInit|Unable to register cu\w+ factory"
    r"|already been registered).*"
    r"|To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags\."
    r")\r?\n?$"
)
#: Beam logs these on the root logger when an optional Google Cloud library is absent
_BEAM_NOTICES = ("apitools not found",)


def verbose() -> bool:
    """Whether the user asked to see the frameworks' own start-up output."""
    return os.environ.get(VERBOSE_ENV) == "1" or os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0"


def set_verbose() -> None:
    """Show the frameworks' start-up output in this process and every process it starts."""
    os.environ[VERBOSE_ENV] = "1"


def is_noise(line: str) -> bool:
    """Whether ``line`` is framework start-up noise that the quiet mode drops."""
    return bool(_NOISE.match(line))


@contextlib.contextmanager
def start_up_output_filtered() -> Iterator[None]:
    """Hold what is written to descriptor 2 meanwhile; then write back all but the start-up noise."""
    if verbose():
        yield
        return
    with contextlib.ExitStack() as stack:
        try:
            if sys.stderr is not None:
                sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no descriptor 2, or a closed stderr: nothing to filter
            yield
            return
        stack.callback(os.close, saved)
        held = stack.enter_context(tempfile.TemporaryFile())
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            held.seek(0)
            _write_back(held.read().decode(errors="replace"))


def _write_back(text: str) -> None:
    kept = "".join(line for line in text.splitlines(keepends=True) if not is_noise(line))
    if not kept:
        return
    if sys.stderr is None:  # no Python-level stderr (pythonw): straight to the descriptor
        os.write(2, kept.encode())
        return
    sys.stderr.write(kept)
    sys.stderr.flush()


def import_quietly(module: str) -> ModuleType:
    """``importlib.import_module(module)``, its start-up noise dropped (the first import only)."""
    loaded = sys.modules.get(module)
    if loaded is not None:
        return loaded
    with start_up_output_filtered():
        return importlib.import_module(module)


def import_tensorflow() -> Any:
    """TensorFlow, imported and its GPUs probed with the start-up noise dropped.

    The CUDA probe (``failed call to cuInit`` on a machine without a GPU) runs when devices are
    first listed, so that happens here too, under the same filter.
    """
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    with start_up_output_filtered():
        tf: Any = importlib.import_module("tensorflow")
        tf.config.list_physical_devices("GPU")
    return tf


class _DropBeamNotices(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_BEAM_NOTICES)


def import_beam() -> ModuleType:
    """Apache Beam, without its notices about optional Google Cloud libraries (unless verbose)."""
    if "apache_beam" not in sys.modules and not verbose():
        root = logging.getLogger()
        if not any(isinstance(existing, _DropBeamNotices) for existing in root.filters):
            root.addFilter(_DropBeamNotices())
    return import_quietly("apache_beam")
