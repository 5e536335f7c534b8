"""The read side's old module paths still work for one release, each name with a warning naming its new home."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

import zenml.history
from zenml.history import compare, integrity, reports, runs
from zenml.history.reports import collect, compare_page, figures, page, run_report

MOVED = [
    ("zenml.views", "PipelineRun", runs),
    ("zenml.views", "FINISHED_RUN", runs),
    ("zenml.compare", "compare_with_first", compare),
    ("zenml.doctor", "check", integrity),
    ("zenml.reports", "write_run_report", reports),
    ("zenml.reports.collect", "trainer_tasks", collect),
    ("zenml.reports.compare_page", "write_compare_page", compare_page),
    ("zenml.reports.figures", "metrics_figure", figures),
    ("zenml.reports.page", "plotly", page),
    ("zenml.reports.run_report", "write_run_report", run_report),
]


@pytest.mark.parametrize(("old", "name", "new"), MOVED, ids=[f"{old}.{name}" for old, name, _ in MOVED])
def test_an_old_path_gives_the_same_object_and_names_the_new_one(old: str, name: str, new: ModuleType) -> None:
    module = importlib.import_module(old)  # importing the old module alone stays silent
    new_name = new.__name__
    with pytest.warns(DeprecationWarning, match=rf"^{old} moved to {new_name}; import {name} from ") as caught:
        value = getattr(module, name)
    assert value is getattr(new, name)
    assert caught[0].filename == __file__, "the warning points at the line that used the old path"


def test_from_import_of_an_old_path_warns() -> None:
    with pytest.warns(DeprecationWarning, match="zenml.views moved to zenml.history.runs"):
        from zenml.views import PipelineRun
    assert PipelineRun is runs.PipelineRun


def test_an_old_path_refuses_names_it_never_had() -> None:
    import zenml.doctor

    with pytest.raises(AttributeError, match="module 'zenml.doctor' has no attribute 'nope'"):
        _ = zenml.doctor.nope  # type: ignore[attr-defined]
    assert not hasattr(zenml.doctor, "__all__")


def test_the_package_exports_the_main_read_side_names_lazily() -> None:
    assert zenml.history.PipelineRun is runs.PipelineRun
    assert zenml.history.compare_with_first is compare.compare_with_first
    with pytest.raises(AttributeError, match="module 'zenml.history' has no attribute 'nope'"):
        _ = zenml.history.nope  # type: ignore[attr-defined]
