"""The data-pipeline example computes on Beam and on Spark what it computed locally: the same rows and values."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from example_helpers import ExampleRun

pytestmark = [pytest.mark.beam, pytest.mark.spark]


@pytest.mark.timeout(600)
def test_local_beam_and_spark_runs_give_the_same_data(example_run: Callable[[str], ExampleRun]) -> None:
    pytest.importorskip("apache_beam", reason="the Beam run needs the beam extra")
    pytest.importorskip("pyspark", reason="the Spark run needs the spark extra")
    from zenml.repository import Repository

    work = example_run("data_pipeline").succeeded()
    local_run, beam_run, spark_run = reversed(Repository(work).runs(pipeline="patients"))
    names = [run.spec.backends.processing.name for run in (local_run, beam_run, spark_run)]
    assert names == ["local", "beam", "spark"]
    for run in (beam_run, spark_run):
        assert {step.status for step in run.steps.values()} == {"completed"}, "computed again, not cached"
        for split in ("train", "eval", "test"):
            local = local_run.steps["preprocessor"].outputs["data"].read().to_pandas(split)
            other = run.steps["preprocessor"].outputs["data"].read().to_pandas(split)
            columns = list(local.columns)
            local = local.sort_values(columns).reset_index(drop=True)
            other = other.sort_values(columns).reset_index(drop=True)
            assert len(local) == len(other) > 0
            assert ((local - other).abs().to_numpy() < 1e-9).all()
