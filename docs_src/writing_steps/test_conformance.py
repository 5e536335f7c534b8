"""Tests for the guide's steps: the conformance kit plus plain unit tests of ``process``."""

from steps import EveryNthSplit, fit_mean, numbers

from zenml import StepContext
from zenml.testing import check_step, parametrize_with_checks


@parametrize_with_checks([EveryNthSplit(), EveryNthSplit(every=2, label="halves"), numbers, fit_mean])
def test_step_contract(step, check):
    """One test per (step, check): parameters, clone, to_config/from_config, YAML round trip, ..."""
    check(step)


def test_check_step_in_one_call():
    """``check_step`` runs every check and names the first one that fails."""
    check_step(EveryNthSplit(every=3))


def test_process_directly():
    """``process`` is a plain method: call it with inputs (and a context if it takes one)."""
    context = StepContext(step_name="split", run_id="test", pipeline_name="test")
    result = EveryNthSplit(every=2).process(values=[0.0, 1.0, 2.0, 3.0], context=context)
    assert result.test == [0.0, 2.0]
    assert result.train == [1.0, 3.0]
    assert context.metrics == {"test_fraction": 0.5}
    assert fit_mean.process(train=[1.0, 3.0]) == 2.0
