"""Bad input: each fault exits 2 (1 for a failing step) with a one-line message naming it, stores untouched."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_helpers import Flow, Result, StoreState, store_state, write_flow

from zenml.repository import Repository

Zen = Callable[..., Result]


def assert_refused(result: Result, *fragments: str, code: int = 2) -> str:
    """Exit ``code``, exactly one ``Error:`` line holding every fragment, no traceback; return the line."""
    assert result.code == code, (result.out, result.err)
    assert len(result.error_lines) == 1, result.err
    line = result.error_lines[0]
    for fragment in fragments:
        assert fragment in line, line
    assert "Traceback" not in result.err
    return line


@dataclass(frozen=True)
class Baseline:
    """A repository with one completed run: its spec and what the stores held afterwards."""

    root: Path
    flow: Flow
    spec: Path
    state: StoreState

    def untouched(self) -> bool:
        return store_state(self.root) == self.state

    def edited_spec(self, old: str, new: str, name: str = "edited.yaml") -> str:
        text = self.spec.read_text()
        assert old in text
        (self.root / name).write_text(text.replace(old, new, 1))
        return name


@pytest.fixture
def baseline(zen: Zen, flow: Flow, repo: Repository, tmp_path: Path) -> Baseline:
    assert zen("run", flow.target("scaled"), "--quiet").code == 0
    spec = tmp_path / repo.runs()[0].record.spec_path
    return Baseline(tmp_path, flow, spec, store_state(tmp_path))


# -- run specs --------------------------------------------------------------------------------------


def test_malformed_yaml_spec(zen: Zen, baseline: Baseline) -> None:
    (baseline.root / "broken.yaml").write_text("spec_version: 1\nsteps: [load, scale\n")
    assert_refused(zen("run", "broken.yaml"), "broken.yaml", "malformed YAML", "line 3")
    assert baseline.untouched()


def test_spec_that_is_not_a_mapping(zen: Zen, baseline: Baseline) -> None:
    (baseline.root / "list.yaml").write_text("- just\n- a list\n")
    assert_refused(zen("run", "list.yaml"), "list.yaml", "mapping")
    assert baseline.untouched()


def test_spec_with_a_newer_format_version(zen: Zen, baseline: Baseline) -> None:
    spec = baseline.edited_spec("spec_version: 1", "spec_version: 99")
    assert_refused(zen("run", spec), spec, "version 99", "upgrade zenml")
    assert baseline.untouched()


def test_spec_with_an_unknown_step_type(zen: Zen, baseline: Baseline) -> None:
    module = baseline.flow.module
    spec = baseline.edited_spec(f"type: {module}.Scale", f"type: {module}.NoSuchStep")
    assert_refused(zen("run", spec), spec, "step 'scale'", f"{module}.NoSuchStep")
    assert baseline.untouched()


def test_spec_with_a_step_type_from_a_missing_module(zen: Zen, baseline: Baseline) -> None:
    spec = baseline.edited_spec(f"type: {baseline.flow.module}.Scale", "type: no_such_module.Scale")
    assert_refused(zen("run", spec), spec, "step 'scale'", "no_such_module")
    assert baseline.untouched()


def test_spec_with_a_misspelled_parameter(zen: Zen, baseline: Baseline) -> None:
    spec = baseline.edited_spec("factor: 2.0", "factr: 2.0")
    assert_refused(zen("run", spec), spec, "step 'scale'", "'factr'", "did you mean 'factor'")
    assert baseline.untouched()


def test_spec_with_a_parameter_of_the_wrong_type(zen: Zen, baseline: Baseline) -> None:
    spec = baseline.edited_spec("factor: 2.0", "factor: abc")
    assert_refused(zen("run", spec), spec, "step 'scale'", "'factor'", "float")
    assert baseline.untouched()


def test_spec_with_an_unknown_field(zen: Zen, baseline: Baseline) -> None:
    spec = baseline.edited_spec("enable_cache: true", "enable_cach: true")
    assert_refused(zen("run", spec), spec, "enable_cach")
    assert baseline.untouched()


def test_missing_spec_file(zen: Zen, baseline: Baseline) -> None:
    assert_refused(zen("run", "pipelines/scaled/nope.yaml"), "pipelines/scaled/nope.yaml", "does not exist")
    assert baseline.untouched()


def test_param_cannot_change_a_stored_spec(zen: Zen, baseline: Baseline) -> None:
    assert_refused(zen("run", str(baseline.spec), "--param", "scale.factor=3"), "--param", "stored spec")
    assert baseline.untouched()


# -- parameters -------------------------------------------------------------------------------------


def test_misspelled_param_option(zen: Zen, baseline: Baseline) -> None:
    line = assert_refused(
        zen("run", baseline.flow.target("scaled"), "--param", "scale.factr=2"), "step 'scale'", "'factr'"
    )
    assert "did you mean 'factor'" in line
    assert baseline.untouched()


def test_param_of_the_wrong_type(zen: Zen, baseline: Baseline) -> None:
    assert_refused(
        zen("run", baseline.flow.target("scaled"), "--param", "scale.factor=abc"), "step 'scale'", "'factor'", "float"
    )
    assert baseline.untouched()


def test_param_for_an_unknown_step(zen: Zen, baseline: Baseline) -> None:
    assert_refused(zen("run", baseline.flow.target("scaled"), "--param", "scael.factor=2"), "'scael'", "load, scale")
    assert baseline.untouched()


@pytest.mark.parametrize("item", ["scale.factor", "scale=2", "=2", "scale.=2"])
def test_param_not_of_the_form_step_key_value(zen: Zen, baseline: Baseline, item: str) -> None:
    assert_refused(zen("run", baseline.flow.target("scaled"), "--param", item), f"'{item}'", "STEP.KEY=VALUE")
    assert baseline.untouched()


def test_misspelled_parameter_in_code(zen: Zen, baseline: Baseline) -> None:
    """``Scale(factr=2)`` in a pipeline body or at module level: one line naming the parameter, the fix and the line."""
    body = "\n\n@pipeline\ndef typo() -> None:\n    Scale(factr=2.0)(x=load())\n"
    module = write_flow(baseline.root, source=_flow_source() + body)
    fragments = ("Scale has no parameter 'factr'; did you mean 'factor'? (parameters: factor)",)
    assert_refused(zen("run", module.target("typo")), *fragments, f"{module.file}, line")
    top_level = write_flow(baseline.root, source=_flow_source() + "\nbad = Scale(factr=2.0)\n")
    assert_refused(zen("run", top_level.target("scaled")), *fragments, f"{top_level.file}, line")
    assert baseline.untouched()


def test_misspelled_parameter_of_a_function_step_in_code(zen: Zen, baseline: Baseline) -> None:
    body = "\n\n@pipeline\ndef typo() -> None:\n    greet(nmae='x')\n"
    module = write_flow(baseline.root, source=_flow_source() + body)
    assert_refused(zen("run", module.target("typo")), "'nmae'", "did you mean 'name'")
    assert baseline.untouched()


def _flow_source() -> str:
    from cli_helpers import FLOW_SOURCE

    return FLOW_SOURCE


# -- graphs -----------------------------------------------------------------------------------------


def test_cycle(zen: Zen, baseline: Baseline) -> None:
    assert_refused(zen("run", baseline.flow.target("cyclic")), "cycle", "a -> b -> a")
    assert baseline.untouched()


def test_input_naming_a_missing_step(zen: Zen, baseline: Baseline) -> None:
    assert_refused(
        zen("run", baseline.flow.target("missing_step")), "input 'x' of step 'scale'", "'lod'", "did you mean 'load'"
    )
    assert baseline.untouched()


def test_input_naming_a_missing_output(zen: Zen, baseline: Baseline) -> None:
    assert_refused(
        zen("run", baseline.flow.target("missing_output")), "input 'x' of step 'scale'", "output 'result'", "load"
    )
    assert baseline.untouched()


# -- targets ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "fragments"),
    [
        ("nofile.py:scaled", ("nofile.py", "does not exist")),
        ("{file}:nothing", ("{file}", "'nothing'")),
        ("{file}:not_a_pipeline", ("not a pipeline",)),
        ("no_such_package.module:scaled", ("no_such_package",)),
        ("{file}", ("'{file}'", "path/file.py:name")),
    ],
)
def test_bad_targets(zen: Zen, baseline: Baseline, target: str, fragments: tuple[str, ...]) -> None:
    file = baseline.flow.file
    assert_refused(zen("run", target.format(file=file)), *(f.format(file=file) for f in fragments))
    assert baseline.untouched()


def test_module_with_a_syntax_error(zen: Zen, baseline: Baseline) -> None:
    broken = write_flow(baseline.root, source="def oops(:\n    pass\n")
    assert_refused(zen("run", broken.target("x")), "SyntaxError", f"{broken.file}, line 1")
    assert baseline.untouched()


# -- repository, backends, stores -------------------------------------------------------------------


def test_run_outside_a_repository(zen: Zen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    monkeypatch.chdir(outside)
    flow = write_flow(outside)
    assert_refused(zen("run", flow.target("scaled")), "no zenml repository", "zen init")
    assert_refused(zen("runs", "list"), "zen init")
    assert not (outside / ".zen").exists()
    assert not (outside / "pipelines").exists()


@pytest.mark.parametrize("kind", ["orchestrator", "processing", "training"])
def test_unknown_backend_name(zen: Zen, baseline: Baseline, kind: str) -> None:
    result = zen("run", baseline.flow.target("scaled"), f"--{kind}", "warp")
    assert_refused(result, f"unknown {kind} backend 'warp'", f"known {kind} backends: local")
    assert baseline.untouched()


def test_backend_option_the_backend_does_not_have(zen: Zen, baseline: Baseline) -> None:
    result = zen("run", baseline.flow.target("scaled"), "--backend-opt", "processing.x=1")
    assert_refused(result, "processing backend 'local'", "LocalProcessing", "'x'")
    assert baseline.untouched()


def test_backend_option_of_an_unknown_kind(zen: Zen, baseline: Baseline) -> None:
    result = zen("run", baseline.flow.target("scaled"), "--backend-opt", "cluster.size=3")
    assert_refused(result, "'cluster'", "orchestrator, processing, training")
    assert_refused(zen("run", baseline.flow.target("scaled"), "--backend-opt", "oops"), "KIND.KEY=VALUE")
    assert baseline.untouched()


def test_unknown_stack(zen: Zen, baseline: Baseline) -> None:
    assert_refused(zen("run", baseline.flow.target("scaled"), "--stack", "nope"), "no stack named 'nope'", "default")
    assert baseline.untouched()


def test_unreachable_metadata_store(zen: Zen, baseline: Baseline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZEN_METADATA_STORE", "postgresql+psycopg://postgres:pa55word@127.0.0.1:1/nope")
    result = zen("run", baseline.flow.target("scaled"))
    line = assert_refused(result, "metadata store", "127.0.0.1:1")
    assert "pa55word" not in result.out + result.err
    assert "postgres:***@" in line
    monkeypatch.delenv("ZEN_METADATA_STORE")
    assert baseline.untouched()  # in particular: no spec file was written


def test_step_that_raises(zen: Zen, baseline: Baseline, repo: Repository) -> None:
    Path("broken").touch()
    result = zen("run", baseline.flow.target("failing"))
    assert result.code == 1
    assert result.error_lines[0] == "Error: step 'boom' failed: ValueError: kaboom: the data is bad"
    assert len(result.error_lines) == 2 and "zen runs show" in result.error_lines[1]
    assert "Traceback" not in result.err
    run = repo.runs(pipeline="failing")[0]
    assert run.status == "failed"
    assert run.record.error_step == "boom"
    assert run.record.error_type == "ValueError"
    assert run.record.error_message == "kaboom: the data is bad"
    # 'scale' (after 'boom') never ran; 'load' was served from the baseline run's cache
    assert {name: step.status for name, step in run.steps.items()} == {
        "load": "cached",
        "boom": "failed",
        "scale": "skipped",  # never started: the run stopped at the failure
    }
    assert run.id in result.error_lines[1]


def test_debug_shows_a_traceback(zen: Zen, baseline: Baseline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZEN_DEBUG", "0")  # --debug sets it for the process; restored after the test
    quiet = zen("run", baseline.flow.target("cyclic"))
    assert "Traceback" not in quiet.err
    loud = zen("--debug", "run", baseline.flow.target("cyclic"))
    assert loud.code == 2
    assert "Traceback (most recent call last)" in loud.err
    assert "GraphError" in loud.err
    assert loud.error_lines == quiet.error_lines
    assert baseline.untouched()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "{target}", "--bogus"], "No such option: --bogus"),
        (["run"], "Missing argument"),
        (["runs", "list", "--limit", "many"], "--limit"),
        (["nonsense"], "No such command"),
    ],
)
def test_usage_errors(zen: Zen, baseline: Baseline, args: list[str], fragment: str) -> None:
    result = zen(*(arg.format(target=baseline.flow.target("scaled")) for arg in args))
    assert_refused(result, fragment)
    assert baseline.untouched()
