"""Pipeline sources that tests run with ``zen`` in fresh processes."""

from __future__ import annotations

import pytest

from zenml.testing.flows import chain_source


def test_chain_source_defines_the_named_chain() -> None:
    namespace: dict[str, object] = {}
    exec(chain_source("chain4", 4), namespace)  # noqa: S102 -- our own generated source
    chain = namespace["chain4"]
    assert chain.order() == ["start", "bump_01", "bump_02", "bump_03"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("name", "steps"), [("not a name", 3), ("chain", 0)])
def test_chain_source_refuses_what_would_not_be_a_pipeline(name: str, steps: int) -> None:
    with pytest.raises(ValueError, match="chain_source needs"):
        chain_source(name, steps)
