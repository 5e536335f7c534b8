"""The bundle's matrix path (JSON rows of plain numbers) gives exactly the numbers of its Arrow path.

``predict`` of a list of row dicts with all-numeric features skips Arrow: one float64 matrix, the
fitted scaling as vectors, one model call. An Arrow table of the same rows goes through
``check_rows`` and ``transform_features``; both must agree bit for bit, for breast cancer
(scikit-learn), iris (PyTorch, class names) and diabetes (TensorFlow, regression).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from serving_helpers import raw_rows
from test_same_numbers import FAMILIES

from zenml.serving import load_bundle
from zenml.steps.preprocessor.standard import numeric_scaling


@pytest.mark.parametrize(("flow", "data", "label"), FAMILIES)
def test_the_matrix_path_equals_the_arrow_path(
    trained: Callable[[str], Any], in_project: Path, flow: str, data: str, label: str
) -> None:
    bundle = load_bundle(trained(flow).id)
    rows = raw_rows(in_project, data, 10_000)  # every row, label included (ignored)
    features = [{k: v for k, v in row.items() if k != label} for row in rows]
    table = pa.Table.from_pylist(features)
    state = bundle.transform["state"]

    scaling = numeric_scaling(bundle.transform.preprocessor, state)
    assert scaling is not None and scaling.features == bundle.input_schema.names
    matrix = np.array([[row[name] for name in scaling.features] for row in rows], np.float64)
    encoded = bundle.transform.preprocessor.transform_features(bundle.check_rows(table).to_batches()[0], state)
    expected = np.column_stack([encoded.column(name).to_numpy() for name in scaling.features])
    assert np.array_equal(scaling.apply(matrix), expected)

    by_arrow = bundle.predict(table)
    assert bundle.predict(rows).equals(by_arrow)
    assert bundle.predict_records(rows) == by_arrow.to_pylist()
    # one row alone (a framework's numbers may depend on the batch size, so against one row by Arrow)
    assert bundle.predict_records(rows[:1]) == bundle.predict(table.slice(0, 1)).to_pylist()


def test_rows_the_matrix_path_does_not_take_get_the_arrow_paths_answer_and_errors(
    trained: Callable[[str], Any], in_project: Path
) -> None:
    from zenml.exceptions import ConfigError

    bundle = load_bundle(trained("cancer_sklearn").id)
    rows = [{k: v for k, v in row.items() if k != "target"} for row in raw_rows(in_project, "cancer", 3)]
    with_null = [dict(rows[0], mean_radius=None), *rows[1:]]
    assert bundle.predict_records(with_null) == bundle.predict(pa.Table.from_pylist(with_null)).to_pylist()
    as_ints = [{k: round(v) for k, v in row.items()} for row in rows]
    assert bundle.predict_records(as_ints) == bundle.predict(pa.Table.from_pylist(as_ints)).to_pylist()
    with pytest.raises(ConfigError, match="column 'mean_radius' holds text"):
        bundle.predict_records([dict(rows[0], mean_radius="1.5")])
    with pytest.raises(ConfigError, match="rows lack column 'mean_radius'"):
        bundle.predict_records([{k: v for k, v in rows[0].items() if k != "mean_radius"}])
