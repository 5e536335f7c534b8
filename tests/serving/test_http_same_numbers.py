"""Same numbers over HTTP: ``POST /predict`` returns exactly what ``load_bundle(...).predict`` does on the same
rows, for a scikit-learn, a (custom) PyTorch and a TensorFlow model. test_same_numbers.py holds the bundle to
``BatchInferencePipeline``, so all three agree."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from serve_helpers import Server
from serving_helpers import raw_rows
from test_same_numbers import FAMILIES

from zenml.serving import load_bundle


@pytest.mark.parametrize(("flow", "data", "label"), FAMILIES)
def test_http_answers_equal_the_bundle(
    trained: Callable[[str], Any], in_project: Path, flow: str, data: str, label: str
) -> None:
    run = trained(flow)
    rows = [{k: v for k, v in row.items() if k != label} for row in raw_rows(in_project, data, 60)]
    expected = load_bundle(run.id).predict(rows).to_pylist()
    with Server(in_project, run.id, "--no-access-log") as server:
        answer = httpx.post(f"{server.url}/predict", json={"rows": rows}, timeout=120)
    assert answer.status_code == 200, answer.text
    assert answer.json()["predictions"] == expected  # JSON floats round-trip: bit-for-bit equal
