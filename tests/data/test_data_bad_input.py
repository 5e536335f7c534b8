"""The data steps' bad-input list: each mistake gives one clear message naming the thing at fault.

Configuration mistakes (ratios, runner names) are refused before anything is recorded (exit 2 from
``zen``); mistakes found in the data fail the step that met them (exit 1, the run recorded failed).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from data_helpers import write_mixed_csv

from zenml.backends.processing.beam import BeamProcessing
from zenml.datasources import CSVDatasource
from zenml.exceptions import ConfigError, StepError
from zenml.pipelines import SimplePipeline
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import CategoricalDomainSplit, RandomSplit

FLOW = """\
from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import CategoricalDomainSplit, RandomSplit


def flow(path, split=None, preprocessor=None, name="bad_input_flow"):
    pipeline = SimplePipeline(name=name).add_datasource(CSVDatasource(path=path))
    pipeline.add_split(split or RandomSplit(ratios={{"train": 0.7, "eval": 0.3}}, seed=1))
    return pipeline.add_preprocessor(preprocessor or StandardPreprocessor(labels=["label"]))


good = flow({good!r})
missing_file = flow({missing!r})
ragged = flow({ragged!r})
empty_split = flow({good!r}, CategoricalDomainSplit(column="city", domains={{"train": ["rome"], "eval": ["atlantis"]}}))
"""


def _state(repo: Any) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """Runs recorded, spec files and artifact files of the repository."""
    root = Path(repo.root)
    runs = sorted((run.id, run.status) for run in repo.runs())
    specs = sorted(str(p) for p in (root / "pipelines").rglob("*") if p.is_file())
    artifacts = sorted(str(p) for p in (root / ".zen" / "artifacts").rglob("*") if p.is_file())
    return runs, specs, artifacts


@pytest.fixture(scope="module")
def files(module_repo: Any) -> dict[str, Path]:
    root = Path(module_repo.root)
    ragged = root / "ragged.csv"
    ragged.write_text('id,name,score\n1,a,0.5\n2,"b, quoted",0.7\n3,c,0.9,extra\n4,d,1.0\n')
    return {
        "good": write_mixed_csv(root / "good.csv", rows=80, seed=5),
        "ragged": ragged,
        "missing": root / "no-such-file.csv",
    }


@pytest.fixture
def flow(files: dict[str, Path], flow_file: Callable[[str], str]) -> str:
    return flow_file(FLOW.format(**{name: str(path) for name, path in files.items()}))


def _pipeline(path: Path, **steps: Any) -> SimplePipeline:
    pipeline = SimplePipeline(name=steps.pop("name", "bad_input")).add_datasource(CSVDatasource(path=str(path)))
    pipeline.add_split(steps.get("split") or RandomSplit(ratios={"train": 0.7, "eval": 0.3}, seed=1))
    return pipeline.add_preprocessor(steps.get("preprocessor") or StandardPreprocessor(labels=["label"]))


def test_the_flow_runs_when_nothing_is_wrong(module_repo: Any, flow: str, zen: Any) -> None:
    code, out, err = zen("run", f"{flow}:good", "--no-cache")
    assert code == 0, err
    assert module_repo.runs(limit=1)[0].status == "completed"


def test_a_missing_file(module_repo: Any, files: dict[str, Path], flow: str, zen: Any) -> None:
    before = len(module_repo.runs())
    with pytest.raises(ConfigError, match=r"data file '.*no-such-file\.csv' does not exist; check the path"):
        _pipeline(files["missing"]).run()
    assert len(module_repo.runs()) == before  # refused while compiling: nothing recorded
    code, _, err = zen("run", f"{flow}:missing_file")
    assert code == 2
    assert "Error: step 'datasource': data file" in err and "no-such-file.csv' does not exist" in err


def test_a_ragged_csv_row_names_the_file_and_line(
    module_repo: Any, files: dict[str, Path], flow: str, zen: Any
) -> None:
    message = r"ragged\.csv line 4: expected 3 columns, got 4; fix the row \(quote fields that contain the delimiter\)"
    with pytest.raises(ConfigError, match=message):
        CSVDatasource(path=str(files["ragged"])).read(str(Path(module_repo.root) / "scratch"))
    with pytest.raises(StepError, match=rf"step 'datasource' failed: ConfigError: .*{message}"):
        _pipeline(files["ragged"]).run()
    code, _, err = zen("run", f"{flow}:ragged")
    assert code == 1
    assert "ragged.csv line 4: expected 3 columns, got 4" in err


def test_a_short_row_in_a_folder_names_its_file(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x,y\n1,2\n")
    (tmp_path / "b.csv").write_text("x,y\n1,2\n3,4\n5\n")
    with pytest.raises(ConfigError, match=r"b\.csv line 4: expected 2 columns, got 1"):
        CSVDatasource(path=str(tmp_path)).read(str(tmp_path / "out"))


@pytest.mark.parametrize(
    ("steps", "where", "column"),
    [
        ({"split": CategoricalDomainSplit(column="town", domains={"train": ["rome"]})}, "split", "town"),
        ({"split": RandomSplit(key_columns=["user_id"])}, "split", "user_id"),
        ({"preprocessor": StandardPreprocessor(features=["x", "height"], labels=["label"])}, "preprocessor", "height"),
        ({"preprocessor": StandardPreprocessor(labels=["target"])}, "preprocessor", "target"),
    ],
    ids=["split-column", "split-key", "feature", "label"],
)
def test_a_column_that_does_not_exist_lists_the_available_ones(
    module_repo: Any, files: dict[str, Path], steps: dict[str, Any], where: str, column: str
) -> None:
    with pytest.raises(StepError) as caught:
        _pipeline(files["good"], **steps).run()
    assert caught.value.step == where
    assert f"column '{column}' does not exist; available columns: id, x, z, n, city, flag, label" in str(caught.value)
    assert module_repo.runs(limit=1)[0].status == "failed"


def test_ratios_that_do_not_sum_to_one(module_repo: Any, files: dict[str, Path], flow: str, zen: Any) -> None:
    before = _state(module_repo)
    with pytest.raises(ConfigError, match=r"step 'split': RandomSplit ratios must sum to 1, but train=0\.5, eval=0\.4"):
        _pipeline(files["good"], split=RandomSplit(ratios={"train": 0.5, "eval": 0.4})).run()
    code, _, err = zen("run", f"{flow}:good", "--param", "split.ratios={train: 0.5, eval: 0.6}")
    assert code == 2
    assert "ratios must sum to 1, but train=0.5, eval=0.6 sum to 1.1" in err
    assert _state(module_repo) == before  # refused before anything was recorded


def test_a_split_that_comes_out_empty(module_repo: Any, flow: str, zen: Any) -> None:
    code, _, err = zen("run", f"{flow}:empty_split")
    assert code == 1
    assert "split 'eval' came out empty (0 of 80 rows)" in err
    run = module_repo.runs(limit=1)[0]
    assert run.status == "failed" and run.steps["split"].status == "failed"
    assert run.steps["preprocessor"].status == "skipped"  # never started


def test_a_label_with_unseen_classes_at_transform_time(module_repo: Any, tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text(
        "x,part,label\n"
        + "".join(f"{i},{'a' if i < 8 else 'b'},{'cat' if i % 2 else 'dog'}\n" for i in range(10)).replace(
            "9,b,cat", "9,b,cow"
        )
    )
    split = CategoricalDomainSplit(column="part", domains={"train": ["a"], "eval": ["b"]})
    with pytest.raises(
        StepError,
        match=r"step 'preprocessor' failed: ValueError: label 'label' has class 'cow', unseen "
        r"in the training split \(known: 'cat', 'dog'\)",
    ):
        _pipeline(path, split=split, preprocessor=StandardPreprocessor(features=["x"], labels=["label"])).run()


def test_a_beam_runner_that_does_not_exist(module_repo: Any, flow: str, zen: Any) -> None:
    before = _state(module_repo)
    with pytest.raises(ConfigError, match=r"Beam runner 'NoSuchRunner' does not exist; use one of DirectRunner"):
        BeamProcessing(runner="NoSuchRunner").validate()
    with pytest.raises(ConfigError, match=r"Beam runner 'NoSuchRunner' does not exist"):
        _pipeline(Path("good.csv")).run(processing=BeamProcessing(runner="NoSuchRunner"))
    code, _, err = zen("run", f"{flow}:good", "--processing", "beam", "--backend-opt", "processing.runner=NoSuchRunner")
    assert code == 2
    assert "Beam runner 'NoSuchRunner' does not exist" in err and "DataflowRunner" in err
    assert _state(module_repo) == before  # nothing recorded: no run, no spec, no artifact
