"""Conformance kit: checks that a step obeys zenml's contracts (like scikit-learn's ``check_estimator``).

Use ``check_step(step)`` in any test, or ``parametrize_with_checks([...])`` to get one pytest test
per step and check.
"""

from zenml.testing.steps import STEP_CHECKS, check_step, parametrize_with_checks

__all__ = ["STEP_CHECKS", "check_step", "parametrize_with_checks"]
