"""``zenml.utils.quiet``: the start-up filter drops known framework noise and keeps every other line.

The end-to-end check (a TensorFlow run on a terminal) is ``tests/cli/test_cli_quiet.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("ZEN_", "TF_CPP"))}
    return subprocess.run(
        [sys.executable, "-c", code], env={**environment, **(env or {})}, capture_output=True, text=True, check=False
    )


#: real lines TensorFlow 2.21 printed on this machine kind, and lines that must still show
START_UP = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "I0000 00:00:1796470048.729947   11599 port.cc:153] oneDNN custom operations are on. You may see slightly "
    "different numerical results due to floating-point round-off errors.\n"
    "I0000 00:00:1796470048.731303   11599 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will "
    "not be used.\n"
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the appropriate "
    "compiler flags.\n"
    "E0000 00:00:1796470051.364257   11599 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error\n"
    "E0000 00:00:1796470051.364257   11599 saver.cc:52] cannot write the checkpoint: disk full\n"
    "a line the user's own code wrote\n"
)
FILTERED = f"""
import os
from zenml.utils.quiet import start_up_output_filtered
with start_up_output_filtered():
    os.write(2, {START_UP.encode()!r})
"""


def test_the_filter_drops_start_up_lines_and_keeps_the_rest() -> None:
    quiet = _python(FILTERED)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr.splitlines() == [
        "E0000 00:00:1796470051.364257   11599 saver.cc:52] cannot write the checkpoint: disk full",
        "a line the user's own code wrote",
    ]
    assert _python(FILTERED, {"ZEN_VERBOSE": "1"}).stderr == START_UP
    assert _python(FILTERED, {"TF_CPP_MIN_LOG_LEVEL": "0"}).stderr == START_UP, "the user asked for TF's full log"


@pytest.mark.beam
def test_beam_loads_without_its_optional_dependency_notice() -> None:
    pytest.importorskip("apache_beam")
    load = "from zenml.utils.quiet import import_beam; import_beam(); import logging; logging.warning('mine')"
    quiet = _python(load)
    assert quiet.returncode == 0, quiet.stderr
    assert "apitools" not in quiet.stderr
    assert "WARNING:root:mine" in quiet.stderr, "only Beam's notice is dropped"
    assert "apitools not found" in _python(load, {"ZEN_VERBOSE": "1"}).stderr
