"""Helpers of the example tests: where the examples are, and what one ``zen examples run`` did."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ZEN = str(Path(sys.executable).parent / "zen")


@dataclass(frozen=True)
class ExampleRun:
    """What ``zen examples run NAME --dir folder`` did."""

    name: str
    folder: Path
    returncode: int
    stdout: str
    stderr: str

    def succeeded(self) -> Path:
        """The example's folder, after asserting the run succeeded."""
        assert self.returncode == 0, (
            f"{self.name} exited {self.returncode}:\n{self.stdout[-3000:]}\n{self.stderr[-3000:]}"
        )
        return self.folder
