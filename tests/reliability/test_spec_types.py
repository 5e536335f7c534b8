"""A spec's ``type:`` fields name classes; nothing outside zenml, its plugins and the project is imported.

The rule (``zenml.utils.trust``): a path is imported only when its module is already imported, is
part of zenml or a registered plugin, or is a file inside the project; the object found must be a
step (or backend, or materializer) class before anything calls it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_helpers import Marker, Project, assert_refused, isolated_imports, make_marker, make_project, zen

from zenml.exceptions import ConfigError


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    """A project in ``tmp_path/project`` (the working directory) with one completed run."""
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")
    with isolated_imports(tmp_path):
        yield make_project(tmp_path / "project")
        from zenml.repository import close_stores

        close_stores()


@pytest.fixture
def marker(tmp_path: Path, project: Project) -> Marker:
    """A module outside the project, on ``sys.path``, whose import writes a file."""
    folder = tmp_path / "elsewhere"
    made = make_marker(folder)
    sys.path.insert(0, str(folder))  # undone by the project fixture's isolated_imports
    return made


def _runs(project: Project) -> list[str]:
    from zenml.repository import Repository, close_stores

    try:
        return sorted(run.id for run in Repository(project.root).runs())
    finally:
        close_stores()


HOSTILE_TYPES = ["os.system", "subprocess.Popen", "builtins.eval", "shutil.rmtree", "{marker}.Evil", "{marker}"]


@pytest.mark.parametrize("hostile", HOSTILE_TYPES)
def test_step_type_outside_the_project_is_refused_before_import(project: Project, marker: Marker, hostile: str) -> None:
    type_path = hostile.format(marker=marker.module)
    data = project.spec_data()
    data["steps"]["scale"]["type"] = type_path  # type: ignore[index]
    spec = project.write_spec(data)
    before = _runs(project)
    assert_refused(zen("run", str(spec)), "step 'scale'", type_path)
    assert not marker.imported()
    assert _runs(project) == before


@pytest.mark.parametrize("kind", ["orchestrator", "processing", "training"])
def test_backend_type_outside_zenml_is_refused_before_import(project: Project, marker: Marker, kind: str) -> None:
    data = project.spec_data()
    data["backends"][kind]["type"] = f"{marker.module}.Evil"  # type: ignore[index]
    data["backends"][kind]["name"] = f"{marker.module}.Evil"  # type: ignore[index]
    spec = project.write_spec(data)
    result = zen("run", str(spec), "--quiet")
    assert not marker.imported()
    if result.code == 0:  # the backend was chosen again by name from the registry, never from the spec's type
        from zenml.repository import Repository, close_stores

        runs = Repository(project.root).runs()
        close_stores()
        assert all(marker.module not in run.spec.to_yaml() for run in runs)
    else:
        assert_refused(result, marker.module)


def test_every_executor_refuses_a_hostile_type_before_import(project: Project, marker: Marker) -> None:
    """``load_step`` is what in-process runs, pool and Dask workers and ``zen step exec`` all call."""
    from zenml.pipelines.spec import StepSpec
    from zenml.runtime.loading import load_step

    with pytest.raises(ConfigError, match=f"step 'scale'.*{marker.module}.Evil.*outside zenml"):
        load_step("scale", StepSpec(type=f"{marker.module}.Evil"))
    assert not marker.imported()


def test_plan_refuses_a_hostile_type_before_import(project: Project, marker: Marker) -> None:
    data = project.spec_data()
    data["steps"]["load"]["type"] = f"{marker.module}.Evil"  # type: ignore[index]
    assert_refused(zen("plan", str(project.write_spec(data))), "step 'load'", marker.module)
    assert not marker.imported()


def test_code_path_leading_out_of_the_project_is_refused(project: Project, marker: Marker) -> None:
    data = project.spec_data()
    data["code_paths"] = ["../elsewhere"]
    data["steps"]["scale"]["type"] = f"{marker.module}.Evil"  # type: ignore[index]
    assert_refused(zen("run", str(project.write_spec(data))), "code path '../elsewhere'", "outside the project")
    assert not marker.imported()
    data["code_paths"] = [str(project.root.parent / "elsewhere")]
    assert_refused(zen("run", str(project.write_spec(data))), "outside the project")
    assert not marker.imported()


def test_a_class_that_is_not_a_step_is_never_called(project: Project) -> None:
    data = project.spec_data()
    data["steps"]["scale"]["type"] = "pathlib.Path"
    data["steps"]["scale"]["params"] = {"factor": "/tmp/x"}  # type: ignore[index]
    assert_refused(zen("run", str(project.write_spec(data))), "step 'scale'", "not a zenml step")


def test_the_projects_own_step_class_is_imported_from_the_project(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh process knows nothing: the spec's type is imported because its file is in the project."""
    from zenml.runtime import loading

    monkeypatch.delitem(sys.modules, project.module)
    with loading.forget_definitions():
        result = zen("run", str(project.spec), "--quiet")
    assert result.code == 0, result.err
    assert project.module in sys.modules
    assert len(_runs(project)) == 2


def test_stored_materializer_path_outside_the_project_is_refused(marker: Marker) -> None:
    from zenml.artifacts.materializers import MaterializerRegistry

    with pytest.raises(ConfigError, match="outside zenml"):
        MaterializerRegistry().for_stored("mystery", f"{marker.module}.Evil")
    assert not marker.imported()


def test_sklearn_estimator_must_be_an_estimator_class(marker: Marker) -> None:
    pytest.importorskip("sklearn", reason="the scikit-learn integration needs scikit-learn")
    from zenml_sklearn.trainer import estimator_class

    with pytest.raises(ConfigError, match="not a scikit-learn estimator"):
        estimator_class("os.system", "parameter 'estimator'")
    with pytest.raises(ConfigError, match="outside zenml"):
        estimator_class(f"{marker.module}.Evil", "parameter 'estimator'")
    assert not marker.imported()
    assert estimator_class("sklearn.linear_model.LogisticRegression", "parameter 'estimator'").__name__ == (
        "LogisticRegression"
    )
