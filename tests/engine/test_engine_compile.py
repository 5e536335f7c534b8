"""Compiling: bad backends, options and stores fail before anything is written."""

from __future__ import annotations

import os

import pytest
from engine_helpers import SECRET, numbers, untouched

from zenml.backends.processing.local import LocalProcessing
from zenml.backends.training.local import LocalTraining
from zenml.engine import run_pipeline
from zenml.exceptions import ConfigError, MetadataStoreError
from zenml.repository import Repository


def test_unknown_backend_name_lists_the_known_ones(repo: Repository) -> None:
    with pytest.raises(ConfigError, match=r"unknown orchestrator backend 'kubeflow'; known orchestrator backends: loc"):
        run_pipeline(numbers, orchestrator="kubeflow")
    with pytest.raises(ConfigError, match=r"unknown processing backend 'flink'; known processing backends: local, b"):
        run_pipeline(numbers, processing="flink")
    with pytest.raises(ConfigError, match=r"stack 'typo': unknown training backend 'locale'; known training backends"):
        repo.register_stack("typo", training="locale")  # refused when registered ...
    repo.config.stacks["typo"] = {**repo.config.stacks["default"], "training": "locale"}
    repo.save_config()  # ... and when a hand-edited config.yaml names it, refused before anything is recorded
    with pytest.raises(ConfigError, match=r"unknown training backend 'locale'; known training backends: local"):
        run_pipeline(numbers, stack="typo")
    untouched(repo)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"training": {"device": "tpu"}}, r"LocalTraining device 'tpu' is not one of"),
        ({"processing": {"wrokers": 2}}, r"LocalProcessing has no parameter 'wrokers'.*workers"),
        ({"processing": {"workers": 0}}, r"workers must be at least 1"),
        ({"processing": {"workers": "two"}}, r"parameter 'workers' of LocalProcessing must be int"),
        ({"gpu": {"count": 1}}, r"--backend-opt kind 'gpu' is unknown; use one of orchestrator, processing, training"),
    ],
    ids=["device", "misspelled", "zero-workers", "wrong-type", "unknown-kind"],
)
def test_bad_backend_options_are_config_errors(repo: Repository, options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        run_pipeline(numbers, backend_options=options)
    untouched(repo)


def test_backend_objects_are_accepted_and_checked_for_kind(repo: Repository) -> None:
    run = run_pipeline(numbers, processing=LocalProcessing(workers=2), training=LocalTraining(device="cpu"))
    assert run.spec.backends.processing.name == "local"
    assert run.spec.backends.processing.params == {"workers": 2}
    assert run.spec.backends.training.params == {"device": "cpu"}
    with pytest.raises(ConfigError, match="LocalTraining is not a processing backend"):
        run_pipeline(numbers, processing=LocalTraining())  # type: ignore[arg-type]


def test_unreachable_metadata_store_fails_before_any_spec_is_written(repo: Repository) -> None:
    repo.register_stack("down", metadata_store=f"postgresql+psycopg://postgres:{SECRET}@127.0.0.1:1/zen",
                        artifact_store=".zen/down-artifacts")
    with pytest.raises(MetadataStoreError, match=r"cannot connect to the metadata store postgresql\+psycopg://"
                                                 r"postgres:\*\*\*@127\.0\.0\.1:1/zen") as info:
        run_pipeline(numbers, stack="down")
    assert SECRET not in str(info.value)
    untouched(repo)
    down = repo.root / ".zen" / "down-artifacts"
    assert not down.exists() or os.listdir(down) == []
