"""Fuzzing zenml's input surfaces: only zenml's own errors come out, never a raw exception or a hang.

Targets: the spec loader (``RunSpec.from_yaml`` and ``zen run SPEC.yaml``), the ``--param`` /
``--backend-opt`` parsers, random ``zen`` command lines, CSV ingestion and reading corrupt
artifact files. Every example is bounded (sizes, counts; pytest-timeout guards hangs) and the
fast variants are derandomized so CI is reproducible; the ``slow`` variants search further with
fresh randomness. Inputs that once escaped as raw exceptions are kept as ``@example``\\ s.
"""

from __future__ import annotations

import copy
import json
import os
import string
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hostile_helpers import Project, isolated_imports, make_project, zen
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from zenml.exceptions import ZenMLError

FAST = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FEW = settings(FAST, max_examples=30)
LONG = settings(FAST, max_examples=1500, derandomize=False)
slow = pytest.mark.slow

# -- strategies -------------------------------------------------------------------------------------------

json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20)
json_values = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
yaml_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=300) | st.sampled_from(
    [
        "",
        "~",
        "[",
        "{a: 1",
        "spec_version: 1",
        "spec_version: true",
        "spec_version: 99",
        "spec_version: 1\nsteps: 3",
        "&a [*a]",
        "a: &a [*a, *a]",
        "- &x {b: *x}",
        "!!binary ZGVhZGJlZWY=",
        "? [1, 2]\n: 3",
        "spec_version: 1\nsteps:\n  ? [a]\n  : {}",
        "%YAML 1.1\n---\na: 1\n---\nb: 2",
        "\ufeffspec_version: 1",
        "spec_version: 1\n\x00",
    ]
)
token = st.text(alphabet=string.ascii_letters + string.digits + "._-=:,[]{}'\" ", max_size=24)


def _valid_spec_data(project: Project) -> dict[str, Any]:
    return project.spec_data()


@st.composite
def mutated_specs(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """A valid spec with a few fields replaced, deleted or added at random paths."""
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 4))):
        node: Any = data
        path: list[Any] = []
        while isinstance(node, dict | list) and node and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else list(range(len(node)))))
            path.append(key)
            node = node[key]
        if not path:
            data[draw(st.text(max_size=8))] = draw(json_values)
            continue
        parent: Any = data
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "retype"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "retype":
            parent[path[-1]] = draw(st.sampled_from([None, [], {}, "", 0, -1, 1e308, "../../etc/passwd", "a.b"]))
        else:
            parent[path[-1]] = draw(json_values)
    return data


# -- fixtures -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """One project (the working directory) with a completed run, shared by the examples of this module."""
    from zenml.repository import close_stores

    root = tmp_path_factory.mktemp("fuzz") / "project"
    root.mkdir()
    saved_cwd = Path.cwd()
    saved_env = {name: os.environ.pop(name) for name in list(os.environ) if name.startswith("ZEN_")}
    os.chdir(root)
    try:
        with isolated_imports(root.parent):
            yield make_project(root)
            close_stores()
    finally:
        os.chdir(saved_cwd)
        os.environ.update(saved_env)


def _unique(project: Project, suffix: str) -> Path:
    return project.root / "fuzz" / f"{uuid.uuid4().hex[:12]}{suffix}"


def _assert_cli_contract(result: Any, argv: list[str]) -> None:
    """Exit 0, 1 or 2; on failure one ``Error:`` line (or, for a bare command group, its usage); no traceback."""
    assert result.code in (0, 1, 2), (argv, result.code, result.err)
    assert "Traceback" not in result.out + result.err, (argv, result.err)
    if result.code != 0 and not (result.code == 2 and not result.error_lines and result.err.startswith("Usage:")):
        assert len(result.error_lines) == 1, (argv, result.err)


# -- the spec loader ----------------------------------------------------------------------------------------


def _load_spec(text: str) -> None:
    from zenml.pipelines.spec import RunSpec

    try:
        spec = RunSpec.from_yaml(text, "fuzz.yaml")
    except ZenMLError as exc:
        assert str(exc).startswith("fuzz.yaml"), str(exc)
        return
    assert RunSpec.from_yaml(spec.to_yaml()) == spec


@FAST
@given(text=yaml_text)
@example(text="spec_version: 1\nsteps:\n  ? [a]\n  : {}")
def test_spec_loader_on_random_text(text: str) -> None:
    _load_spec(text)


@FAST
@given(data=st.data())
def test_spec_loader_on_mutated_specs(project: Project, data: st.DataObject) -> None:
    spec = data.draw(mutated_specs(_valid_spec_data(project)))
    _load_spec(yaml.safe_dump(spec, allow_unicode=True))


@FEW
@given(data=st.data())
def test_zen_run_on_mutated_specs(project: Project, data: st.DataObject) -> None:
    spec = data.draw(mutated_specs(_valid_spec_data(project)))
    path = _unique(project, ".yaml")
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(spec, allow_unicode=True))
    _assert_cli_contract(zen("run", str(path), "--quiet"), ["run", str(path)])


@FEW
@given(text=yaml_text)
def test_zen_run_on_random_spec_text(project: Project, text: str) -> None:
    path = _unique(project, ".yaml")
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    _assert_cli_contract(zen("run", str(path), "--quiet"), ["run", str(path)])


# -- --param / --backend-opt --------------------------------------------------------------------------------


@FAST
@given(items=st.lists(token | st.text(max_size=30), max_size=5))
@example(items=["a.b=!!python/name:os.system"])
@example(items=["a.b=[", "a.b={", "a.b=&x [*x]"])
def test_assignment_parser(items: list[str]) -> None:
    from zenml.cli.options import keep_strings, parse_assignments

    try:
        parsed = parse_assignments(items, "--param", "STEP")
    except ZenMLError as exc:
        assert "--param" in str(exc)
        return
    assert all(isinstance(params, dict) for params in parsed.values())
    kept = keep_strings(parsed, items, lambda owner, key: True)
    assert all(isinstance(value, str) for params in kept.values() for value in params.values())


@FEW
@given(
    params=st.lists(st.sampled_from(["scale.factor", "load.x", "scale", "nope.k", ".k", "scale."]) | token, max_size=3),
    values=st.lists(token, min_size=3, max_size=3),
    options=st.lists(st.sampled_from(["processing.workers", "orchestrator.x", "training.device", "bad"]), max_size=2),
)
def test_zen_run_with_random_params_and_backend_options(
    project: Project, params: list[str], values: list[str], options: list[str]
) -> None:
    argv = ["run", f"{project.module}.py:scaled", "--quiet"]
    for name, value in zip(params, values, strict=False):
        argv += ["--param", f"{name}={value}"]
    for name, value in zip(options, values, strict=False):
        argv += ["--backend-opt", f"{name}={value}"]
    _assert_cli_contract(zen(*argv), argv)


# -- random command lines -----------------------------------------------------------------------------------

COMMANDS = [
    ["init"],
    ["run"],
    ["plan"],
    ["graph"],
    ["version"],
    ["steps", "list"],
    ["step", "exec"],
    ["step", "begin"],
    ["step", "end"],
    ["runs", "list"],
    ["runs", "show"],
    ["runs", "logs"],
    ["runs", "resume"],
    ["runs", "compare"],
    ["pipelines", "list"],
    ["artifacts", "list"],
    ["artifacts", "show"],
    ["datasources", "list"],
    ["datasources", "show"],
    ["stack", "list"],
    ["stack", "register"],
    ["stack", "set"],
    ["stack", "describe"],
    ["stack", "delete"],
    ["examples", "list"],
    ["nonsense"],
    [],
]
OPTIONS = [
    "--help", "--stack", "--limit", "-n", "--format", "--pipeline", "--run", "--param", "--backend-opt",
    "--orchestrator", "--processing", "--training", "--no-cache", "--on-failure", "--json", "--metric", "--sort",
    "--lineage", "--artifact-store", "--metadata-store", "--set", "--scheduled-run", "--single-attempt", "--debug",
    "--refresh-data", "--data-from",
]  # fmt: skip
# ``/`` and ``..`` stay out of random words, so no command writes outside the project
word = st.text(alphabet=string.ascii_letters + string.digits + "._-=:,@*", min_size=0, max_size=16)


@st.composite
def command_lines(draw: st.DrawFn, project: Project) -> list[str]:
    known = [
        *(project.spec.name, str(project.spec.relative_to(project.root)), f"{project.module}.py:scaled"),
        *("default", "scale", "load", "dot", "mermaid", "json", "memory://fuzz", "sqlite:///fuzz.db", "-1", "0"),
    ]
    argv = list(draw(st.sampled_from(COMMANDS)))
    for _ in range(draw(st.integers(0, 5))):
        argv.append(draw(st.sampled_from(OPTIONS) | st.sampled_from(known) | word))
    return [part for part in argv if part != "--debug"]  # --debug prints tracebacks on purpose


@settings(FAST, max_examples=120)
@given(data=st.data())
def test_random_command_lines(project: Project, data: st.DataObject) -> None:
    argv = data.draw(command_lines(project))
    if argv[:1] == ["init"] and len(argv) > 1:  # `zen init WORD` creates a repository: keep it in the scratch folder
        argv = ["init", str(project.root / "fuzz" / "init" / argv[1].lstrip("-"))]
    _assert_cli_contract(zen(*argv), argv)


@pytest.mark.parametrize("argv", [[], ["stack"], ["runs"], ["step"]])
def test_bare_command_groups_show_their_usage(project: Project, argv: list[str]) -> None:
    """Found by the long fuzzer: ``zen`` alone prints usage and exits 2, which the contract allows."""
    result = zen(*argv)
    assert result.code == 2 and result.err.startswith("Usage: zen") and "Traceback" not in result.err
    _assert_cli_contract(result, argv)


# -- CSV ingestion ------------------------------------------------------------------------------------------

cell = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8) | st.sampled_from(
    ["", "1", "-2.5", "nan", "true", '"', '""', "a,b", "\n", "\r\n", "1e400", "2024-01-01"]
)


@st.composite
def csv_texts(draw: st.DrawFn) -> bytes:
    """A header and rows, sometimes ragged, sometimes with a different delimiter or encoding."""
    columns = draw(st.integers(0, 4))
    rows = draw(st.lists(st.lists(cell, min_size=max(columns - 1, 0), max_size=columns + 1), max_size=8))
    header = draw(st.lists(cell, min_size=columns, max_size=columns))
    separator = draw(st.sampled_from([",", ";", "\t"]))
    text = "\n".join(separator.join(row) for row in [header, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


def _read_csv(project: Project, content: bytes, **params: Any) -> None:
    from zenml.datasources.csv import CSVDatasource

    path = _unique(project, ".csv")
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    try:
        dataset = CSVDatasource(path=str(path), **params).read(str(_unique(project, "-out")))
    except ZenMLError as exc:
        assert str(path) in str(exc) or "CSV" in str(exc), str(exc)
        return
    assert dataset.to_table().num_rows == dataset.num_rows()


@FAST
@given(content=csv_texts() | st.binary(max_size=200))
@example(content=b"")
@example(content=b"a,b\n1\n")
@example(content=b"\xff\xfe\x00")
@example(content=b"\x80\n\x00")  # was: raw UnicodeDecodeError from Parquet (header not UTF-8)
def test_csv_ingestion(project: Project, content: bytes) -> None:
    _read_csv(project, content)


@FEW
@given(content=csv_texts(), schema=st.dictionaries(cell, st.sampled_from(["int64", "string", "bool", "float64"])))
def test_csv_ingestion_with_a_schema(project: Project, content: bytes, schema: dict[str, str]) -> None:
    _read_csv(project, content, schema=schema)


# -- materializers: corrupt artifact files ------------------------------------------------------------------


def _store(project: Project) -> Any:
    from zenml.artifacts import ArtifactStore

    return ArtifactStore(str(project.root / "fuzz" / "store"))


def _values() -> list[Any]:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    return [
        {"a": [1, 2.5, "x"]},
        np.arange(12, dtype=np.float32).reshape(3, 4),
        pa.table({"a": [1, 2, 3], "b": ["x", "y", None]}),
        pd.DataFrame({"a": [1.0, 2.0], "b": ["u", "v"]}),
    ]


@FAST
@given(
    index=st.integers(0, 3),
    damage=st.sampled_from(["random", "truncate", "flip", "empty", "append"]),
    noise=st.binary(max_size=64),
    cut=st.integers(0, 10_000),
)
def test_corrupt_artifact_files(project: Project, index: int, damage: str, noise: bytes, cut: int) -> None:
    """Whatever the bytes, a read gives a value or an ``ArtifactError`` naming the artifact, never a raw error.

    The content hash is recomputed, as if the recorded hash had been forged too, so the materializer
    itself meets the damaged bytes.
    """
    from dataclasses import replace

    from zenml.exceptions import ArtifactError

    store = _store(project)
    stored = store.save(_values()[index], ("fuzz", uuid.uuid4().hex[:12], "out"))
    folder = Path(stored.uri)
    (data_file,) = [p for p in folder.iterdir() if not p.name.startswith(".")]
    content = data_file.read_bytes()
    damaged = {
        "random": noise,
        "truncate": content[: cut % max(len(content), 1)],
        "flip": bytes(b ^ 0xFF if i == cut % max(len(content), 1) else b for i, b in enumerate(content)),
        "empty": b"",
        "append": content + noise,
    }[damage]
    data_file.write_bytes(damaged)
    forged = replace(stored, content_hash=store.hash_folder(str(folder))[0])
    for record, name in ((stored, "output 'out'"), (forged, "output 'out'")):
        try:
            store.load(record, name)
        except ArtifactError as exc:
            assert name in str(exc), str(exc)


@FEW
@given(dataset_json=json_values | st.fixed_dictionaries({"splits": json_values, "schema": json_values}))
# were: raw IndexError / KeyError / TypeError from Dataset.files() on a damaged dataset.json
@example(dataset_json={"splits": [True], "schema": None})
@example(dataset_json={"splits": {"": {}}, "schema": None})
def test_corrupt_dataset_metadata(project: Project, dataset_json: Any) -> None:
    """A ``Dataset`` folder whose ``dataset.json`` is anything: an ``ArtifactError``, never a raw error."""
    from dataclasses import replace

    import pyarrow as pa

    from zenml.artifacts.dataset import DatasetWriter
    from zenml.exceptions import ArtifactError

    writer = DatasetWriter(str(_unique(project, "-ds")), pa.schema([("a", pa.int64())]))
    writer.write("train", pa.record_batch({"a": [1, 2]}))
    writer.add_split("train")
    dataset = writer.close()
    store = _store(project)
    stored = store.save(dataset, ("fuzz", uuid.uuid4().hex[:12], "data"))
    folder = Path(stored.uri)
    (folder / "dataset.json").write_text(json.dumps(dataset_json))

    forged = replace(stored, content_hash=store.hash_folder(str(folder))[0])
    try:
        loaded = store.load(forged, "output 'data'")
        assert loaded.to_table().num_rows == loaded.num_rows() == sum(loaded.num_rows(s) for s in loaded.splits)
        assert loaded.schema.names == loaded.column_names
    except ArtifactError as exc:
        assert "data" in str(exc)


# -- long variants (selected by .ci/run with -m slow) -------------------------------------------------------


@slow
@LONG
@given(text=yaml_text)
def test_spec_loader_on_random_text_long(text: str) -> None:
    _load_spec(text)


@slow
@LONG
@given(data=st.data())
def test_spec_loader_on_mutated_specs_long(project: Project, data: st.DataObject) -> None:
    _load_spec(yaml.safe_dump(data.draw(mutated_specs(_valid_spec_data(project))), allow_unicode=True))


@slow
@settings(LONG, max_examples=400)
@given(data=st.data())
def test_random_command_lines_long(project: Project, data: st.DataObject) -> None:
    test_random_command_lines.hypothesis.inner_test(project, data)  # type: ignore[attr-defined]


@slow
@settings(LONG, max_examples=400)
@given(content=csv_texts() | st.binary(max_size=2000))
def test_csv_ingestion_long(project: Project, content: bytes) -> None:
    _read_csv(project, content)
