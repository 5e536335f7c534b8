"""Every example runs at most once per test session, as a user runs it: ``zen examples run NAME --dir …``.

The parametrized test in ``test_examples.py`` checks each run's exit code and printed lines; the
deeper tests (``test_trainer_examples.py``, ``test_data_pipeline_example.py``) inspect the same runs'
repositories instead of running the examples again.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator

import pytest
from example_helpers import ZEN, ExampleRun


@pytest.fixture(scope="session")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], ExampleRun]:
    """``example_run(name)``: run the example once (the first caller pays), then return that run."""
    done: dict[str, ExampleRun] = {}

    def run(name: str) -> ExampleRun:
        if name not in done:
            folder = tmp_path_factory.mktemp("example") / name
            result = subprocess.run(
                [ZEN, "examples", "run", name, "--dir", str(folder)],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=560,
                check=False,
            )
            done[name] = ExampleRun(name, folder, result.returncode, result.stdout, result.stderr)
        return done[name]

    return run


@pytest.fixture(autouse=True)
def closed_stores() -> Iterator[None]:
    """Tests read the examples' repositories in this process; no test leaves their databases open."""
    yield
    from zenml.repository import close_stores

    close_stores()
