"""``zen datasources list|show``: each datasource's data versions, with rows, size, runs, schema and statistics."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import Result

pytest.importorskip("sklearn", reason="the data comes from scikit-learn's bundled iris set")

FLOW = """
from zenml import StepContext, step
from zenml.artifacts.dataset import Dataset
from zenml.datasources import CSVDatasource
from zenml.pipelines import BasePipeline


@step
def count(data: Dataset, context: StepContext) -> int:
    context.log_metric("rows", data.num_rows())
    return data.num_rows()


iris = BasePipeline("iris").add_step("datasource", CSVDatasource(path="iris.csv")).add_step(
    "count", count, inputs={"data": "datasource"}
)
"""


def write_iris(path: Path, rows: int) -> None:
    from sklearn.datasets import load_iris

    load_iris(as_frame=True).frame.head(rows).to_csv(path, index=False)


@pytest.fixture
def project(repo: object, tmp_path: Path) -> Path:
    (tmp_path / "iris_flow.py").write_text(FLOW)
    write_iris(tmp_path / "iris.csv", 120)
    return tmp_path


def _run_id(result: Result) -> str:
    return result.out.splitlines()[-1].split()[1]


def test_list_shows_each_version_with_rows_size_and_runs(project: Path, zen: Callable[..., Result]) -> None:
    first = zen("run", "iris_flow.py:iris", "-q")
    again = zen("run", "iris_flow.py:iris")
    assert again.code == 0 and "new data version" not in again.out  # unchanged source: nothing new to say
    write_iris(project / "iris.csv", 30)
    changed = zen("run", "iris_flow.py:iris")
    assert "datasource: new data version xxh3-128:" in changed.out
    assert f"(run {_run_id(again)} read xxh3-128:" in changed.out

    listing = zen("datasources", "list")
    assert listing.code == 0, listing.err
    rows = [line.split("│") for line in listing.out.splitlines() if "xxh3-128:" in line]
    assert len(rows) == 2
    newest, oldest = ([cell.strip() for cell in row] for row in rows)
    assert newest[0] == "iris/datasource" and newest[1] == "iris.csv" and newest[3] == "30"
    assert newest[5] == "1" and newest[6] == newest[7] == _run_id(changed)
    assert oldest[0] == "" and oldest[3] == "120" and oldest[5] == "2"
    assert (oldest[6], oldest[7]) == (_run_id(first), _run_id(again))
    assert oldest[4].endswith("kB")

    assert zen("datasources", "list", "--pipeline", "other").out.strip() == "No datasource has read data yet."
    shown = zen("runs", "show", _run_id(changed)).out
    assert f"data: datasource read from its source, version xxh3-128:{newest[2].split(':')[1]}" in shown


def test_show_gives_schema_and_statistics_of_a_version(project: Path, zen: Callable[..., Result]) -> None:
    first = zen("run", "iris_flow.py:iris", "-q")
    version = zen("datasources", "list").out.split("xxh3-128:")[1].split()[0]
    write_iris(project / "iris.csv", 30)
    zen("run", "iris_flow.py:iris", "-q")

    shown = zen("datasources", "show", version[:8])  # a prefix of the hex digits names the old version
    assert shown.code == 0, shown.err
    assert f"Data version xxh3-128:{version}" in shown.out and "of datasource iris/datasource" in shown.out
    assert f"used by 1 run(s): first {_run_id(first)}" in shown.out
    assert "rows: 120" in shown.out
    assert "sepal length (cm) │ double" in shown.out
    target = next(line for line in shown.out.splitlines() if "│ target" in line)
    assert "│ numeric │ 120" in target and "min 0" in target and "max 2" in target

    newest = zen("datasources", "show", "iris/datasource")  # a datasource: its newest version
    assert "rows: 30" in newest.out and version not in newest.out


def test_show_says_when_a_snapshot_is_gone_and_refuses_unknown_names(project: Path, zen: Callable[..., Result]) -> None:
    zen("run", "iris_flow.py:iris", "-q")
    folder = next((project / ".zen" / "artifacts").glob("*/datasource/output"))
    shutil.rmtree(folder)
    assert "│ gone │" in zen("datasources", "list").out
    shown = zen("datasources", "show", "datasource")
    assert shown.code == 0 and "snapshot: gone from the artifact store" in shown.out and "--refresh-data" in shown.out

    unknown = zen("datasources", "show", "nosuch")
    assert unknown.code == 2
    assert unknown.error_lines == [
        "Error: no datasource or data version 'nosuch' is recorded; 'zen datasources list' shows them"
    ]
