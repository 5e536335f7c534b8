"""The Beam-processing example computes on Beam what it computed locally: the same rows, splits and values."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from example_helpers import ExampleRun

pytestmark = pytest.mark.beam


@pytest.mark.timeout(600)
def test_local_and_beam_runs_give_the_same_data(example_run: Callable[[str], ExampleRun]) -> None:
    pytest.importorskip("apache_beam", reason="the Beam half needs the beam extra")
    from zenml.repository import Repository

    work = example_run("data_pipeline").succeeded()
    local_run, beam_run = reversed(Repository(work).runs(pipeline="patients"))
    assert (local_run.spec.backends.processing.name, beam_run.spec.backends.processing.name) == ("local", "beam")
    assert {step.status for step in beam_run.steps.values()} == {"completed"}, "computed on Beam, not cached"
    for split in ("train", "eval", "test"):
        local = local_run.steps["preprocessor"].outputs["data"].read().to_pandas(split)
        on_beam = beam_run.steps["preprocessor"].outputs["data"].read().to_pandas(split)
        columns = list(local.columns)
        local = local.sort_values(columns).reset_index(drop=True)
        on_beam = on_beam.sort_values(columns).reset_index(drop=True)
        assert len(local) == len(on_beam) > 0
        assert ((local - on_beam).abs().to_numpy() < 1e-9).all()
