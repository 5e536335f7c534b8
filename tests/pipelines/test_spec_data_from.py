"""``RunSpec.data_from``: pins survive the YAML round trip, are absent from ordinary specs, name real steps."""

from __future__ import annotations

import datetime as dt

import pytest

from zenml.exceptions import ConfigError
from zenml.pipelines.spec import (
    BackendSpec,
    BackendsSpec,
    DataPin,
    EnvironmentSpec,
    PipelineInfo,
    RunSpec,
    StackSpec,
    StepSpec,
)

PIN = DataPin(run="20261205-113323-1f9520f3", step="datasource", version="xxh3-128:" + "5" * 32)


def _spec(**fields: object) -> RunSpec:
    backend = BackendSpec(name="local", type="zenml.backends.orchestrator.local.LocalOrchestrator")
    return RunSpec(
        run_id="20261205-120000-00000000",
        pipeline=PipelineInfo(name="diabetes", type="zenml.pipelines.base.BasePipeline"),
        created_at=dt.datetime(2026, 12, 5, tzinfo=dt.UTC),
        environment=EnvironmentSpec(python="3.11.9", zenml="0.1.0"),
        stack=StackSpec(name="default", artifact_store=".zen/artifacts", metadata_store="sqlite:///m.db"),
        backends=BackendsSpec(orchestrator=backend, processing=backend, training=backend),
        steps={
            "datasource": StepSpec(type="zenml.datasources.csv.CSVDatasource", outputs={"output": "dataset"}),
            "fit": StepSpec(type="flow.fit", inputs={"data": "datasource.output"}),
        },
        **fields,
    )


def test_an_ordinary_spec_has_no_data_from_key() -> None:
    text = _spec().to_yaml()
    assert "data_from" not in text
    assert RunSpec.from_yaml(text).data_from == {}


def test_pins_round_trip_through_yaml() -> None:
    spec = _spec(data_from={"datasource": PIN})
    text = spec.to_yaml()
    assert "data_from:\n  datasource:\n    run: 20261205-113323-1f9520f3\n    step: datasource\n" in text
    again = RunSpec.from_yaml(text)
    assert again == spec and again.sha256() == spec.sha256()


def test_a_pin_must_name_a_step_of_the_spec_and_a_safe_run_id() -> None:
    data = _spec(data_from={"datasource": PIN}).model_dump(mode="json")
    data["data_from"] = {"nosuch": data["data_from"]["datasource"]}
    with pytest.raises(ConfigError, match="data_from names step 'nosuch', which is not a step of this spec"):
        RunSpec.from_data(data)
    data["data_from"] = {"datasource": {**data["data_from"]["nosuch"], "run": "../elsewhere"}}
    with pytest.raises(ConfigError, match=r"invalid field 'data_from\.datasource\.run'"):
        RunSpec.from_data(data)
