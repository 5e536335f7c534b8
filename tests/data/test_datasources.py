"""Datasources: CSV (file, folder, schema), Parquet, pandas snapshots, SQL (SQLite, PostgreSQL, MariaDB),
content-hash versions in the cache key, and ``zen datasources list``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from data_helpers import write_mixed_csv

from zenml.artifacts.dataset import Dataset
from zenml.datasources import CSVDatasource, DataFrameDatasource, ParquetDatasource, SQLDatasource
from zenml.exceptions import ConfigError
from zenml.pipelines import SimplePipeline

pd = pytest.importorskip("pandas")  # an optional extra, never imported at module level (ruff TID253)

# -- CSV --------------------------------------------------------------------------------------


def test_csv_file_infers_types_and_reads_missing_values_as_nulls(tmp_path: Path) -> None:
    path = write_mixed_csv(tmp_path / "mixed.csv", rows=200, seed=1)
    data = CSVDatasource(path=str(path)).read(str(tmp_path / "out"))

    assert data.splits == ["all"]
    assert data.num_rows() == 200
    types = {field.name: field.type for field in data.schema}
    assert types == {
        "id": pa.int64(),
        "x": pa.float64(),
        "z": pa.float64(),
        "n": pa.int64(),
        "city": pa.string(),
        "flag": pa.bool_(),
        "label": pa.string(),
    }
    frame = data.to_pandas()
    source = pd.read_csv(path, keep_default_na=False, na_values=[""])
    assert frame["id"].tolist() == list(range(200))
    assert frame["x"].isna().sum() == source["x"].isna().sum() > 0
    assert frame["city"].isna().sum() == source["city"].isna().sum() > 0  # empty field → null, not ""
    assert frame["flag"].isna().sum() == source["flag"].isna().sum() > 0
    assert frame["x"].dropna().tolist() == pytest.approx(source["x"].dropna().tolist())


def test_csv_folder_reads_every_csv_file_in_name_order(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "b.csv").write_text("id,name\n3,c\n4,d\n")
    (folder / "a.csv").write_text("id,name\n1,a\n2,b\n")
    (folder / "notes.txt").write_text("not data")
    source = CSVDatasource(path=str(folder))
    data = source.read(str(tmp_path / "out"))
    assert data.to_pandas().to_dict("list") == {"id": [1, 2, 3, 4], "name": ["a", "b", "c", "d"]}

    before = source.source_version()
    # deterministic, and in the one hash family of data and artifacts
    assert before.startswith("xxh3-128:") and len(before) == len("xxh3-128:") + 32
    assert source.source_version() == before
    (folder / "b.csv").write_text("id,name\n3,c\n4,e\n")
    assert source.source_version() != before


def test_csv_folder_files_must_share_one_header(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "a.csv").write_text("id,name\n1,a\n")
    (folder / "b.csv").write_text("id,title\n2,b\n")
    with pytest.raises(ConfigError, match=r"b\.csv has columns id, title but the first file has id, name"):
        CSVDatasource(path=str(folder)).read(str(tmp_path / "out"))


def test_empty_csv_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"folder '.*empty' holds no \.csv files"):
        CSVDatasource(path=str(tmp_path / "empty")).source_version()


def test_csv_schema_overrides_inferred_types(tmp_path: Path) -> None:
    path = tmp_path / "zips.csv"
    path.write_text("zip,count,price\n01234,1,3\n98765,2,4\n")
    inferred = CSVDatasource(path=str(path)).read(str(tmp_path / "a"))
    assert inferred.schema.field("zip").type == pa.int64()
    assert inferred.to_pandas()["zip"].tolist() == [1234, 98765]

    source = CSVDatasource(path=str(path), schema={"zip": "string", "price": "float64"})
    source.validate()
    data = source.read(str(tmp_path / "b"))
    assert data.schema.field("zip").type == pa.string()
    assert data.schema.field("price").type == pa.float64()
    assert data.schema.field("count").type == pa.int64()  # not named: still inferred
    assert data.to_pandas()["zip"].tolist() == ["01234", "98765"]


def test_csv_schema_must_name_existing_columns_and_known_types(tmp_path: Path) -> None:
    path = tmp_path / "zips.csv"
    path.write_text("zip,count\n01234,1\n")
    with pytest.raises(ConfigError, match=r"schema names column 'zipcode'.*available columns: zip, count"):
        CSVDatasource(path=str(path), schema={"zipcode": "string"}).read(str(tmp_path / "out"))
    with pytest.raises(ConfigError, match=r"schema type 'text' of column 'zip' is unknown"):
        CSVDatasource(path=str(path), schema={"zip": "text"}).validate()


def test_csv_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("a;b\n1;x,y\n")
    data = CSVDatasource(path=str(path), delimiter=";").read(str(tmp_path / "out"))
    assert data.to_pandas().to_dict("list") == {"a": [1], "b": ["x,y"]}
    with pytest.raises(ConfigError, match="delimiter must be one character"):
        CSVDatasource(path=str(path), delimiter=";;").validate()


# -- Parquet ----------------------------------------------------------------------------------


def _parquet(path: Path, start: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({"id": [start, start + 1], "w": [0.5 * start, 1.5], "tag": ["a", None]})
    pq.write_table(table, path)


def test_parquet_file_folder_and_column_selection(tmp_path: Path) -> None:
    _parquet(tmp_path / "folder" / "p0.parquet", 0)
    _parquet(tmp_path / "folder" / "p1.parquet", 10)
    single = ParquetDatasource(path=str(tmp_path / "folder" / "p1.parquet")).read(str(tmp_path / "a"))
    assert single.to_pandas()["id"].tolist() == [10, 11]
    assert single.schema.field("w").type == pa.float64()

    folder = ParquetDatasource(path=str(tmp_path / "folder")).read(str(tmp_path / "b"))
    assert folder.to_pandas()["id"].tolist() == [0, 1, 10, 11]
    assert folder.to_pandas()["tag"].tolist() == ["a", None, "a", None]

    narrow = ParquetDatasource(path=str(tmp_path / "folder"), columns=["tag", "id"]).read(str(tmp_path / "c"))
    assert narrow.column_names == ["tag", "id"]

    with pytest.raises(ConfigError, match=r"column 'weight' is not in .*p0\.parquet; available columns: id, w, tag"):
        ParquetDatasource(path=str(tmp_path / "folder"), columns=["weight"]).read(str(tmp_path / "d"))


def test_parquet_version_is_the_content_hash(tmp_path: Path) -> None:
    _parquet(tmp_path / "p.parquet", 0)
    source = ParquetDatasource(path=str(tmp_path / "p.parquet"))
    before = source.source_version()
    _parquet(tmp_path / "p.parquet", 0)  # rewritten, same content
    assert source.source_version() == before
    _parquet(tmp_path / "p.parquet", 1)
    assert source.source_version() != before


# -- pandas -----------------------------------------------------------------------------------


def test_dataframe_snapshot_is_unaffected_by_later_edits(repo: Any, tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None], "c": [0.5, None, 1.5]})
    source = DataFrameDatasource.from_frame(frame)
    assert Path(source.snapshot).parent == Path(repo.root) / ".zen" / "snapshots"

    frame.loc[0, "a"] = 100
    frame["d"] = 1
    data = source.read(str(tmp_path / "out"))
    assert data.column_names == ["a", "b", "c"]
    assert data.to_pandas()["a"].tolist() == [1, 2, 3]
    assert data.to_pandas()["b"].tolist() == ["x", "y", None]

    same = DataFrameDatasource.from_frame(pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None], "c": [0.5, None, 1.5]}))
    assert same.snapshot == source.snapshot and same.source_version() == source.source_version()
    assert DataFrameDatasource.from_frame(frame).source_version() != source.source_version()


def test_dataframe_datasource_without_a_snapshot_explains_from_frame(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"snapshot '.*gone\.parquet' is missing.*from_frame"):
        DataFrameDatasource(snapshot=str(tmp_path / "gone.parquet")).read(str(tmp_path / "out"))


# -- SQL --------------------------------------------------------------------------------------

DDL = {
    "sqlite": "CREATE TABLE people (id INTEGER, name VARCHAR(20), height DOUBLE, price DECIMAL(10, 2), active BOOLEAN)",
    "mysql": "CREATE TABLE people (id INTEGER, name VARCHAR(20), height DOUBLE, price DECIMAL(10, 2), active BOOLEAN)",
    "postgres": "CREATE TABLE people (id INTEGER, name VARCHAR(20), height DOUBLE PRECISION, price DECIMAL(10, 2), "
    "active BOOLEAN)",
}
ROWS = [
    {"id": 1, "name": "ada", "height": 1.62, "price": "10.50", "active": True},
    {"id": 2, "name": "bob", "height": None, "price": "3.25", "active": False},
    {"id": 3, "name": None, "height": 1.80, "price": "0.00", "active": True},
]


def _create_people(url: str, dialect: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(DDL[dialect])
        connection.execute(
            sa.text("INSERT INTO people VALUES (:id, :name, :height, :price, :active)"),
            [dict(row) for row in ROWS],
        )
    engine.dispose()


def _check_people(data: Dataset) -> None:
    assert data.num_rows() == 3
    frame = data.to_pandas().sort_values("id")
    assert frame["id"].tolist() == [1, 2, 3]
    assert frame["name"].tolist() == ["ada", "bob", None]
    assert frame["height"].tolist()[0] == pytest.approx(1.62) and pd.isna(frame["height"].tolist()[1])
    assert frame["price"].tolist() == [10.5, 3.25, 0.0]  # DECIMAL arrives as float
    schema = data.schema
    assert pa.types.is_integer(schema.field("id").type)
    assert schema.field("name").type == pa.string()
    assert schema.field("height").type == pa.float64()
    assert schema.field("price").type == pa.float64()


def test_sql_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'people.db'}"
    _create_people(url, "sqlite")
    source = SQLDatasource(url=url, query="SELECT id, name, height, price FROM people", batch_rows=2)
    source.validate()
    _check_people(source.read(str(tmp_path / "out")))
    assert SQLDatasource(url=url, query="SELECT id FROM people WHERE id > 1").read(str(tmp_path / "o2")).num_rows() == 2

    before = source.source_version()
    assert source.source_version() == before
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE people SET height = 1.99 WHERE id = 1")
    engine.dispose()
    assert source.source_version() != before


@pytest.mark.services
@pytest.mark.parametrize("server", ["postgres", "mysql"])
def test_sql_on_database_servers(request: pytest.FixtureRequest, tmp_path: Path, server: str, monkeypatch: Any) -> None:
    url = str(request.getfixturevalue(f"{server}_url"))
    _create_people(url, server)
    source = SQLDatasource(url=url, query="SELECT id, name, height, price, active FROM people ORDER BY id")
    data = source.read(str(tmp_path / "out"))
    _check_people(data)
    active = data.to_pandas()["active"].tolist()
    assert [bool(value) for value in active] == [True, False, True]  # MariaDB's BOOLEAN is TINYINT(1)

    # the password as a ${VAR} placeholder, filled from the environment when the step runs
    parsed = sa.engine.make_url(url)
    monkeypatch.setenv("ZT_DB_PASSWORD", parsed.password or "")
    placeholder = parsed.set(password="PLACEHOLDER").render_as_string(hide_password=False)
    placeholder = placeholder.replace("PLACEHOLDER", "${ZT_DB_PASSWORD}")
    hidden = SQLDatasource(url=placeholder, query="SELECT COUNT(*) AS n FROM people")
    hidden.validate()
    assert hidden.read(str(tmp_path / "o2")).to_pandas()["n"].tolist() == [3]


def test_sql_url_with_a_literal_password_is_refused(repo: Any) -> None:
    for url in ("postgresql://etl:hunter2@db.example.com/sales", "postgresql://db.example.com/sales?password=hunter2"):
        with pytest.raises(ConfigError, match=r"url contains a password.*\$\{ENV_VARIABLE\}") as caught:
            SQLDatasource(url=url, query="SELECT 1").validate()
        assert "hunter2" not in str(caught.value)
    pipeline = SimplePipeline(name="leaky").add_datasource(
        SQLDatasource(url="postgresql://etl:hunter2@db.example.com/sales", query="SELECT 1")
    )
    with pytest.raises(ConfigError, match="contains a password"):
        pipeline.run()
    assert repo.runs() == []
    assert not (Path(repo.root) / "pipelines").exists()


def test_sql_url_placeholders_come_from_the_environment(repo: Any, tmp_path: Path, monkeypatch: Any) -> None:
    folder = tmp_path / "secret-folder"
    folder.mkdir()
    _create_people(f"sqlite:///{folder / 'people.db'}", "sqlite")
    source = SQLDatasource(url="sqlite:///${ZT_DB_FOLDER}/people.db", query="SELECT id FROM people")

    with pytest.raises(ConfigError, match="needs the environment variable ZT_DB_FOLDER, which is not set"):
        source.read(str(tmp_path / "o1"))
    monkeypatch.setenv("ZT_DB_FOLDER", str(folder))
    assert source.read(str(tmp_path / "o2")).num_rows() == 3

    run = SimplePipeline(name="sql_flow").add_datasource(source).run()
    assert run.status == "completed"
    assert run.steps["datasource"].output().num_rows() == 3
    assert run.spec.steps["datasource"].params["url"] == "sqlite:///${ZT_DB_FOLDER}/people.db"
    assert "secret-folder" not in (Path(repo.root) / run.record.spec_path).read_text()  # (a relative path)


def test_sql_errors_name_the_database_and_the_reason(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'people.db'}"
    _create_people(url, "sqlite")
    with pytest.raises(ConfigError, match=r"query on sqlite:///.*people\.db failed: no such table: nobody"):
        SQLDatasource(url=url, query="SELECT * FROM nobody").read(str(tmp_path / "out"))
    with pytest.raises(ConfigError, match="returned no rows"):
        SQLDatasource(url=url, query="SELECT * FROM people WHERE id > 99").read(str(tmp_path / "o2"))


# -- versions and the cache -------------------------------------------------------------------


def _statuses(run: Any) -> dict[str, str]:
    return {name: step.status for name, step in run.steps.items()}


def test_unchanged_source_is_a_cache_hit_and_an_edited_file_a_miss(repo: Any, tmp_path: Path, zen: Any) -> None:
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,x\n2,y\n")
    pipeline = SimplePipeline(name="csv_cache").add_datasource(CSVDatasource(path=str(path)))

    first = pipeline.run()
    second = pipeline.run()
    path.write_text("a,b\n1,x\n2,z\n")  # same size, same parameters, other content
    third = pipeline.run()

    assert [_statuses(run)["datasource"] for run in (first, second, third)] == ["completed", "cached", "completed"]
    versions = [run.steps["datasource"].record.cache_components["source"] for run in (first, second, third)]
    assert versions[0] == versions[1] != versions[2]
    assert third.steps["datasource"].output().to_pandas()["b"].tolist() == ["x", "z"]
    assert second.steps["datasource"].output().to_pandas()["b"].tolist() == ["x", "y"]

    code, out, err = zen("datasources", "list")
    assert code == 0, err
    lines = [[cell.strip() for cell in line.split("│")] for line in out.splitlines() if "xxh3-128:" in line]
    assert len(lines) == 2  # one row per data version, the one used last first
    newest, older = lines
    assert newest[:3] == ["csv_cache/datasource", str(path), versions[2][:21]]
    assert newest[5:] == ["1", third.id, third.id]
    assert older[:3] == ["", "", versions[0][:21]]
    assert older[5:] == ["2", first.id, second.id]  # the cache hit used the same data


def test_dataframe_and_sql_versions_join_the_cache_key(repo: Any, tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1, 2]})
    frames = SimplePipeline(name="frame_cache").add_datasource(DataFrameDatasource.from_frame(frame))
    assert _statuses(frames.run()) == {"datasource": "completed"}
    assert _statuses(frames.run()) == {"datasource": "cached"}

    url = f"sqlite:///{tmp_path / 'people.db'}"
    _create_people(url, "sqlite")
    tables = SimplePipeline(name="sql_cache").add_datasource(SQLDatasource(url=url, query="SELECT * FROM people"))
    assert _statuses(tables.run()) == {"datasource": "completed"}
    assert _statuses(tables.run()) == {"datasource": "cached"}
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO people (id) VALUES (4)")
    engine.dispose()
    changed = tables.run()
    assert _statuses(changed) == {"datasource": "completed"}
    assert changed.steps["datasource"].output().num_rows() == 4
