"""The run spec models: YAML → spec → YAML is lossless, and bad specs fail with a one-line reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zenml.exceptions import ConfigError
from zenml.pipelines.spec import (
    SPEC_VERSION,
    BackendSpec,
    BackendsSpec,
    EnvironmentSpec,
    GitSpec,
    PipelineInfo,
    RunSpec,
    StackSpec,
    StepSpec,
)

SETTINGS = settings(max_examples=100, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- strategies ------------------------------------------------------------------------------------

FIRST = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
REST = FIRST + "0123456789"
# built from parts rather than with st.from_regex, which is several times slower to draw
IDENTIFIERS = st.builds(str.__add__, st.sampled_from(FIRST), st.text(alphabet=REST, max_size=8))
STEP_NAMES = st.builds(str.__add__, st.sampled_from(FIRST), st.text(alphabet=REST + "-", max_size=12))
OUTPUT_NAMES = IDENTIFIERS
DOTTED = st.lists(IDENTIFIERS, min_size=2, max_size=4).map(".".join)
HEX_40 = st.binary(min_size=20, max_size=20).map(bytes.hex)
HEX_64 = st.binary(min_size=32, max_size=32).map(bytes.hex)
JSON_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
PARAMS = st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=3)
BACKEND_PARAMS = st.dictionaries(IDENTIFIERS, JSON_SCALARS, max_size=2)  # cheaper to draw; steps carry the rich ones
TIMEZONES = (
    st.none() | st.just(dt.UTC) | st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
)


@st.composite
def backend_specs(draw: st.DrawFn) -> BackendSpec:
    return BackendSpec(name=draw(STEP_NAMES | DOTTED), type=draw(DOTTED), params=draw(BACKEND_PARAMS))


@st.composite
def run_specs(draw: st.DrawFn) -> RunSpec:
    names = draw(st.lists(STEP_NAMES, min_size=1, max_size=4, unique=True))
    outputs = {
        name: draw(st.dictionaries(OUTPUT_NAMES, st.sampled_from(["json", "npy", "parquet", "auto"]), max_size=3))
        for name in names
    }
    steps: dict[str, StepSpec] = {}
    for index, name in enumerate(names):
        producers = [(other, out) for other in names[:index] for out in outputs[other]]
        inputs = {}
        if producers:
            wired = draw(st.dictionaries(OUTPUT_NAMES, st.sampled_from(producers), max_size=3))
            inputs = {key: f"{step}.{out}" for key, (step, out) in wired.items()}
        steps[name] = StepSpec(
            type=draw(DOTTED),
            params=draw(PARAMS),
            inputs=inputs,
            outputs=outputs[name],
            enable_cache=draw(st.booleans()),
            processing=draw(st.none() | backend_specs()),
            training=draw(st.none() | backend_specs()),
        )
    git = draw(
        st.none()
        | st.builds(
            GitSpec,
            commit=st.none() | HEX_40,
            dirty=st.booleans(),
            diff_sha256=st.none() | HEX_64,
        )
    )
    return RunSpec(
        run_id=draw(st.text(min_size=1, max_size=20)),
        pipeline=PipelineInfo(name=draw(STEP_NAMES), type=draw(DOTTED)),
        created_at=draw(st.datetimes(timezones=TIMEZONES)),
        git=git,
        environment=EnvironmentSpec(
            python=f"3.{draw(st.integers(11, 14))}.{draw(st.integers(0, 20))}",
            zenml=draw(st.text(min_size=1, max_size=10)),
            packages=draw(st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=10), max_size=3)),
        ),
        code_paths=draw(st.lists(st.text(max_size=10), max_size=3)),
        stack=StackSpec(
            name=draw(STEP_NAMES), artifact_store=draw(st.text(max_size=30)), metadata_store=draw(st.text(max_size=30))
        ),
        backends=BackendsSpec(
            orchestrator=draw(backend_specs()), processing=draw(backend_specs()), training=draw(backend_specs())
        ),
        steps=steps,
    )


# -- round trip ------------------------------------------------------------------------------------


@SETTINGS
@given(run_specs())
def test_spec_to_yaml_and_back_is_lossless(spec: RunSpec) -> None:
    text = spec.to_yaml()
    parsed = RunSpec.from_yaml(text)
    assert parsed == spec
    assert parsed.to_yaml() == text  # the YAML text is stable, so its sha256 is too
    assert parsed.sha256() == spec.sha256()


@settings(SETTINGS, max_examples=30)
@given(run_specs())
def test_yaml_to_spec_to_yaml_is_stable(spec: RunSpec) -> None:
    # start from YAML as a user or another zenml version would have written it (key order shuffled)
    data = yaml.safe_load(spec.to_yaml())
    shuffled = yaml.safe_dump(dict(reversed(list(data.items()))), sort_keys=True)  # escapes every non-ASCII
    once = RunSpec.from_yaml(shuffled).to_yaml()
    assert RunSpec.from_yaml(once).to_yaml() == once
    assert RunSpec.from_yaml(once) == spec


def _minimal() -> dict[str, Any]:
    spec = RunSpec(
        run_id="r1",
        pipeline=PipelineInfo(name="p", type="pkg.p"),
        created_at=dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        environment=EnvironmentSpec(python="3.11.7", zenml="0.1.0"),
        stack=StackSpec(name="default", artifact_store="/a", metadata_store="sqlite:///m.db"),
        backends=BackendsSpec(
            orchestrator=BackendSpec(name="local", type="pkg.O"),
            processing=BackendSpec(name="local", type="pkg.P"),
            training=BackendSpec(name="local", type="pkg.T"),
        ),
        steps={
            "load": StepSpec(type="pkg.load", outputs={"output": "json"}),
            "scale": StepSpec(type="pkg.Scale", params={"factor": 2.0}, inputs={"x": "load.output"}),
        },
    )
    data: dict[str, Any] = yaml.safe_load(spec.to_yaml())
    return data


@pytest.mark.parametrize("text", ["a\x85", "\x85", "a\x85b", "line\u2028sep", "para\u2029sep", "tab\tand\nnewline "])
def test_strings_with_unicode_line_breaks_survive(text: str) -> None:
    data = _minimal()
    data["steps"]["scale"]["params"] = {"label": text, text: [text]}
    spec = RunSpec.from_data(data)
    assert RunSpec.from_yaml(spec.to_yaml()).steps["scale"].params == {"label": text, text: [text]}


def test_yaml_reads_top_down_in_model_order() -> None:
    text = RunSpec.from_data(_minimal()).to_yaml()
    keys = [line.split(":")[0] for line in text.splitlines() if line and not line.startswith(" ")]
    assert keys == [
        "spec_version",
        "run_id",
        "pipeline",
        "created_at",
        "git",
        "environment",
        "code_paths",
        "stack",
        "backends",
        "failure_policy",
        "enable_cache",
        "steps",
    ]
    assert "spec_version: 1\n" in text


def test_defaults_fill_in_optional_fields() -> None:
    data = _minimal()
    del data["git"], data["code_paths"], data["steps"]["load"]["params"], data["steps"]["load"]["enable_cache"]
    spec = RunSpec.from_data(data)
    assert spec.git is None
    assert spec.code_paths == []
    assert spec.steps["load"].params == {}
    assert spec.steps["load"].enable_cache is True


def test_a_spec_is_dumped_once_and_its_text_does_not_enter_equality() -> None:
    spec = RunSpec.from_data(_minimal())
    text = spec.to_yaml()
    assert spec.to_yaml() is text, "the dumped text is kept for the spec object"
    twin = RunSpec.from_data(_minimal())  # not dumped yet
    assert twin == spec and twin.to_yaml() == text and twin.to_yaml() is not text
    other = spec.model_copy(update={"run_id": "20240102-000000-000000"})
    assert other.to_yaml() != text, "a copy with another field is dumped anew"


def test_spec_is_immutable() -> None:
    spec = RunSpec.from_data(_minimal())
    with pytest.raises(Exception, match="frozen"):
        spec.run_id = "other"  # type: ignore[misc]


def test_upstream_and_downstream() -> None:
    data = _minimal()
    data["steps"]["sum"] = {"type": "pkg.add", "inputs": {"a": "scale.output", "b": "load.output", "c": "scale.output"}}
    spec = RunSpec.from_data(data)
    assert spec.steps["sum"].upstream() == ["scale", "load"]
    assert spec.downstream_of("load") == ["scale", "sum"]
    assert spec.downstream_of("sum") == []


# -- bad specs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("spec_version: 1\nrun_id: [unclosed\n", 3),
        ("spec_version: 1\nsteps:\n  a: {type: x\n  b: 2\n", 4),
        ("spec_version: 1\n\tbad_indent: 1\n", 2),
        ("a: b: c\n", 1),
    ],
)
def test_malformed_yaml_names_the_line(text: str, line: int) -> None:
    with pytest.raises(ConfigError, match=rf"^run\.yaml: malformed YAML at line {line}, column \d+: "):
        RunSpec.from_yaml(text, "run.yaml")


def test_newer_spec_version_says_upgrade() -> None:
    data = _minimal()
    data["spec_version"] = SPEC_VERSION + 1
    with pytest.raises(ConfigError, match=rf"spec format version {SPEC_VERSION + 1} is newer .*; upgrade zenml"):
        RunSpec.from_yaml(yaml.safe_dump(data), "run.yaml")


@pytest.mark.parametrize(
    ("version", "message"),
    [
        (0, "spec format version 0 does not exist"),
        (-3, "spec format version -3 does not exist"),
        ("1", "'spec_version' must be an integer"),
        (True, "'spec_version' must be an integer"),
        (1.0, "'spec_version' must be an integer"),
        (None, "'spec_version' must be an integer"),
    ],
)
def test_bad_spec_version(version: Any, message: str) -> None:
    data = _minimal()
    data["spec_version"] = version
    with pytest.raises(ConfigError, match=message):
        RunSpec.from_data(data)


def test_missing_spec_version() -> None:
    data = _minimal()
    del data["spec_version"]
    with pytest.raises(ConfigError, match="'spec_version' must be an integer"):
        RunSpec.from_data(data)


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just a string\n", "42\n"])
def test_spec_must_be_a_mapping(text: str) -> None:
    with pytest.raises(ConfigError, match="x.yaml: a run spec must be a YAML mapping"):
        RunSpec.from_yaml(text, "x.yaml")


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ((), "surprise"),
        (("pipeline",), "pipeline.surprise"),
        (("steps", "load"), "steps.load.surprise"),
        (("backends", "training"), "backends.training.surprise"),
        (("stack",), "stack.surprise"),
    ],
)
def test_unknown_fields_are_refused(path: tuple[str, ...], location: str) -> None:
    data = _minimal()
    target = data
    for key in path:
        target = target[key]
    target["surprise"] = 1
    with pytest.raises(ConfigError, match=rf"x.yaml: invalid field '{location}': Extra inputs are not permitted"):
        RunSpec.from_data(data, "x.yaml")


def test_missing_required_field_is_named() -> None:
    data = _minimal()
    del data["steps"]["scale"]["type"]
    with pytest.raises(ConfigError, match="invalid field 'steps.scale.type': Field required"):
        RunSpec.from_data(data)


def test_wrongly_typed_field_is_named() -> None:
    data = _minimal()
    data["steps"]["load"]["enable_cache"] = "sometimes"
    with pytest.raises(ConfigError, match="invalid field 'steps.load.enable_cache'"):
        RunSpec.from_data(data)


@pytest.mark.parametrize(
    "reference", ["load", "load.", ".output", "load.out-put", "load.output.extra", "lo ad.output", "1load.output"]
)
def test_bad_input_reference_format_is_refused(reference: str) -> None:
    data = _minimal()
    data["steps"]["scale"]["inputs"] = {"x": reference}
    with pytest.raises(
        ConfigError, match=r"invalid field 'steps.scale.inputs': .*input 'x' must reference 'step.output'"
    ):
        RunSpec.from_data(data)


@pytest.mark.parametrize("reference", ["load.output", "my-step.output", "_s.out_2"])
def test_good_input_references(reference: str) -> None:
    data = _minimal()
    data["steps"]["scale"]["inputs"] = {"x": reference}
    assert RunSpec.from_data(data).steps["scale"].inputs == {"x": reference}
