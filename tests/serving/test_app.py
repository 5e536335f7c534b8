"""``zen serve`` over real HTTP: predictions equal the bundle's, and bad input gets a 4xx naming the fault."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from conftest import ServedRun
from serve_helpers import Server


def _post(server: Server, body: Any = None, content: bytes | None = None) -> httpx.Response:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        if content is not None:
            return client.post("/predict", content=content, headers={"content-type": "application/json"})
        return client.post("/predict", json=body)


def test_health_and_metadata_describe_the_run(server: Server, cancer_run: ServedRun) -> None:
    health = httpx.get(f"{server.url}/health").json()
    assert health == {"status": "ok", "run_id": cancer_run.run_id, "task": "binary"}
    metadata = httpx.get(f"{server.url}/metadata").json()
    assert metadata["run_id"] == cancer_run.run_id and metadata["pipeline"] == "cancer_sklearn"
    assert len(metadata["spec_sha256"]) == 64
    assert 0.9 < metadata["metrics"]["accuracy"] <= 1.0
    assert (metadata["task"], metadata["label"], len(metadata["classes"])) == ("binary", "target", 2)
    columns = [field["name"] for field in metadata["input_schema"]]
    assert len(columns) == 30 and "mean_radius" in columns and "target" not in columns


def test_predictions_equal_the_bundle_in_process(server: Server, cancer_run: ServedRun) -> None:
    from zenml.serving import load_bundle

    rows = cancer_run.rows(100)  # with the label column, which is ignored
    answer = _post(server, {"rows": rows})
    assert answer.status_code == 200, answer.text
    served = answer.json()["predictions"]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cancer_run.root)
        bundle = load_bundle(cancer_run.run_id)
        expected = bundle.predict(rows).to_pylist()
        # the same rows in a batch of another size: BLAS may sum in another order (the last bits of
        # a score differ by batch size on some CPUs), so a batch is compared with the same batch
        expected_first_three = bundle.predict(rows[:3]).to_pylist()
    assert served == expected  # same class names, and bit-for-bit the same float scores
    bundle_classes = httpx.get(f"{server.url}/metadata").json()["classes"]
    assert {row["prediction"] for row in served} <= set(bundle_classes)
    assert all(f"probability_{name}" in served[0] for name in bundle_classes)
    bare = _post(server, rows[:3])  # a bare list of rows is accepted too
    assert bare.status_code == 200 and bare.json()["predictions"] == expected_first_three
    assert [row["prediction"] for row in expected_first_three] == [row["prediction"] for row in served[:3]]


def _bad_bodies(cancer_run: ServedRun) -> list[tuple[str, bytes, int, str]]:
    row = cancer_run.rows(1)[0]
    missing = {k: v for k, v in row.items() if k != "mean_radius"}
    misspelled = {("mean_radus" if k == "mean_radius" else k): v for k, v in row.items()}
    wrong_type = {**row, "mean_radius": "large"}
    huge = json.dumps({"rows": [row] * 20_000}).encode()  # about 20 MB
    assert len(huge) > 10 * 1024 * 1024
    return [
        ("missing column", json.dumps({"rows": [missing]}).encode(), 422, "mean_radius"),
        ("misspelled column", json.dumps({"rows": [misspelled]}).encode(), 422, "mean_radius"),
        ("wrong type", json.dumps({"rows": [wrong_type]}).encode(), 422, "mean_radius"),
        ("empty body", b"", 400, "empty request body"),
        ("malformed JSON", b'{"rows": [{"mean_radius": 1.0,', 400, "malformed JSON"),
        ("not JSON at all", b"\xff\xfe rows", 400, "malformed JSON"),
        ("no rows key", b'{"data": []}', 422, '"rows"'),
        ("no rows", b'{"rows": []}', 422, "empty"),
        ("row not an object", b'{"rows": [[1, 2, 3]]}', 422, "row 0"),
        ("too large", huge, 413, "limit of 2.0 MB"),
    ]


def test_bad_input_gets_a_4xx_naming_the_fault_and_the_server_lives_on(server: Server, cancer_run: ServedRun) -> None:
    for name, content, status, fragment in _bad_bodies(cancer_run):
        answer = _post(server, content=content)
        assert answer.status_code == status, f"{name}: {answer.status_code} {answer.text}"
        detail = answer.json()["detail"]
        assert isinstance(detail, str) and fragment in detail, f"{name}: {detail}"
        assert "\n" not in detail
    assert httpx.get(f"{server.url}/health").status_code == 200
    assert _post(server, {"rows": cancer_run.rows(2)}).status_code == 200
    assert "Traceback" not in server.output()


def test_too_many_rows_is_refused_with_the_limit(cancer_run: ServedRun) -> None:
    with Server(cancer_run.root, cancer_run.run_id, "--max-rows", "5", "--no-access-log") as small:
        answer = _post(small, {"rows": cancer_run.rows(6)})
        assert answer.status_code == 413 and "limit of 5 rows" in answer.json()["detail"]
        assert _post(small, {"rows": cancer_run.rows(5)}).status_code == 200
