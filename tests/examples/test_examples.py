"""Every folder of ``examples/`` runs as its README and ``example.yaml`` say, through ``zen examples run``."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
from example_helpers import EXAMPLES, ExampleRun

from zenml.cli.example_catalog import load_example
from zenml.exceptions import ConfigError
from zenml.repository import Repository

ROOT = EXAMPLES.parent
#: pytest markers of the extras an example needs, so `-m "not tensorflow"` also deselects its example
MARKS = {"torch": pytest.mark.torch, "tensorflow": pytest.mark.tensorflow, "beam": pytest.mark.beam}
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _folders() -> list[Path]:
    # every folder, not only those with an example.yaml: one without it fails here instead of being skipped
    return sorted(path for path in EXAMPLES.iterdir() if path.is_dir() and not path.name.startswith((".", "_")))


def _param(folder: Path) -> object:
    try:
        needs = load_example(folder).spec.needs
    except ConfigError:
        needs = ()  # the tests below report what is wrong with it
    return pytest.param(folder.name, marks=[MARKS[extra] for extra in needs if extra in MARKS], id=folder.name)


def _bash_commands(markdown: str) -> list[list[list[str]]]:
    """Each ``bash`` block of a README as its commands' words (comments dropped)."""
    blocks = [body for lang, body in _BLOCK.findall(markdown) if lang == "bash"]
    return [
        [words for words in (shlex.split(line, comments=True) for line in block.splitlines()) if words]
        for block in blocks
    ]


@pytest.mark.parametrize("name", [_param(folder) for folder in _folders()])
def test_readme_says_what_example_yaml_runs(name: str) -> None:
    example = load_example(EXAMPLES / name)  # also: example.yaml and a README heading exist and are valid
    blocks = _bash_commands((EXAMPLES / name / "README.md").read_text())
    assert ["zen", "examples", "run", name] in [words for block in blocks for words in block]
    by_hand = [block for block in blocks if block and block[0] == ["zen", "init"]]
    assert by_hand == [[["zen", "init"], *[list(words) for words in example.spec.run]]], (
        "README's `zen init` block must list exactly example.yaml's run commands"
    )
    assert f"| [{name}]({name}) |" in (EXAMPLES / "README.md").read_text(), "examples/README.md's table lacks it"


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", [_param(folder) for folder in _folders()])
def test_example_runs_and_prints_what_it_promises(name: str, example_run: Callable[[str], ExampleRun]) -> None:
    example = load_example(EXAMPLES / name)
    missing = example.missing_extras()
    if missing:
        pytest.skip(f"{name} needs the {', '.join(missing)} extra(s)")
    ran = example_run(name)
    ran.succeeded()
    headers = [ran.stdout.find(f"$ {shlex.join(words)}\n") for words in example.spec.run]
    assert -1 not in headers and headers == sorted(headers), "every command ran, in order"
    for pattern in example.spec.prints:
        assert re.search(pattern, ran.stdout, re.MULTILINE), f"no line matches {pattern!r} in:\n{ran.stdout[-3000:]}"
    assert ran.stdout.rstrip().endswith(f"Example '{name}' finished in {ran.folder}")
    assert (ran.folder / ".zen").is_dir(), "the copy is a repository of its own"


@pytest.mark.timeout(600)
def test_function_steps_fit_the_line(example_run: Callable[[str], ExampleRun]) -> None:
    folder = example_run("function_steps").succeeded()
    (run,) = Repository(folder).runs(pipeline="function_steps")
    assert set(run.steps) == {"generate", "split", "fit", "evaluate"}
    assert run.metrics()["evaluate"]["mse"] < 0.05
    slope, _intercept = run.steps["fit"].outputs["output"].read()
    assert abs(slope - 2.5) < 0.1


@pytest.mark.tensorflow
@pytest.mark.timeout(600)
def test_quickstart_runs_as_the_script_runs_it(example_run: Callable[[str], ExampleRun]) -> None:
    pytest.importorskip("tensorflow", reason="the quickstart trains with TensorFlow")
    pytest.importorskip("sklearn", reason="the quickstart reads scikit-learn's bundled data")
    script = (ROOT / "scripts" / "quickstart").read_text()
    run_commands = load_example(EXAMPLES / "quickstart").spec.run
    assert run_commands == (
        ("python", "pipeline.py"),
        ("zen", "runs", "list", "--pipeline", "quickstart", "--limit", "3"),
        ("zen", "models", "list", "--pipeline", "quickstart"),
    )
    for command in ('"$ZEN" init .', "../../.venv/bin/python pipeline.py", '"$ZEN" runs list --pipeline quickstart',
                    '"$ZEN" models list --pipeline quickstart'):
        assert command in script  # the script runs what example.yaml runs
    folder = example_run("quickstart").succeeded()
    (run,) = Repository(folder).runs(pipeline="quickstart")
    metrics = run.metrics()["evaluator"]
    assert metrics["accuracy"] > 0.9 and metrics["auc"] > 0.95
    assert run.steps["trainer"].outputs["model"].read().meta["framework"] == "tensorflow"
    from zenml.serving import load_bundle

    bundle = load_bundle(str(folder / "models" / "quickstart"))  # it ends by deploying what zen serve serves
    assert bundle.provenance["run_id"] == run.id and bundle.classes == ["0", "1"]


@pytest.mark.torch
@pytest.mark.timeout(600)
def test_ddp_example_trained_on_two_rank_processes(example_run: Callable[[str], ExampleRun]) -> None:
    pytest.importorskip("torch", reason="DDP needs the torch extra")
    ran = example_run("ddp_training")
    folder = ran.succeeded()
    pids = dict(re.findall(r"^rank (\d)/2 \(pid (\d+)\)", ran.stdout, re.MULTILINE))
    assert sorted(pids) == ["0", "1"] and len(set(pids.values())) == 2, "two ranks, each its own process"
    in_code, from_shell = reversed(Repository(folder).runs(pipeline="orders_ddp"))
    for run in (in_code, from_shell):
        assert run.spec.backends.training.name == "torch"
        assert run.spec.backends.training.params["nproc_per_node"] == 2
    assert in_code.steps["trainer"].status == "completed"
    assert from_shell.steps["trainer"].status == "cached", "the shell form is the same computation"
    assert from_shell.steps["trainer"].outputs["model"].id == in_code.steps["trainer"].outputs["model"].id


@pytest.mark.torch
@pytest.mark.timeout(600)
def test_batch_inference_reads_the_trained_model(example_run: Callable[[str], ExampleRun]) -> None:
    pytest.importorskip("torch", reason="the model is trained with PyTorch")
    folder = example_run("batch_inference").succeeded()
    repository = Repository(folder)
    (trained,) = repository.runs(pipeline="orders_model")
    (inference,) = repository.runs(pipeline="batch_inference")
    inputs = inference.steps["inference"].inputs
    assert inputs["model"].id == trained.steps["trainer"].outputs["model"].id
    assert inputs["transform"].id == trained.steps["preprocessor"].outputs["transform"].id
    predicted = inference.steps["inference"].outputs["output"].read().to_pandas()
    assert list(predicted.columns) == ["items", "price", "channel", "prediction", "score"]
    assert len(predicted) == 300
