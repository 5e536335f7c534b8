"""The repository: ``.zen/`` creation, discovery from sub-folders, stacks, git provenance."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from zenml import pipeline, step
from zenml.engine import run_pipeline
from zenml.exceptions import ConfigError
from zenml.repository import Repository


@step
def greeting(name: str = "world") -> str:
    return f"hello {name}"


@pipeline
def hello() -> None:
    greeting()


def _git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=zen", "-c", "user.email=zen@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=cwd, capture_output=True, text=True, check=True,
    )
    return result.stdout.strip()


# -- init and discovery ----------------------------------------------------------------------------------


def test_init_creates_config_database_artifacts_and_gitignore(tmp_path: Path) -> None:
    repository = Repository.init(tmp_path)
    try:
        assert repository.root == tmp_path.resolve()
        config = yaml.safe_load((tmp_path / ".zen" / "config.yaml").read_text())
        assert config["active_stack"] == "default"
        assert config["pipelines_dir"] == "pipelines"
        assert config["stacks"]["default"]["metadata_store"] == "sqlite:///.zen/metadata.db"
        assert (tmp_path / ".zen" / "metadata.db").is_file()
        assert (tmp_path / ".zen" / "artifacts").is_dir()
        assert (tmp_path / ".gitignore").read_text() == ".zen/\n"
        assert repository.runs() == [] and repository.pipelines() == []
    finally:
        repository.close()


def test_init_is_idempotent_and_keeps_configuration(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.pyc\n__pycache__")  # no trailing newline
    first = Repository.init(tmp_path)
    first.register_stack("team", artifact_store="team-artifacts")
    second = Repository.init(tmp_path)
    try:
        assert (tmp_path / ".gitignore").read_text() == "*.pyc\n__pycache__\n.zen/\n"
        assert [s.name for s in second.stacks()] == ["default", "team"]
    finally:
        for repository in (first, second):
            repository.close()


def test_existing_gitignore_entry_is_not_duplicated(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("/.zen\n")
    repository = Repository.init(tmp_path)
    try:
        assert (tmp_path / ".gitignore").read_text() == "/.zen\n"
    finally:
        repository.close()


def test_repository_is_found_from_a_sub_folder(repo: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    nested = repo.root / "src" / "deep" / "er"
    nested.mkdir(parents=True)
    assert Repository(nested).root == repo.root
    monkeypatch.chdir(nested)
    assert Repository().root == repo.root
    run = run_pipeline(hello)  # runs work from a sub-folder and write to the root
    assert (repo.root / "pipelines" / "hello" / f"{run.id}.yaml").is_file()
    assert not (nested / "pipelines").exists() and not (nested / ".zen").exists()


def test_outside_a_repository_is_a_config_error_mentioning_zen_init(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"no zenml repository found in .* run 'zen init' first"):
        Repository()
    with pytest.raises(ConfigError, match="zen init"):
        run_pipeline(hello)
    assert list(tmp_path.iterdir()) == [], "nothing is written outside a repository"


def test_broken_config_files_are_config_errors(repo: Repository) -> None:
    config_path = repo.root / ".zen" / "config.yaml"
    config_path.write_text("stacks: [unclosed\n")
    with pytest.raises(ConfigError, match=r"config.yaml is not valid YAML at line 2, column 1: .*zen init") as info:
        Repository()
    assert "\n" not in str(info.value), "one line, like every zenml message"
    config_path.write_text(yaml.safe_dump({"version": 99, "stacks": {}}))
    with pytest.raises(ConfigError, match="config version 99; upgrade zenml"):
        Repository()
    config_path.write_text(yaml.safe_dump({"stack": {}}))
    with pytest.raises(ConfigError, match="invalid 'stack'"):
        Repository()


# -- stacks ----------------------------------------------------------------------------------------------


def test_register_set_and_delete_stacks(repo: Repository) -> None:
    stack = repo.register_stack("team", metadata_store="sqlite:///team.db", processing_options={"workers": 2})
    assert stack.name == "team"
    assert stack.artifact_store == ".zen/artifacts", "unspecified fields take the defaults"
    reread = Repository()
    assert [s.name for s in reread.stacks()] == ["default", "team"]
    assert reread.stack("team").backend("processing") == ("local", {"workers": 2})

    reread.set_active_stack("team")
    assert Repository().stack().name == "team"
    assert yaml.safe_load((repo.root / ".zen" / "config.yaml").read_text())["active_stack"] == "team"

    with pytest.raises(ConfigError, match=r"stack 'team' is active; 'zen stack set' another one"):
        Repository().delete_stack("team")
    repository = Repository()
    repository.set_active_stack("default")
    repository.delete_stack("team")
    assert [s.name for s in Repository().stacks()] == ["default"]


def test_stack_errors(repo: Repository) -> None:
    with pytest.raises(ConfigError, match=r"no stack named 'ghost'; known stacks: default"):
        repo.set_active_stack("ghost")
    with pytest.raises(ConfigError, match="no stack named 'ghost'"):
        repo.delete_stack("ghost")
    with pytest.raises(ConfigError, match="stack name '../up' is not allowed"):
        repo.register_stack("../up")
    with pytest.raises(ConfigError, match=r"stack 'bad': invalid 'metadata_store'"):
        repo.register_stack("bad", metadata_store="")
    with pytest.raises(ConfigError, match=r"stack 'bad': invalid 'orchestrator_optionz'"):
        repo.register_stack("bad", orchestrator_optionz={})
    assert [s.name for s in Repository().stacks()] == ["default"], "refused stacks are not saved"


def test_stores_are_opened_once_per_stack(repo: Repository) -> None:
    assert repo.stores() is repo.stores()
    repo.register_stack("other", metadata_store="sqlite:///.zen/other.db", artifact_store=".zen/other-artifacts")
    other = repo.stores(repo.stack("other"))
    try:
        assert other is not repo.stores()
        assert (repo.root / ".zen" / "other.db").is_file()
        assert (repo.root / ".zen" / "other-artifacts").is_dir()
    finally:
        other.metadata.close()


def test_a_repository_opened_on_a_stack_reads_that_stacks_history(repo: Repository) -> None:
    repo.register_stack("other", metadata_store="sqlite:///.zen/other.db", artifact_store=".zen/other-artifacts")
    run = run_pipeline(hello, stack="other")
    other = Repository(stack="other")
    assert [r.id for r in other.runs()] == [run.id]
    assert other.run(run.id).steps["greeting"].output() == "hello world"
    assert other.stack().name == "other" and repo.stack().name == "default"
    assert repo.runs() == []
    with pytest.raises(ConfigError, match=r"no stack named 'ghost'; known stacks: default, other"):
        Repository(stack="ghost")


def test_placeholders_in_store_urls_are_filled_when_the_stores_open(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.register_stack("env", metadata_store="sqlite:///.zen/${ZT_DB_NAME}.db", artifact_store=".zen/${ZT_ARTIFACTS}")
    monkeypatch.setenv("ZT_DB_NAME", "from-env")
    with pytest.raises(ConfigError, match="stack 'env' artifact_store needs the environment variable ZT_ARTIFACTS"):
        repo.stores(repo.stack("env"))
    monkeypatch.setenv("ZT_ARTIFACTS", "env-artifacts")
    run = run_pipeline(hello, stack="env")
    assert (repo.root / ".zen" / "from-env.db").is_file()
    assert run.steps["greeting"].outputs["output"].uri.startswith(str(repo.root / ".zen" / "env-artifacts"))
    assert Repository().config.stacks["env"]["metadata_store"] == "sqlite:///.zen/${ZT_DB_NAME}.db"
    assert repo.stack("env").metadata_store == "sqlite:///.zen/${ZT_DB_NAME}.db"  # resolved only to open the stores


# -- git provenance --------------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_runs_record_git_commit_dirty_flag_and_diff_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / "code.py").write_text("VALUE = 1\n")
    repository = Repository.init(tmp_path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".gitignore").write_text(".zen/\npipelines/\n")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "initial")
    head = _git(tmp_path, "rev-parse", "HEAD")
    try:
        clean = run_pipeline(hello, repository=repository)
        assert clean.git == {"commit": head, "dirty": False, "diff_sha256": None}
        assert clean.spec.git is not None and clean.spec.git.commit == head and clean.spec.git.dirty is False

        (tmp_path / "code.py").write_text("VALUE = 2\n")
        dirty = run_pipeline(hello, repository=repository)
        assert dirty.git is not None
        assert (dirty.git["commit"], dirty.git["dirty"]) == (head, True)
        assert dirty.git["diff_sha256"] and len(dirty.git["diff_sha256"]) == 64
        assert dirty.spec.git is not None and dirty.spec.git.diff_sha256 == dirty.git["diff_sha256"]

        (tmp_path / "code.py").write_text("VALUE = 3\n")
        other = run_pipeline(hello, repository=repository)
        assert other.git is not None and other.git["diff_sha256"] != dirty.git["diff_sha256"]

        (tmp_path / "code.py").write_text("VALUE = 2\n")
        same = run_pipeline(hello, repository=repository)
        assert same.git == dirty.git, "the same edit gives the same diff hash"
    finally:
        repository.close()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_untracked_files_make_the_tree_dirty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _git(tmp_path, "init", "-q")
    repository = Repository.init(tmp_path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".gitignore").write_text(".zen/\npipelines/\n")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "initial")
    (tmp_path / "new_helper.py").write_text("X = 1\n")
    try:
        info = repository.git_info()
        assert info is not None and info.dirty and info.diff_sha256
    finally:
        repository.close()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_repository_without_commits_records_no_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _git(tmp_path, "init", "-q")
    repository = Repository.init(tmp_path)
    monkeypatch.chdir(tmp_path)
    try:
        run = run_pipeline(hello, repository=repository)
        assert run.git is not None
        assert run.git["commit"] is None and run.git["dirty"] is True
    finally:
        repository.close()


def test_outside_git_runs_record_no_git_and_warn_once(repo: Repository, caplog: pytest.LogCaptureFixture) -> None:
    assert repo.git_info() is None
    marker = repo.root / ".zen" / "no-git-warned"
    assert marker.exists(), "init already warned"
    marker.unlink()
    with caplog.at_level("WARNING", logger="zenml"):
        first = run_pipeline(hello)
        second = run_pipeline(hello)
    assert first.git is None and second.git is None
    assert first.spec.git is None
    warnings = [r for r in caplog.records if "not inside a git repository" in r.getMessage()]
    assert len(warnings) == 1


def test_close_disposes_the_stores_it_opened_and_workers_share_the_same_cache(repo: Repository) -> None:
    from zenml.runtime.stores import open_cached

    stores = repo.stores()
    assert stores.recipe is not None
    assert open_cached(stores.recipe) is stores, "a worker in this process reuses the repository's stores"
    assert Repository(repo.root).stores() is stores, "one pool per store, whatever the Repository object"
    repo.close()
    reopened = repo.stores()
    assert reopened is not stores and reopened.metadata.runs() == []
