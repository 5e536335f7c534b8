"""Datasources report the rows they ingest as progress: CSV through a real run, Parquet and SQL directly."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from data_helpers import write_mixed_csv

from zenml.datasources import CSVDatasource, ParquetDatasource, SQLDatasource
from zenml.pipelines import SimplePipeline
from zenml.repository import Repository
from zenml.runtime.events import StepOutcome, StepProgress
from zenml.steps.context import StepContext, running


class ProgressRecorder:
    """A ``ProgressListener`` keeping the progress events."""

    def __init__(self) -> None:
        self.progress: list[StepProgress] = []

    def step_started(self, name: str) -> None:
        """Nothing to keep."""

    def step_finished(self, outcome: StepOutcome) -> None:
        """Nothing to keep."""

    def step_progress(self, progress: StepProgress) -> None:
        self.progress.append(progress)


def _reading(reports: list[StepProgress]) -> list[StepProgress]:
    assert reports, "no progress was reported"
    assert {(r.description, r.unit, r.total) for r in reports} == {("reading", "rows", None)}
    return reports


def test_csv_ingestion_in_a_run_reports_rows(repo: Repository, tmp_path: Path) -> None:
    write_mixed_csv(tmp_path / "mixed.csv", rows=300, seed=2)
    pipeline = SimplePipeline(name="ingest")
    pipeline.add_datasource(CSVDatasource(path="mixed.csv"))
    recorder = ProgressRecorder()
    run = pipeline.run(listener=recorder)
    assert run.status == "completed"
    reports = _reading(recorder.progress)
    assert {report.name for report in reports} == {"datasource"}
    assert (reports[0].done, reports[-1].done) == (0, 300)


def test_parquet_reports_the_rows_of_every_file(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    for index in range(3):
        pq.write_table(pa.table({"x": list(range(100))}), folder / f"{index}.parquet", row_group_size=30)
    reports: list[StepProgress] = []
    context = StepContext(step_name="source", run_id="r", pipeline_name="p", progress_sink=reports.append)
    with running(context):
        data = ParquetDatasource(path=str(folder)).read(str(tmp_path / "out"))
    assert data.num_rows() == 300
    assert _reading(reports)[-1].done == 300


def test_sql_reports_the_rows_of_each_batch(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'numbers.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE numbers (n INTEGER)")
        connection.exec_driver_sql("INSERT INTO numbers VALUES " + ", ".join(f"({i})" for i in range(50)))
    engine.dispose()
    reports: list[StepProgress] = []
    context = StepContext(step_name="source", run_id="r", pipeline_name="p", progress_sink=reports.append)
    with running(context):
        data = SQLDatasource(url=url, query="SELECT n FROM numbers", batch_rows=7).read(str(tmp_path / "out"))
    assert data.num_rows() == 50
    assert _reading(reports)[-1].done == 50


def test_outside_a_run_a_datasource_reads_as_before(tmp_path: Path) -> None:
    path = write_mixed_csv(tmp_path / "mixed.csv", rows=40, seed=3)
    assert CSVDatasource(path=str(path)).read(str(tmp_path / "out")).num_rows() == 40
