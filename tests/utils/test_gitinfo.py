"""Git provenance: outside git, before the first commit, clean and dirty trees."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from zenml.utils.gitinfo import read_git_info

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=zen", "-c", "user.email=zen@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=cwd, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def test_outside_any_repository_there_is_no_provenance(tmp_path: Path) -> None:
    assert read_git_info(tmp_path) is None


def test_inside_the_git_folder_itself_there_is_no_provenance(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    assert read_git_info(tmp_path / ".git") is None


def test_before_the_first_commit_there_is_no_commit_and_files_make_it_dirty(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    assert read_git_info(tmp_path) == read_git_info(tmp_path)  # stable
    (tmp_path / "flow.py").write_text("x = 1\n")
    info = read_git_info(tmp_path)
    assert info is not None and info.commit is None and info.dirty and info.diff_sha256 is not None


def test_a_clean_tree_records_head_and_an_edit_makes_it_dirty(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / "flow.py").write_text("x = 1\n")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "first")
    head = _git(tmp_path, "rev-parse", "HEAD")
    (tmp_path / "sub").mkdir()
    clean = read_git_info(tmp_path / "sub")  # from a sub-folder too
    assert clean is not None and (clean.commit, clean.dirty, clean.diff_sha256) == (head, False, None)
    (tmp_path / "flow.py").write_text("x = 2\n")
    dirty = read_git_info(tmp_path)
    assert dirty is not None and dirty.commit == head and dirty.dirty and dirty.diff_sha256 is not None
