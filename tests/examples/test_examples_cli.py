"""``zen examples list|run``: where examples are found, how one is copied and run, and bad input (exit 2)."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from example_helpers import EXAMPLES

import zenml
from zenml.cli import example_catalog, output
from zenml.cli.app import main
from zenml.cli.example_catalog import find_examples

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
Zen = Callable[..., tuple[int, str, str]]


@pytest.fixture
def zen(capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Zen:
    """Run ``zen ARGS`` in this process; its exit code and what it and its children printed."""
    monkeypatch.setattr(output.console, "width", 200)  # tables never fold, whatever terminal pytest runs in
    monkeypatch.setattr(output.err_console, "width", 200)

    def invoke(*args: str) -> tuple[int, str, str]:
        capfd.readouterr()
        code = main(list(args))
        captured = capfd.readouterr()
        return code, _ANSI.sub("", captured.out), _ANSI.sub("", captured.err)

    return invoke


def write_example(root: Path, name: str, spec: str, files: dict[str, str] | None = None) -> Path:
    """A small example folder: a README heading, ``example.yaml`` and its files."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "README.md").write_text(f"# {name.title()}: a test example\n\nWhat it shows.\n")
    (folder / "example.yaml").write_text(spec)
    for file, text in (files or {}).items():
        (folder / file).write_text(text)
    return folder


@pytest.fixture
def own_examples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``$ZEN_EXAMPLES_DIR`` with two small examples: one that succeeds, one whose second command fails."""
    root = tmp_path / "examples"
    write_example(
        root,
        "hello",
        "run:\n  - [python, hello.py]\n  - [zen, version]\nprints: ['^hello from']\n",
        {"hello.py": "import os\nprint('hello from', os.getcwd())\n"},
    )
    write_example(
        root,
        "broken",
        "run:\n  - [python, ok.py]\n  - [python, fail.py]\n  - [python, ok.py]\n",
        {"ok.py": "print('ok ran')\n", "fail.py": "import sys\nprint('failing')\nsys.exit(3)\n"},
    )
    (root / "hello" / "data").mkdir()  # what an earlier run in the source folder left: never copied
    (root / "hello" / "data" / "big.csv").write_text("x\n1\n")
    monkeypatch.setenv("ZEN_EXAMPLES_DIR", str(root))
    return root


def test_list_shows_every_repository_example_with_its_readme_heading(zen: Zen) -> None:
    code, out, _ = zen("examples", "list")
    assert code == 0
    shipped = find_examples(EXAMPLES)
    assert set(shipped) >= {
        "quickstart",
        "pytorch_classifier",
        "custom_trainer",
        "function_steps",
        "data_pipeline",
        "ddp_training",
        "batch_inference",
    }
    for name, example in shipped.items():
        row = next(line for line in out.splitlines() if line.startswith(f"{name} "))
        assert example.description in row
        assert ", ".join(example.spec.needs) in row
    assert "Beam" in shipped["data_pipeline"].description  # the table says which example is the Beam one


def test_run_copies_initialises_and_streams_each_command(zen: Zen, own_examples: Path, tmp_path: Path) -> None:
    dest = tmp_path / "work" / "hi"
    code, out, _ = zen("examples", "run", "hello", "--dir", str(dest))
    assert code == 0
    assert f"Initialised zenml repository in {dest}" in out
    assert out.index("$ python hello.py\n") < out.index(f"hello from {dest}\n") < out.index("$ zen version\n")
    assert f"zenml {zenml.__version__}" in out
    assert out.rstrip().endswith(f"Example 'hello' finished in {dest}")
    assert sorted(p.name for p in dest.iterdir()) == [".gitignore", ".zen", "README.md", "example.yaml", "hello.py"]


def test_default_destination_is_the_name_in_the_working_directory(
    zen: Zen, own_examples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = zen("examples", "run", "hello")
    assert code == 0, out
    assert (tmp_path / "hello" / ".zen").is_dir() and (tmp_path / "hello" / "hello.py").is_file()


def test_an_existing_empty_folder_is_used(zen: Zen, own_examples: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert zen("examples", "run", "hello", "--dir", str(tmp_path / "empty"))[0] == 0
    assert (tmp_path / "empty" / "hello.py").is_file()


def test_exit_code_is_the_failing_command_and_later_ones_do_not_run(
    zen: Zen, own_examples: Path, tmp_path: Path
) -> None:
    code, out, err = zen("examples", "run", "broken", "--dir", str(tmp_path / "b"))
    assert code == 3
    assert out.count("ok ran") == 1 and "failing" in out
    assert "Error: example 'broken': `python fail.py` exited with 3" in err
    assert "finished" not in out


def test_unknown_example_lists_the_known_ones(zen: Zen, own_examples: Path, tmp_path: Path) -> None:
    code, out, err = zen("examples", "run", "helo", "--dir", str(tmp_path / "x"))
    assert code == 2 and out == ""
    assert err.strip() == "Error: unknown example 'helo'; known examples: broken, hello"
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("occupied", ["folder", "file"])
def test_an_occupied_destination_is_refused_and_left_alone(
    zen: Zen, own_examples: Path, tmp_path: Path, occupied: str
) -> None:
    dest = tmp_path / "taken"
    if occupied == "folder":
        dest.mkdir()
        (dest / "notes.txt").write_text("mine")
    else:
        dest.write_text("mine")
    code, out, err = zen("examples", "run", "hello", "--dir", str(dest))
    assert code == 2 and out == ""
    assert err.strip() == f"Error: {dest} already exists and is not an empty folder; pass another --dir or remove it"
    assert (dest / "notes.txt" if occupied == "folder" else dest).read_text() == "mine"
    assert not (dest / ".zen").exists()


def test_a_missing_extra_is_named_before_anything_is_copied(
    zen: Zen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as if PyTorch were not installed: the extra's module cannot be found
    monkeypatch.setitem(example_catalog.EXTRAS, "torch", "zenml_test_no_such_module")
    code, _, err = zen("examples", "run", "custom_trainer", "--dir", str(tmp_path / "ct"))
    assert code == 2
    assert err.strip() == (
        "Error: example 'custom_trainer' needs the torch extra, not installed here: pip install 'zenml[torch]'"
    )
    assert not (tmp_path / "ct").exists()


def test_examples_dir_without_examples_is_a_clear_error(
    zen: Zen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZEN_EXAMPLES_DIR", str(tmp_path))
    code, _, err = zen("examples", "list")
    assert code == 2
    assert err.strip() == (
        f"Error: ZEN_EXAMPLES_DIR={tmp_path} holds no examples (folders with example.yaml); "
        "point it at the examples/ folder of a zenml checkout"
    )


def test_an_install_without_a_source_checkout_says_how_to_get_the_examples(
    zen: Zen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a wheel install: the package sits in site-packages, with no examples/ beside it
    monkeypatch.setattr(zenml, "__file__", str(tmp_path / "site-packages" / "zenml" / "__init__.py"))
    code, _, err = zen("examples", "list")
    assert code == 2
    assert err.strip() == (
        f"Error: the examples are not installed with zenml (looked in {tmp_path}/site-packages/"
        "examples); clone the zenml repository and 'pip install -e .' there, or set "
        "ZEN_EXAMPLES_DIR to its examples/ folder"
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("run:\n  - [bash, go.sh]\n", "invalid 'run': Value error, command ['bash', 'go.sh'] must start with one of"),
        ("needs: [tensorflwo]\nrun:\n  - [python, a.py]\n", "invalid 'needs': Value error, unknown extra tensorflwo"),
        ("run: []\n", "invalid 'run': "),
        ("run:\n  - [python, a.py]\nprint: ['x']\n", "invalid 'print': Extra inputs are not permitted"),
        ("run:\n  - [python, a.py]\nprints: ['(']\n", "invalid 'prints': Value error, '(' is not a regular expression"),
        ("run: [python, a.py\n", "cannot be read: "),
    ],
)
def test_a_malformed_example_yaml_names_the_file_and_the_field(
    zen: Zen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str, message: str
) -> None:
    write_example(tmp_path, "bad", spec)
    monkeypatch.setenv("ZEN_EXAMPLES_DIR", str(tmp_path))
    code, _, err = zen("examples", "list")
    assert code == 2
    assert err.startswith(f"Error: {tmp_path / 'bad' / 'example.yaml'}") and message in err
    assert len(err.strip().splitlines()) == 1


def test_an_example_without_a_readme_heading_is_refused(
    zen: Zen, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_example(tmp_path, "untitled", "run:\n  - [python, a.py]\n")
    (folder / "README.md").write_text("no heading here\n")
    monkeypatch.setenv("ZEN_EXAMPLES_DIR", str(tmp_path))
    code, _, err = zen("examples", "run", "untitled", "--dir", str(tmp_path / "u"))
    assert code == 2
    assert f"{folder / 'README.md'} must exist and start with a '# heading'" in err


def test_python_in_an_example_is_the_interpreter_running_zen(own_examples: Path) -> None:
    assert find_examples(own_examples)["hello"].commands() == [
        [sys.executable, "hello.py"],
        [sys.executable, "-m", "zenml", "version"],
    ]
