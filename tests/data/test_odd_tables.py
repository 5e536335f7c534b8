"""Odd tables get one-line errors naming the column and the fix, through ``zen run``.

What the header or schema shows (duplicate names, text not in the declared encoding) is refused
before a run is recorded (exit 2, stores untouched); what only the rows show (a numeric column
with a stray string) fails the step that meets it (exit 1, a failed run recorded). Nested
Parquet columns split like any other and are named by the preprocessor if used as features.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from zenml.datasources import CSVDatasource, ParquetDatasource
from zenml.exceptions import ConfigError

FLOW = """\
from zenml.datasources import CSVDatasource, ParquetDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import CategoricalDomainSplit, RandomSplit


def flow(source, name, split=None, preprocessor=None):
    pipeline = SimplePipeline(name=name).add_datasource(source)
    pipeline.add_split(split or RandomSplit(ratios={{"train": 0.7, "eval": 0.3}}, seed=1))
    return pipeline.add_preprocessor(preprocessor or StandardPreprocessor(labels=["label"]))


nested = flow(ParquetDatasource(path={nested!r}), "nested")
nested_flat = flow(ParquetDatasource(path={nested!r}), "nested_flat",
                   preprocessor=StandardPreprocessor(features=["x"], labels=["label"]))
nested_domain = flow(ParquetDatasource(path={nested!r}), "nested_domain",
                     split=CategoricalDomainSplit(column="tags", domains={{"train": ["a"], "eval": ["b"]}}))
duplicate = flow(CSVDatasource(path={duplicate!r}), "duplicate")
latin = flow(CSVDatasource(path={latin!r}), "latin")
latin_declared = flow(CSVDatasource(path={latin!r}, encoding="latin-1"), "latin_declared")
stray = flow(CSVDatasource(path={stray!r}), "stray")
stray_missing = flow(CSVDatasource(path={stray!r}, null_values=["n/a?"]), "stray_missing")
"""


def _state(repo: Any) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    root = Path(repo.root)
    runs = sorted((run.id, run.status) for run in repo.runs())
    specs = sorted(str(p) for p in (root / "pipelines").rglob("*") if p.is_file())
    artifacts = sorted(str(p) for p in (root / ".zen" / "artifacts").rglob("*") if p.is_file())
    return runs, specs, artifacts


@pytest.fixture(scope="module")
def files(module_repo: Any) -> dict[str, Path]:
    """One odd table of each kind, from scikit-learn's breast cancer data (x: mean radius, label: target)."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    x, label = frame["mean radius"].to_numpy(), frame["target"].to_numpy()
    root = Path(module_repo.root)
    paths = {
        name: root / f"{name}{suffix}"
        for name, suffix in (("nested", ".parquet"), ("duplicate", ".csv"), ("latin", ".csv"), ("stray", ".csv"))
    }
    pq.write_table(
        pa.table(
            {
                "x": x,
                "tags": [["a", "b"][: i % 3] for i in range(len(x))],
                "meta": [{"k": i, "s": "v"} for i in range(len(x))],
                "label": label,
            }
        ),
        paths["nested"],
    )
    paths["duplicate"].write_text("x,x,label\n" + "".join(f"{a},{a * 2},{b}\n" for a, b in zip(x, label, strict=True)))
    cities = ["Zürich", "Genève", "Bern"]
    paths["latin"].write_bytes(
        (
            "city,x,label\n"
            + "".join(f"{cities[i % 3]},{a},{b}\n" for i, (a, b) in enumerate(zip(x, label, strict=True)))
        ).encode("latin-1")
    )
    amounts = [f"{a:.4f}" for a in frame["mean area"].to_numpy()]
    amounts[100] = "n/a?"
    paths["stray"].write_text("amount,label\n" + "".join(f"{a},{b}\n" for a, b in zip(amounts, label, strict=True)))
    return paths


@pytest.fixture
def flow(files: dict[str, Path], flow_file: Callable[[str], str]) -> str:
    return flow_file(FLOW.format(**{name: str(path) for name, path in files.items()}))


def test_duplicate_csv_column_names_are_refused_before_a_run(module_repo: Any, flow: str, zen: Any) -> None:
    before = _state(module_repo)
    code, _, err = zen("run", f"{flow}:duplicate")
    assert code == 2, err
    assert "duplicate.csv: column name 'x' appears 2 times in the header (columns 1, 2); give each column" in err
    assert _state(module_repo) == before


def test_a_csv_not_in_utf8_names_the_column_and_the_encoding_option(module_repo: Any, flow: str, zen: Any) -> None:
    before = _state(module_repo)
    code, _, err = zen("run", f"{flow}:latin")
    assert code == 2, err
    assert "latin.csv: column 'city' is not utf-8 text; pass the file's encoding, e.g. " in err
    assert "CSVDatasource(encoding='latin-1')" in err
    assert _state(module_repo) == before
    code, _, err = zen("run", f"{flow}:latin_declared")
    assert code == 0, err
    data = module_repo.runs(limit=1)[0].steps["datasource"].outputs["output"].read()
    assert sorted(set(data.to_pandas("all")["city"])) == ["Bern", "Genève", "Zürich"]


def test_text_past_the_first_rows_that_is_not_utf8_names_its_column(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    path.write_bytes(("x,city\n" + "1,Bern\n" * 200_000 + "2,Zürich\n").encode("latin-1"))
    CSVDatasource(path=str(path)).preflight()  # the first rows are plain ASCII
    with pytest.raises(ConfigError, match=r"late\.csv: column 'city' .*not utf-8.*encoding='latin-1'"):
        CSVDatasource(path=str(path)).read(str(tmp_path / "out"))


def test_a_numeric_column_with_a_stray_string_is_named(module_repo: Any, flow: str, zen: Any) -> None:
    code, _, err = zen("run", f"{flow}:stray")
    assert code == 1, err
    assert (
        "column 'amount' holds numbers but for 'n/a?' (1 row), so it was read as text with " in err
        and "CSVDatasource(null_values=['n/a?'])" in err
        and "overwrite={'amount': {'transform': 'vocab'}}" in err
    )
    assert module_repo.runs(limit=1)[0].status == "failed"
    code, _, err = zen("run", f"{flow}:stray_missing")
    assert code == 0, err
    data = module_repo.runs(limit=1)[0].steps["datasource"].outputs["output"].read()
    assert data.schema.field("amount").type == pa.float64() and data.to_pandas("all")["amount"].isna().sum() == 1


def test_nested_parquet_columns_split_and_are_named_as_features(module_repo: Any, flow: str, zen: Any) -> None:
    code, _, err = zen("run", f"{flow}:nested")
    assert code == 1, err
    assert "cannot encode column 'tags' of type list<element: string> (nor 'meta'); leave it out of features" in err
    assert "(features=['x'])" in err
    run = module_repo.runs(limit=1)[0]
    assert run.steps["split"].status == "completed"  # was: TypeError: unhashable type
    code, _, err = zen("run", f"{flow}:nested_flat")
    assert code == 0, err
    split = module_repo.runs(limit=1)[0].steps["split"].outputs["data"].read()
    assert split.num_rows("train") + split.num_rows("eval") == 569
    code, _, err = zen("run", f"{flow}:nested_domain")
    assert code == 1 and "column 'tags' is nested (list<element: string>); split by a column of plain values" in err


def test_nested_columns_hash_the_same_in_any_batching() -> None:
    from zenml.steps.split.random import row_hashes

    batch = pa.RecordBatch.from_pydict({"tags": [["a"], [], ["a", "b"]], "meta": [{"k": 1}, {"k": 2}, None]})
    whole = row_hashes(batch, None, seed=3)
    parts = np.concatenate([row_hashes(batch.slice(i, 1), None, seed=3) for i in range(3)])
    assert np.array_equal(whole, parts) and len(set(whole.tolist())) == 3


def test_duplicate_parquet_column_names_are_refused(tmp_path: Path) -> None:
    table = pa.Table.from_arrays([pa.array([1, 2]), pa.array([3, 4]), pa.array([5, 6])], names=["a", "a", "b"])
    pq.write_table(table, tmp_path / "dup.parquet")
    with pytest.raises(ConfigError, match=r"dup\.parquet: column name 'a' appears 2 times; give each column"):
        ParquetDatasource(path=str(tmp_path / "dup.parquet")).preflight()
    ParquetDatasource(path=str(tmp_path / "dup.parquet"), columns=["b"]).preflight()  # the one read is unique
