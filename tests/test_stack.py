"""The stack: defaults, named stacks in .zen/config.yaml, ZEN_* overrides, redaction of secrets."""

from __future__ import annotations

import pytest
import yaml

from zenml.exceptions import ConfigError
from zenml.repository import Repository
from zenml.stack import Stack

SECRET = "s3cret-Pa55"


def test_defaults_are_the_embedded_local_stack() -> None:
    stack = Stack()
    assert (stack.name, stack.artifact_store, stack.metadata_store) == (
        "default", ".zen/artifacts", "sqlite:///.zen/metadata.db")
    assert (stack.orchestrator, stack.processing, stack.training) == ("local", "local", "local")
    assert stack.backend("training") == ("local", {})
    with pytest.raises(KeyError):
        stack.backend("gpu")


def test_environment_overrides_beat_the_config_file(repo: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.register_stack("team", metadata_store="sqlite:///team.db", artifact_store="team-artifacts",
                        orchestrator="local", training_options={"device": "cpu"})
    repo.set_active_stack("team")
    monkeypatch.setenv("ZEN_METADATA_STORE", "sqlite:///from-env.db")
    monkeypatch.setenv("ZEN_ARTIFACT_STORE", "memory://from-env")
    monkeypatch.setenv("ZEN_ORCHESTRATOR", "airflow")
    monkeypatch.setenv("ZEN_TRAINING_OPTIONS", '{"device": "cuda:1"}')
    stack = Repository().stack()
    assert stack.name == "team"
    assert (stack.metadata_store, stack.artifact_store, stack.orchestrator) == (
        "sqlite:///from-env.db", "memory://from-env", "airflow")
    assert stack.backend("training") == ("local", {"device": "cuda:1"})
    # the file is unchanged: the override lives only in the environment
    config = yaml.safe_load((repo.root / ".zen" / "config.yaml").read_text())
    assert config["stacks"]["team"]["metadata_store"] == "sqlite:///team.db"
    assert config["stacks"]["team"]["orchestrator"] == "local"
    # every stack sees the override
    assert Repository().stack("default").metadata_store == "sqlite:///from-env.db"


def test_zen_name_does_not_rename_stacks(repo: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZEN_NAME", "hijacked")
    assert Repository().stack().name == "default"
    assert Stack().name == "default"


def test_zen_stack_picks_the_stack(repo: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.register_stack("ci", artifact_store="ci-artifacts")
    assert Repository().stack().name == "default"
    monkeypatch.setenv("ZEN_STACK", "ci")
    repository = Repository()
    assert repository.active_stack_name() == "ci"
    assert repository.stack().artifact_store == "ci-artifacts"
    monkeypatch.setenv("ZEN_STACK", "nope")
    with pytest.raises(ConfigError, match=r"no stack named 'nope'; known stacks: default, ci"):
        Repository().stack()


def test_invalid_environment_value_is_a_config_error(repo: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZEN_ORCHESTRATOR", "   ")
    with pytest.raises(ConfigError, match=r"stack 'default': invalid 'orchestrator': .*must not be empty"):
        Repository().stack()
    monkeypatch.delenv("ZEN_ORCHESTRATOR")
    monkeypatch.setenv("ZEN_PROCESSING_OPTIONS", "{not json")
    with pytest.raises(ConfigError, match=r"ZEN_PROCESSING_OPTIONS is not valid: .*JSON object"):
        Repository().stack()


def test_unknown_field_in_a_stack_is_a_config_error(repo: Repository) -> None:
    config = yaml.safe_load((repo.root / ".zen" / "config.yaml").read_text())
    config["stacks"]["default"]["metadata_stor"] = "sqlite:///typo.db"
    (repo.root / ".zen" / "config.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match=r"stack 'default': invalid 'metadata_stor'"):
        Repository().stack()


def test_describe_redacts_passwords_and_secret_options() -> None:
    stack = Stack(
        name="team",
        metadata_store=f"postgresql+psycopg://zen:{SECRET}@db.example.com:5432/zen",
        artifact_store=f"s3://key:{SECRET}@bucket/prefix",
        artifact_store_options={"key": "AKIA123", "secret": SECRET,
                                "client_kwargs": {"endpoint_url": "http://minio:9000", "aws_session_token": "tok-1"}},
    )
    described = stack.describe()
    text = repr(described)
    assert SECRET not in text and "AKIA123" not in text and "tok-1" not in text
    assert described["metadata_store"] == "postgresql+psycopg://zen:***@db.example.com:5432/zen"
    assert described["artifact_store"] == "s3://key:***@bucket/prefix"
    assert described["artifact_store_options"]["client_kwargs"]["endpoint_url"] == "http://minio:9000"
    assert described["artifact_store_options"]["secret"] == "***"
    assert described["name"] == "team"
    assert set(stack.secrets()) == {SECRET, "AKIA123", "tok-1"}
    # the configuration file keeps the real credentials (it is the user's own file)
    assert stack.to_file()["metadata_store"].endswith(f"zen:{SECRET}@db.example.com:5432/zen")
    assert "name" not in stack.to_file()


def test_secret_query_parameters_are_redacted() -> None:
    stack = Stack(metadata_store=f"mysql+pymysql://zen@db/zen?password={SECRET}&charset=utf8mb4")
    assert SECRET not in repr(stack.describe())
    assert "charset=utf8mb4" in stack.describe()["metadata_store"]
