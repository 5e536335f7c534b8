"""Every YAML zenml reads is safe-loaded: tags that build Python objects are errors, never calls.

The payloads below would, under ``yaml.load`` with an unsafe loader, run a shell command that
creates a flag file, or import a marker module that writes one. Each loader must refuse the
document with a one-line message naming the file, and leave no flag behind.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hostile_helpers import Marker, Project, assert_refused, isolated_imports, make_marker, make_project, zen

from zenml.exceptions import ConfigError

ZENML_PACKAGE = Path(__file__).resolve().parents[2] / "zenml"
CONTRIB = Path(__file__).resolve().parents[2] / "contrib"


def payloads(flag: Path, marker: str) -> list[str]:
    """Object-building tags, each of which would leave ``flag`` or import ``marker`` if honoured."""
    return [
        f"!!python/object/apply:os.system ['touch {flag}']",
        f"!!python/object/apply:subprocess.check_call [['touch', '{flag}']]",
        f"!!python/object/new:subprocess.Popen [['touch', '{flag}']]",
        "!!python/name:os.system",
        f"!!python/module:{marker}",
        f"!!python/object:{marker}.Evil {{}}",
    ]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")
    with isolated_imports(tmp_path):
        yield make_project(tmp_path / "project")
        from zenml.repository import close_stores

        close_stores()


@pytest.fixture
def marker(tmp_path: Path, project: Project) -> Marker:
    folder = tmp_path / "elsewhere"
    made = make_marker(folder)
    sys.path.insert(0, str(folder))  # undone by the project fixture
    return made


def _untouched(marker: Marker, flag: Path) -> bool:
    return not flag.exists() and not marker.imported()


#: the one module that calls PyYAML's loaders: safe ones only, and it refuses anchors and aliases
_READER = ZENML_PACKAGE / "utils" / "plainyaml.py"


def test_the_package_never_calls_an_unsafe_yaml_loader() -> None:
    """Static guard: every YAML read in zenml and contrib goes through ``zenml.utils.plainyaml.load_yaml``.

    ``yaml.safe_load`` is not enough: it expands aliases, so a billion-laughs document costs gigabytes.
    """
    unsafe = re.compile(
        r"yaml\.(load|load_all|full_load|full_load_all|unsafe_load|unsafe_load_all|safe_load|safe_load_all)\("
        r"|Loader\s*="
    )
    offenders = [
        f"{path}:{number}"
        for root in (ZENML_PACKAGE, CONTRIB)
        for path in root.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if unsafe.search(line) and not (path == _READER and "Loader=SAFE_LOADER)" in line)
    ]
    assert not offenders, f"YAML read outside zenml.utils.plainyaml at {offenders}"


def test_the_yaml_reader_constructs_only_plain_data() -> None:
    from zenml.utils import plainyaml

    assert plainyaml.SAFE_LOADER in (getattr(yaml, "CSafeLoader", None), yaml.SafeLoader)
    assert issubclass(plainyaml.SAFE_LOADER, yaml.constructor.SafeConstructor)
    assert not issubclass(plainyaml.SAFE_LOADER, yaml.constructor.FullConstructor)
    with pytest.raises(yaml.constructor.ConstructorError, match="could not determine a constructor"):
        plainyaml.load_yaml("!!python/object/apply:os.system ['true']")


@pytest.mark.parametrize("where", ["top", "params", "type", "inputs"])
def test_spec_with_object_tags_is_refused(project: Project, marker: Marker, tmp_path: Path, where: str) -> None:
    flag = tmp_path / "flag"
    text = project.spec.read_text()
    for number, payload in enumerate(payloads(flag, marker.module)):
        if where == "top":
            edited = text + f"extra: {payload}\n"
        elif where == "params":
            edited = text.replace("factor: 2.0", f"factor: {payload}")
        elif where == "type":
            edited = text.replace(f"type: {project.module}.Scale", f"type: {payload}")
        else:
            edited = text.replace("x: load.output", f"x: {payload}")
        assert edited != text
        spec = project.root / f"hostile_{number}.yaml"
        spec.write_text(edited)
        line = assert_refused(zen("run", str(spec)), str(spec), "malformed YAML")
        assert "could not determine a constructor" in line, line
        with pytest.raises(ConfigError, match="malformed YAML"):
            from zenml.pipelines.spec import RunSpec

            RunSpec.from_yaml(edited, str(spec))
        assert _untouched(marker, flag), payload


@pytest.mark.parametrize("where", ["value", "key", "stack"])
def test_stack_config_with_object_tags_is_refused(project: Project, marker: Marker, tmp_path: Path, where: str) -> None:
    from zenml.repository import Repository

    flag = tmp_path / "flag"
    config = project.root / ".zen" / "config.yaml"
    original = config.read_text()
    for payload in payloads(flag, marker.module):
        if where == "value":
            edited = original + f"active_stack: {payload}\n"
        elif where == "key":
            edited = f"? {payload}\n: 1\n" + original
        else:
            edited = re.sub(r"(metadata_store: ).*", lambda m, p=payload: m[1] + p, original, count=1)
        assert edited != original
        config.write_text(edited)
        assert_refused(zen("stack", "list"), "config.yaml", "not valid YAML")
        with pytest.raises(ConfigError, match="config.yaml is not valid YAML"):
            Repository(project.root).stack()
        assert _untouched(marker, flag), payload


def test_param_and_backend_option_values_never_build_objects(project: Project, marker: Marker, tmp_path: Path) -> None:
    from zenml.cli.options import parse_assignments

    flag = tmp_path / "flag"
    for payload in payloads(flag, marker.module):
        parsed = parse_assignments([f"scale.factor={payload}"], "--param", "STEP")
        assert parsed == {"scale": {"factor": payload}}  # not YAML that loads safely: kept as the text
        result = zen("run", f"{project.module}.py:scaled", "--param", f"scale.factor={payload}")
        assert_refused(result, "factor")
        result = zen("run", f"{project.module}.py:scaled", "--backend-opt", f"processing.workers={payload}")
        assert_refused(result, "workers")
        assert _untouched(marker, flag), payload
