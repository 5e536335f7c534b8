"""The documentation is code that runs: every docs_src script, every snippet and shell example in docs/.

Conventions in docs/**/*.md (HTML comments, invisible on the rendered page), each on the line
just before a fenced block:

- ``<!-- mirror: docs_src/PATH -->`` or ``<!-- mirror: docs_src/PATH:SECTION -->``: the block is
  a verbatim copy of that file (or of the lines between ``# --8<-- [start:SECTION]`` and
  ``# --8<-- [end:SECTION]``). The file itself runs below, so the block is tested; the copy keeps
  pages readable on GitHub until the MkDocs site includes the files with ``--8<--``.
- ``<!-- output-of: docs_src/PATH -->`` or ``<!-- output-of: zen COMMAND -->``: a ``text`` (or
  ``mermaid``) block that must equal what that script or command prints (run ids normalised).
- ``<!-- not-run -->``: an intentionally partial snippet or a command that needs the outside
  world; only the ``zen`` commands it mentions are checked to exist.

Blocks whose body is only ``--8<-- "docs_src/..."`` lines are includes (checked to exist). Any
other ``python`` block runs as a script, and ``bash`` blocks run line by line (``RUN_ID`` and
``PREVIOUS_RUN_ID`` stand for the ids of the last runs the page started; a trailing ``# exit N``
means the line must exit with N). They run in order, per page, in one fresh repository into
which the folder named by the page's ``<!-- docs-repo: FOLDER -->`` comment is copied; ``zen``
lines run in-process (see ``drive``) to keep the test fast.

``python tests/docs/test_docs.py sync`` rewrites every mirror and output block from the files.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
DOCS_SRC = ROOT / "docs_src"
BIN = Path(sys.executable).parent

# Every docs_src folder is a small project. Its scripts run in this order in one fresh repository,
# and each must print these lines (substrings). ``None`` marks a module other scripts import;
# ``"pytest"`` a test file run with pytest.
SCRIPTS: dict[str, list[tuple[str, list[str] | str | None]]] = {
    "getting_started": [
        ("flow.py", ["completed 20.0"]),
        ("read_results.py", ["pipeline scaled runs: 1", "scale completed {'factor': 2.0}", "total: 20.0"]),
    ],
    "writing_steps": [
        ("steps.py", ["completed ['numbers', 'every_nth_split', 'fit_mean', 'score']", "'mse': 136.0"]),
        ("contract.py", ["True", "did you mean 'cutoff'?", "must be JSON-able", "does not store it as self.cutoff"]),
        ("vocabulary.py", None),
        ("vocabulary_flow.py", ["vocabulary-txt Vocabulary(tokens=['cat', 'mat', 'sat', 'the'])", "size: 4"]),
        ("test_conformance.py", "pytest"),
    ],
    "pipelines": [
        ("flows.py", ["completed {'evaluator': {'mae': 0.3999999999999999}} good", "needs work"]),
        ("validation.py", ["did you mean 'load'?", "has a cycle: a -> b -> a", "already has a trainer"]),
    ],
    "scaling_out": [
        (
            "flows.py",
            [
                "same result on local, parallel and dask: True",
                "re-run: {'cached'}",
                "crunch_2 log: shard 2: crunching 300000 numbers",
                "failed step: flaky_source",
                "statuses: {'flaky_source': 'failed', 'housekeeping': 'completed', 'report': 'skipped'}",
            ],
        )
    ],
    "caching": [
        ("caching.py", ["second: {'load': 'cached', 'timestamp': 'completed', 'total': 'cached'}"]),
        ("settings.py", None),
        ("weighted.py", None),
    ],
    "stacks": [("stacks.py", ["completed 42 memory://", "postgresql://zen:***@db.internal:5432/zen"])],
    "errors": [("broken.py", ["failed {'read_settings': 'failed', 'threshold': 'skipped'}", "did you mean 'path'?"])],
    "data_steps": [
        ("data_flow.py", ["rows per split: {'train': 300, 'eval': 100}"]),
        ("custom_steps.py", ["same results on every backend: True"]),
    ],
    "trainers": [
        ("data.py", None),
        ("custom_torch.py", ["learned: True", "stored as: ['model.pt', 'weights.pt', 'zenml-model.json']"]),
        ("custom_tensorflow.py", ["learned: True", "history keys: ['accuracy', 'epoch', 'eval_accuracy'"]),
        (
            "deploy.py",
            [
                "deployed: True bundle: ['bundle.json', 'model', 'transform.json']",
                "task: binary ['no', 'yes'] label: returned",
                "predictions: ['yes', 'no']",
                "columns: ['prediction', 'score', 'probability_no', 'probability_yes']",
            ],
        ),
    ],
    "reports": [("report_flow.py", ["report: report.html"])],
    "data_versions": [
        ("make_data.py", ["data.csv: 100 rows"]),
        ("flow.py", None),
        (
            "replay.py",
            [
                "replay rows: 100.0",
                "served from the first run's snapshot: True",
                "refreshed rows: 50.0",
                "data_from rows: 100.0",
                "recorded in its spec: True",
            ],
        ),
    ],
    "legacy": [
        ("make_data.py", ["wrote breast_cancer.csv (569 rows)"]),
        ("ported.py", ["completed ['accuracy', 'auc']", "breast_cancer completed ['datasource', 'evaluator'"]),
        ("legacy_errors.py", ["did you mean 'ratios'?", "did you mean 'dropout'?", "did you mean 'activation'?"]),
    ],
}
DATA_FILES = {"pipelines/spec_example.yaml", "stacks/config.yaml"}
# Scripts that need a database server (ZEN_TEST_POSTGRES_URL): run when it is reachable, skipped
# otherwise, and required with ZEN_TEST_REQUIRE_SERVICES=1 (as in CI).
SERVICE_SCRIPTS: dict[str, list[tuple[str, list[str]]]] = {
    "team_setup": [("team.py", ["bob sees: 1 run", "bob's run: 2 cached"])],
}

RUN_ID = re.compile(r"\b\d{8}-\d{6}-[0-9a-f]{8}\b")
STARTED_RUN = re.compile(r"\b[Rr]un (\d{8}-\d{6}-[0-9a-f]{8}) (?:completed|failed|was recorded)")
DIRECTIVE = re.compile(r"^<!--\s*([a-z-]+)(?::\s*(.*?))?\s*-->$")
FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
INCLUDE = re.compile(r'^--8<--\s+"([^"]+)"$')
EXPECTED_EXIT = re.compile(r"\s+#\s*exit (\d+)\s*$")


# -- reading the pages -------------------------------------------------------------------------


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    body: str
    directive: tuple[str, str] | None
    size: int = 0  # number of lines between the fences
    repo_folder: str | None = None

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


@dataclass
class Page:
    path: Path
    blocks: list[Block] = field(default_factory=list)
    repo_folder: str | None = None
    text: str = ""


def parse_page(path: Path) -> Page:
    text = path.read_text()
    page = Page(path, text=text)
    lines = text.splitlines()
    previous = ""
    index = 0
    while index < len(lines):
        line = lines[index]
        match = DIRECTIVE.match(line.strip())
        if match and match[1] == "docs-repo":
            page.repo_folder = match[2]
        fence = FENCE.match(line)
        if fence and fence[2]:
            indent, lang = fence[1], fence[2]
            body: list[str] = []
            start = index + 1
            index += 1
            while index < len(lines) and lines[index].strip() != "```":
                body.append(lines[index][len(indent) :] if lines[index].startswith(indent) else lines[index])
                index += 1
            found = DIRECTIVE.match(previous.strip())
            directive = (found[1], found[2] or "") if found and found[1] != "docs-repo" else None
            page.blocks.append(Block(path, start, lang, "\n".join(body) + "\n", directive, len(body)))
            previous = ""
        elif line.strip():
            previous = line
        index += 1
    for block in page.blocks:
        block.repo_folder = page.repo_folder
    return page


PAGES = [parse_page(path) for path in sorted(DOCS.rglob("*.md"))]


def blocks(*langs: str) -> list[Block]:
    return [block for page in PAGES for block in page.blocks if block.lang in langs]


def section(path: Path, name: str) -> str:
    text = path.read_text()
    match = re.search(
        rf"^[ \t]*# --8<-- \[start:{re.escape(name)}\]\n(.*?)^[ \t]*# --8<-- \[end:{re.escape(name)}\]\n",
        text,
        re.S | re.M,
    )
    assert match, f"{path.relative_to(ROOT)} has no section '{name}'"
    return match[1].strip("\n") + "\n"


def source_of(reference: str) -> str:
    path_text, _, name = reference.partition(":")
    path = ROOT / path_text
    assert path.is_file(), f"{reference} does not exist"
    return section(path, name) if name else path.read_text()


def strip_markers(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.strip().startswith("# --8<-- ["))


def is_include(block: Block) -> bool:
    lines = [line for line in block.body.splitlines() if line.strip()]
    return bool(lines) and all(INCLUDE.match(line.strip()) for line in lines)


# -- a fresh repository ------------------------------------------------------------------------


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZEN_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "200"
    env.pop("PYTHONPATH", None)
    return env


def fresh_repo(where: Path, folder: str | None) -> Path:
    """``zen init`` in a new folder, with the files of ``docs_src/FOLDER`` copied in."""
    from zenml.repository import Repository

    where.mkdir(parents=True)
    if folder is not None:
        for item in (DOCS_SRC / folder).iterdir():
            if item.is_file():
                shutil.copy(item, where / item.name)
    with mock.patch.dict(os.environ, environment(), clear=True):  # no developer ZEN_* settings
        repository = Repository.init(where)
    repository.close()
    return where


def run_script(repo: Path, name: str, kind: list[str] | str | None) -> subprocess.CompletedProcess[str]:
    """Run a docs_src script (or, for ``"pytest"``, test file) in ``repo`` as a user would."""
    command = [sys.executable, name]
    if kind == "pytest":
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", name]
    return subprocess.run(command, cwd=repo, env=environment(), capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def script_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run every docs_src folder's scripts once: in order within a folder, folders in parallel."""
    base = tmp_path_factory.mktemp("docs_src")

    def run_folder(folder: str) -> dict[str, subprocess.CompletedProcess[str]]:
        repo = base / folder
        return {f"docs_src/{folder}/{name}": run_script(repo, name, kind) for name, kind in SCRIPTS[folder] if kind}

    for folder in SCRIPTS:
        fresh_repo(base / folder, folder)
    results: dict[str, subprocess.CompletedProcess[str]] = {}
    with ThreadPoolExecutor(max_workers=3) as pool:
        for outputs in pool.map(run_folder, SCRIPTS):
            results.update(outputs)
    return results


# -- docs_src ----------------------------------------------------------------------------------


def listed_files() -> set[str]:
    """Every docs_src file this test runs or reads, relative to docs_src/."""
    scripts = {**SCRIPTS, **SERVICE_SCRIPTS}
    return {f"{folder}/{name}" for folder, entries in scripts.items() for name, _ in entries} | DATA_FILES


def test_every_docs_src_file_is_listed() -> None:
    on_disk = {
        p.relative_to(DOCS_SRC).as_posix() for p in DOCS_SRC.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    }
    listed = listed_files()
    assert on_disk == listed, "list new docs_src files in SCRIPTS (or DATA_FILES) so they are run"


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        pytest.param(f"docs_src/{folder}/{name}", kind, id=f"{folder}/{name}")
        for folder, scripts in SCRIPTS.items()
        for name, kind in scripts
        if kind is not None
    ],
)
def test_docs_src_script(
    script: str, expected: list[str] | str, script_outputs: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    result = script_outputs[script]
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"
    if expected == "pytest":
        assert " passed" in result.stdout and "failed" not in result.stdout, result.stdout
        return
    for line in expected:
        assert line in result.stdout, f"{script} did not print {line!r}:\n{result.stdout}"


@pytest.mark.services
@pytest.mark.parametrize(
    ("script", "expected"),
    [
        pytest.param(f"{folder}/{name}", expected, id=f"{folder}/{name}")
        for folder, scripts in SERVICE_SCRIPTS.items()
        for name, expected in scripts
    ],
)
def test_docs_src_script_with_services(script: str, expected: list[str], tmp_path: Path) -> None:
    """Scripts that need PostgreSQL (the team-setup guide) run against the test server."""
    import sqlalchemy as sa

    url = os.environ.get("ZEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    engine = sa.create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect():
            pass
    except Exception as exc:  # any failure means the server is unusable here
        if os.environ.get("ZEN_TEST_REQUIRE_SERVICES") == "1":
            pytest.fail(f"PostgreSQL at {url} is not reachable ({type(exc).__name__}); it is required")
        pytest.skip(f"PostgreSQL at {url} is not reachable ({type(exc).__name__})")
    finally:
        engine.dispose()
    folder, name = script.split("/")
    repo = fresh_repo(tmp_path / "repo", folder)
    result = run_script(repo, name, expected)
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"
    for line in expected:
        assert line in result.stdout, f"{script} did not print {line!r}:\n{result.stdout}"


def test_spec_example_is_a_real_spec(tmp_path: Path) -> None:
    """The spec shown in the pipelines guide validates and has the shape zenml writes today."""
    from zenml.pipelines.spec import GitSpec, RunSpec

    example_text = (DOCS_SRC / "pipelines/spec_example.yaml").read_text()
    RunSpec.from_yaml(example_text)  # it validates
    repo = fresh_repo(tmp_path / "repo", "pipelines")
    command = [BIN / "zen", "run", "flows.py:decorated", "--param", "normalise.scale=2.0", "-q"]
    done = subprocess.run(command, cwd=repo, env=environment(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    (written,) = (repo / "pipelines" / "decorated").glob("*.yaml")

    def comparable(text: str) -> object:
        # the file as written, not as parsed: a field the example leaves out (so that its default
        # fills it in) is a field the guide does not show; only the values of a run's own differ
        data = yaml.safe_load(text)
        data["run_id"] = data["created_at"] = "(the run's own)"
        data["git"] = sorted(data["git"] or GitSpec.model_fields)  # the test's repository is no git repository
        environment = data["environment"]
        data["environment"] = {"fields": sorted(environment), "packages": sorted(environment["packages"])}
        return [list(data), data]

    assert comparable(example_text) == comparable(written.read_text()), (
        "the spec zenml writes changed: replace docs_src/pipelines/spec_example.yaml with a spec written by "
        "`zen run flows.py:decorated --param normalise.scale=2.0` in a git repository; update the guide's table"
    )


def test_spec_field_table_names_every_field() -> None:
    """The pipelines guide's field table covers every top-level field and every step field of a spec."""
    from zenml.pipelines.spec import RunSpec, StepSpec

    page = (DOCS / "guides" / "pipelines.md").read_text()
    table = page[page.index("| field | what |") :].split("\n\n", 1)[0]
    for name in RunSpec.model_fields:
        assert f"`{name}`" in table, f"the run spec table lacks `{name}`"
    steps_row = next(line for line in table.splitlines() if line.startswith("| `steps` |"))
    for name in StepSpec.model_fields:
        assert f"`{name}`" in steps_row, f"the `steps` row lacks `{name}`"
    assert "`auto`" in steps_row and "`json`" in steps_row, "the table says when an output is `auto` and when `json`"


def test_config_example_is_what_zen_init_writes(tmp_path: Path) -> None:
    repo = fresh_repo(tmp_path / "repo", None)
    written = yaml.safe_load((repo / ".zen" / "config.yaml").read_text())
    assert yaml.safe_load((DOCS_SRC / "stacks/config.yaml").read_text()) == written


# -- blocks in the pages -----------------------------------------------------------------------


def test_pages_have_code() -> None:
    assert PAGES, "docs/ has no pages"
    assert blocks("python"), "docs/ has no python blocks"


@pytest.mark.parametrize(
    "block",
    [b for b in blocks(*{b.lang for p in PAGES for b in p.blocks}) if b.directive and b.directive[0] == "mirror"],
    ids=lambda b: b.where,
)
def test_mirrored_block_matches_its_file(block: Block) -> None:
    reference = block.directive[1]
    assert reference.startswith("docs_src/"), f"{block.where}: mirror a file under docs_src/"
    relative = reference.removeprefix("docs_src/").partition(":")[0]
    listed = listed_files()
    assert relative in listed, f"{block.where}: {reference} is not run by this test"
    expected = strip_markers(source_of(reference))
    assert block.body == expected, f"{block.where} differs from {reference}; copy the file's text into the page"


def test_included_files_exist() -> None:
    for block in blocks("python", "yaml", "bash"):
        if is_include(block):
            for line in block.body.splitlines():
                match = INCLUDE.match(line.strip())
                if match:
                    source_of(match[1])


@pytest.mark.parametrize(
    "block",
    [b for b in blocks("text", "mermaid") if b.directive and b.directive[0] == "output-of"],
    ids=lambda b: b.where,
)
def test_output_block_matches(
    block: Block, script_outputs: dict[str, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    """``output-of: docs_src/x.py`` shows what the script printed; ``output-of: zen …`` what the command prints."""
    source = block.directive[1]
    if source.startswith("zen "):
        repo = fresh_repo(tmp_path / "repo", block.repo_folder)
        result = subprocess.run(["bash", "-c", source], cwd=repo, env=environment(), capture_output=True, text=True)
    else:
        result = script_outputs[source]
    assert result.returncode == 0, result.stderr
    assert RUN_ID.sub("<run-id>", block.body) == RUN_ID.sub("<run-id>", result.stdout), (
        f"{block.where}: the shown output differs from what `{source}` prints:\n{result.stdout}"
    )


def test_python_blocks_are_accounted_for() -> None:
    """Every python block is mirrored, included, run as a snippet (below) or marked not-run (rare)."""
    skipped = [b.where for b in blocks("python") if b.directive and b.directive[0] == "not-run"]
    assert len(skipped) <= 3, f"keep not-run python blocks rare: {skipped}"
    unknown = [
        b.where
        for b in blocks("python", "bash", "text", "yaml")
        if b.directive and b.directive[0] not in ("mirror", "not-run", "output-of")
    ]
    assert not unknown, f"unknown directive before {unknown}"


def runnable(page: Page) -> list[Block]:
    chosen = []
    for block in page.blocks:
        if block.directive is not None or is_include(block):
            continue
        if block.lang in ("python", "bash"):
            chosen.append(block)
    return chosen


def shell_lines(body: str) -> Iterator[tuple[str, int]]:
    pending = ""
    for raw in body.splitlines():
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        line = (pending + raw).strip()
        pending = ""
        if not line or line.startswith("#"):
            continue
        expected = EXPECTED_EXIT.search(line)
        yield (line[: expected.start()] if expected else line), int(expected[1]) if expected else 0


@pytest.mark.parametrize("page", [p for p in PAGES if runnable(p)], ids=lambda p: p.path.relative_to(DOCS).as_posix())
def test_page_examples_run(page: Page, tmp_path: Path) -> None:
    """A page's snippets and shell lines run in order, in one fresh repository (see ``drive``)."""
    repo = fresh_repo(tmp_path / "repo", page.repo_folder)
    steps: list[dict[str, object]] = []
    for number, block in enumerate(runnable(page)):
        if block.lang == "python":
            (repo / f"snippet_{number}.py").write_text(block.body)
            steps.append({"command": f"python snippet_{number}.py", "expected": 0, "where": block.where})
        else:
            steps += [
                {"command": line, "expected": code, "where": block.where} for line, code in shell_lines(block.body)
            ]
    (tmp_path / "steps.json").write_text(json.dumps(steps))
    done = subprocess.run(
        [sys.executable, __file__, "drive", str(tmp_path / "steps.json"), str(tmp_path / "results.json")],
        cwd=repo,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"the driver failed:\n{done.stdout}\n{done.stderr}"
    results = json.loads((tmp_path / "results.json").read_text())
    assert len(results) == len(steps) or results[-1]["rc"] != results[-1]["expected"]
    for result in results:
        assert result["rc"] == result["expected"], (
            f"{result['where']}: `{result['command']}` exited {result['rc']}, expected {result['expected']}:\n"
            f"{result['stdout']}\n{result['stderr']}"
        )


def drive(steps_file: str, results_file: str) -> None:
    """Run a page's commands in this process, like a shell session (``python test_docs.py drive``).

    ``zen`` lines call the CLI's ``main`` in-process (one interpreter for the whole page keeps the
    test fast); anything else (``python x.py``, ``echo``, pipes) runs through bash. ``RUN_ID`` and
    ``PREVIOUS_RUN_ID`` are replaced by the ids of the last runs started so far.
    """
    from zenml.cli.app import main

    started: list[str] = []
    results: list[dict[str, object]] = []
    for step in json.loads(Path(steps_file).read_text()):
        command = str(step["command"])
        command = command.replace("PREVIOUS_RUN_ID", started[-2] if len(started) > 1 else "PREVIOUS_RUN_ID")
        command = command.replace("RUN_ID", started[-1] if started else "RUN_ID")
        words = shlex.split(command, comments=True)
        assignments = {}
        while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
            key, _, value = words.pop(0).partition("=")
            assignments[key] = value
        in_process = bool(words) and words[0] == "zen" and not re.search(r"[|&;<>$`]", command.replace("->", ""))
        if in_process:
            out, err = io.StringIO(), io.StringIO()
            saved = {key: os.environ.get(key) for key in assignments}
            os.environ.update(assignments)
            try:
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    rc = main(words[1:])
            finally:
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
            stdout, stderr = out.getvalue(), err.getvalue()
        else:
            shell = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
            rc, stdout, stderr = shell.returncode, shell.stdout, shell.stderr
        started += STARTED_RUN.findall(stdout + stderr)
        results.append({**step, "command": command, "rc": rc, "stdout": stdout, "stderr": stderr})
        if rc != step["expected"]:
            break
    Path(results_file).write_text(json.dumps(results))


# -- zen commands mentioned anywhere -----------------------------------------------------------


def zen_mentions() -> list[tuple[str, list[str]]]:
    """``zen ...`` in bash blocks (every line) and in inline code spans of the prose."""
    found: list[tuple[str, list[str]]] = []
    for page in PAGES:
        for block in page.blocks:
            if block.lang == "bash":
                for line, _ in shell_lines(block.body):
                    for part in re.split(r"&&|\|\||;|\|", line):
                        words = part.split()
                        while words and re.match(r"^[A-Z_]+=", words[0]):
                            words.pop(0)
                        if words and words[0] == "zen":
                            found.append((block.where, words[1:]))
        prose = re.sub(r"```.*?```", "", page.text, flags=re.S)
        for span in re.findall(r"`(zen(?: [^`]*)?)`", prose):
            found.append((str(page.path.relative_to(ROOT)), span.split()[1:]))
    return found


def test_zen_commands_mentioned_exist(capsys: pytest.CaptureFixture[str]) -> None:
    import typer

    from zenml.cli import app as cli

    assert cli.main(["--help"]) == 0  # also attaches every command group to the app
    root = typer.main.get_command(cli.app)
    mentions = zen_mentions()
    assert mentions
    checked: set[tuple[str, ...]] = set()
    for where, words in mentions:
        command, path = root, []
        for word in words:
            if not hasattr(command, "commands") or word.startswith("-"):
                break
            if word in ("COMMAND", "...", "…"):
                break
            sub = command.commands.get(word)
            assert sub is not None, (
                f"{where}: `zen {' '.join(words)}`: '{word}' is not a command of `zen {' '.join(path)}`"
            )
            command, path = sub, [*path, word]
        options = {opt for param in command.params for opt in [*param.opts, *param.secondary_opts]} | {
            "--help",
            "--debug",
        }
        for word in words:
            flag = word.split("=", 1)[0]
            if flag.startswith("-") and not re.match(r"^-\d", flag):
                assert flag in options, f"{where}: `zen {' '.join(words)}`: `zen {' '.join(path)}` has no option {flag}"
        if tuple(path) not in checked:
            checked.add(tuple(path))
            assert cli.main([*path, "--help"]) == 0, f"`zen {' '.join(path)} --help` failed"
    capsys.readouterr()


# -- site structure ----------------------------------------------------------------------------


def test_mkdocs_nav_lists_every_page() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert config["theme"]["name"] == "material"

    def walk(nav: object) -> Iterator[str]:
        if isinstance(nav, str):
            yield nav
        elif isinstance(nav, list):
            for item in nav:
                yield from walk(item)
        elif isinstance(nav, dict):
            for value in nav.values():
                yield from walk(value)

    in_nav = set(walk(config["nav"]))
    on_disk = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert in_nav == on_disk


def test_relative_links_resolve() -> None:
    for page in PAGES:
        prose = re.sub(r"```.*?```", "", page.text, flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", prose):
            if re.match(r"^[a-z]+://", target) or target.startswith(("#", "mailto:")):
                continue
            path = (page.path.parent / target.split("#", 1)[0]).resolve()
            assert path.exists(), f"{page.path.relative_to(ROOT)} links to missing {target}"
            assert path.is_relative_to(DOCS), f"{page.path.relative_to(ROOT)} links outside docs/ (the site): {target}"


# -- keeping the pages in sync -----------------------------------------------------------------


def sync(base: Path) -> None:
    """Rewrite the body of every ``mirror`` and ``output-of`` block from its file or command."""
    outputs: dict[str, str] = {}
    for folder, scripts in SCRIPTS.items():
        repo = fresh_repo(base / folder, folder)
        for name, kind in scripts:
            if kind is not None and kind != "pytest":
                outputs[f"docs_src/{folder}/{name}"] = run_script(repo, name, kind).stdout
    for page in PAGES:
        lines = page.path.read_text().splitlines(keepends=True)
        for block in reversed(page.blocks):  # from the end, so earlier line numbers stay valid
            if block.directive is None or block.directive[0] not in ("mirror", "output-of"):
                continue
            kind, source = block.directive
            if kind == "mirror":
                text = strip_markers(source_of(source))
            elif source.startswith("zen "):
                repo = fresh_repo(base / f"cmd{block.line}-{page.path.stem}", page.repo_folder)
                text = subprocess.run(
                    ["bash", "-c", source], cwd=repo, env=environment(), capture_output=True, text=True
                ).stdout
            else:
                text = outputs[source]
            if RUN_ID.sub("<run-id>", text) != RUN_ID.sub("<run-id>", block.body):  # keep the ids shown
                lines[block.line : block.line + block.size] = text.splitlines(keepends=True)
        page.path.write_text("".join(lines))


if __name__ == "__main__" and sys.argv[1:2] == ["drive"]:
    drive(sys.argv[2], sys.argv[3])
elif __name__ == "__main__" and sys.argv[1:2] == ["sync"]:
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        sync(Path(scratch))
