"""``zen stack list|register|set|describe|delete``: named stacks, and credentials that never print."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from cli_helpers import Result

from zenml.repository import Repository

Zen = Callable[..., Result]
SECRET = "hunter2-s3cret"
TEAM_URL = f"postgresql+psycopg://alice:{SECRET}@db.example.com:5432/zen"


def _config(root: Path) -> dict[str, object]:
    data: dict[str, object] = yaml.safe_load((root / ".zen" / "config.yaml").read_text())
    return data


def test_stack_lifecycle(zen: Zen, repo: Repository, tmp_path: Path) -> None:
    listed = zen("stack", "list")
    assert listed.code == 0
    assert "* │ default" in listed.out
    registered = zen("stack", "register", "team", "--metadata-store", TEAM_URL, "--artifact-store", "s3://bucket/zen")
    assert registered.code == 0, registered.err
    assert "Registered stack 'team'" in registered.out
    assert _config(tmp_path)["stacks"]["team"]["metadata_store"] == TEAM_URL  # type: ignore[index]
    both = zen("stack", "list")
    assert "team" in both.out and "s3://bucket/zen" in both.out
    assert SECRET not in both.out
    assert zen("stack", "set", "team").code == 0
    assert _config(tmp_path)["active_stack"] == "team"
    assert "* │ team" in zen("stack", "list").out
    refused = zen("stack", "delete", "team")
    assert refused.code == 2
    assert "is active" in refused.err
    assert zen("stack", "set", "default").code == 0
    deleted = zen("stack", "delete", "team")
    assert deleted.code == 0
    assert "team" not in _config(tmp_path)["stacks"]  # type: ignore[operator]
    assert "team" not in zen("stack", "list").out


def test_describe_never_prints_a_password(zen: Zen, repo: Repository) -> None:
    assert zen("stack", "register", "team", "--metadata-store", TEAM_URL).code == 0
    described = zen("stack", "describe", "team")
    assert described.code == 0
    data = json.loads(described.out)
    assert data["name"] == "team"
    assert data["metadata_store"] == "postgresql+psycopg://alice:***@db.example.com:5432/zen"
    assert SECRET not in described.out + described.err
    assert zen("stack", "set", "team").code == 0
    active = zen("stack", "describe")
    assert json.loads(active.out)["name"] == "team"
    assert SECRET not in active.out
    assert SECRET not in zen("stack", "list").out


def test_describe_shows_environment_overrides(zen: Zen, repo: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZEN_METADATA_STORE", TEAM_URL)
    described = zen("stack", "describe")
    assert described.code == 0
    assert json.loads(described.out)["metadata_store"].startswith("postgresql+psycopg://alice:***@")
    assert SECRET not in described.out


def test_register_with_backends_and_activate(zen: Zen, repo: Repository, tmp_path: Path) -> None:
    result = zen("stack", "register", "local2", "--orchestrator", "local", "--processing", "local", "--set")
    assert result.code == 0, result.err
    assert "(active)" in result.out
    assert _config(tmp_path)["active_stack"] == "local2"


def test_stack_bad_input(zen: Zen, repo: Repository, tmp_path: Path) -> None:
    before = (tmp_path / ".zen" / "config.yaml").read_text()
    unknown_backend = zen("stack", "register", "x", "--orchestrator", "kubeflow")
    assert unknown_backend.code == 2
    assert unknown_backend.error_lines == [
        "Error: unknown orchestrator backend 'kubeflow'; known orchestrator backends: local, parallel, dask, airflow"
    ]
    bad_option = zen("stack", "register", "x", "--backend-opt", "nope")
    assert bad_option.code == 2
    assert "KIND.KEY=VALUE" in bad_option.err
    for command in (("set", "nope"), ("describe", "nope"), ("delete", "nope")):
        result = zen("stack", *command)
        assert result.code == 2
        assert "no stack named 'nope'" in result.err
    assert (tmp_path / ".zen" / "config.yaml").read_text() == before
