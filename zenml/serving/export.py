"""Bundles of recorded runs: ``export_bundle(run, target)`` and ``load_bundle(folder | URL | run id)``."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zenml.exceptions import ConfigError
from zenml.steps.bundle import BUNDLE_FILE, ModelBundle, write_bundle

if TYPE_CHECKING:
    import pyarrow as pa

    from zenml.history.runs import PipelineRun


def export_bundle(run: PipelineRun, target: str) -> str:
    """Write the bundle of a training run (its trainer's model and the transform it trained on); return its URI.

    Provenance: the run's id, pipeline and spec sha256, the evaluator's metrics, when, the zenml
    version and the framework.

    Raises:
        ConfigError: the run has no completed trainer (a step with a ``model`` output and a
            ``transform`` input).
    """
    trainer = next(
        (step for step in run.steps.values() if "model" in step.outputs and "transform" in step.inputs), None
    )
    if trainer is None:
        raise ConfigError(
            f"run {run.id} has no completed trainer step (one with a 'model' output and a 'transform' input) "
            "to export; pick a training run (zen runs list)"
        )
    model = trainer.outputs["model"].read()
    transform = trainer.inputs["transform"].read()
    data_schema = _fitted_on_schema(run, trainer.inputs["transform"].id)
    provenance = {
        "run_id": run.id,
        "pipeline": run.pipeline,
        "spec_sha256": run.record.spec_sha256,
        "metrics": evaluator_metrics(run, trainer.outputs),
    }
    return write_bundle(target, transform, model, provenance, data_schema)


def evaluator_metrics(run: PipelineRun, trainer_outputs: Mapping[str, Any]) -> dict[str, float]:
    """The metrics of the step that evaluated the trainer's predictions (empty when none did)."""
    produced = {view.id for view in trainer_outputs.values()}
    metrics = run.metrics()
    for name, step in run.steps.items():
        if any(view.id in produced for view in step.inputs.values()) and metrics.get(name):
            return dict(metrics[name])
    return {}


def _fitted_on_schema(run: PipelineRun, transform_id: int) -> pa.Schema | None:
    """The schema of the data the preprocessor that made the transform read (raw column types)."""
    for step in run.steps.values():
        if any(view.id == transform_id for view in step.outputs.values()) and "data" in step.inputs:
            data = step.inputs["data"].read()
            schema = getattr(data, "schema", None)
            return schema
    return None


def load_bundle(path_or_run: str) -> ModelBundle:
    """A bundle from its folder, an fsspec URL, or a run id (or unique prefix) of the repository here.

    A run is exported on the fly into ``.zen/bundles/<run id>`` (once; later loads reuse it).

    Raises:
        ConfigError: the path is no bundle and no run of that id exists.
    """
    if "://" in path_or_run and not path_or_run.startswith("file://"):
        return ModelBundle(_download(path_or_run))
    local = path_or_run.removeprefix("file://")
    if os.path.isdir(local):
        if not os.path.exists(os.path.join(local, BUNDLE_FILE)):
            raise ConfigError(f"{local} is not a model bundle (no {BUNDLE_FILE}); give a bundle folder or a run id")
        return ModelBundle(os.path.abspath(local))
    return ModelBundle(_bundle_of_run(path_or_run))


def _download(url: str) -> str:
    import fsspec

    filesystem, path = fsspec.core.url_to_fs(url)
    if not filesystem.exists(f"{path.rstrip('/')}/{BUNDLE_FILE}"):
        raise ConfigError(f"{url} is not a model bundle (no {BUNDLE_FILE}); give a bundle folder or a run id")
    local = tempfile.mkdtemp(prefix="zenml-bundle-")
    filesystem.get(path.rstrip("/") + "/", local + "/", recursive=True)
    return local


def _bundle_of_run(run_id: str) -> str:
    from zenml.repository import Repository

    try:
        repository = Repository()
    except ConfigError:
        raise ConfigError(
            f"'{run_id}' is neither a bundle folder nor a URL, and there is no zenml repository here to find "
            "a run of that id in"
        ) from None
    run = repository.run(run_id)
    folder = repository.root / ".zen" / "bundles" / run.id
    if not (folder / BUNDLE_FILE).exists():
        export_bundle(run, str(folder))
    return str(folder)
