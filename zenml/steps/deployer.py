"""Deployer steps: gate a trained model on the evaluator's metrics, then export its bundle.

A deployer reads the preprocessor's ``transform``, the trainer's ``model`` and the evaluator's
``metrics``; its output, a ``Deployment``, says whether the gate passed, why not, and where the
bundle went. The run records each deployment in the metadata store (``zen models list``).
"""

from __future__ import annotations

import abc
import re
import string
from collections.abc import Mapping
from typing import Any

from zenml.artifacts.materializers import ArtifactFolder, JSONMaterializer, register_materializer
from zenml.exceptions import ConfigError
from zenml.steps.base import BaseStep
from zenml.steps.context import StepContext
from zenml.steps.options import StepOptions
from zenml.steps.preprocessor.base import Transform
from zenml.steps.trainer.base import TrainedModel
from zenml.utils.deprecation import moved_attribute as _moved_attribute
from zenml.utils.legacy import legacy_name_error as _legacy_name_error
from zenml.utils.params import suggest
from zenml.utils.text import metric_text

__all__ = ["BaseDeployerStep", "Deployment", "DeploymentMaterializer", "LocalDeployer", "check_target", "gate"]

#: renamed by the Base<Role> convention for extension points (docs/contributing/naming.md); one release
_RENAMED = {"DeployerStep": "zenml.steps.deployer.BaseDeployerStep"}

#: the placeholders a deployer's ``target`` may hold
TARGET_FIELDS = ("run_id", "pipeline")


class Deployment(dict[str, Any]):
    """``{"deployed": bool, "uri": str | None, "gate": {...}, "reason": str | None, "metrics": {...}}``.

    ``gate`` holds the thresholds (``min_metrics``, ``max_metrics``) and ``passed``; ``reason``
    says why a model was not deployed (the first metric that missed its threshold).
    """


@register_materializer
class DeploymentMaterializer(JSONMaterializer):
    """Deployments as JSON, read back as ``Deployment`` objects."""

    format = "deployment"
    type_names = ("zenml.steps.deployer.Deployment",)

    def load(self, folder: ArtifactFolder) -> Any:
        """The stored deployment."""
        return Deployment(super().load(folder))


def gate(
    metrics: Mapping[str, float], min_metrics: Mapping[str, float] | None, max_metrics: Mapping[str, float] | None
) -> str | None:
    """Why ``metrics`` miss the thresholds (the first miss), or ``None`` when they meet them all.

    Raises:
        ConfigError: a threshold names a metric the evaluator did not compute.
    """
    checks = [(name, value, ">=") for name, value in (min_metrics or {}).items()]
    checks += [(name, value, "<=") for name, value in (max_metrics or {}).items()]
    for name, threshold, relation in checks:
        if name not in metrics:
            option = "min_metrics" if relation == ">=" else "max_metrics"
            known = ", ".join(metrics) or "none"
            raise ConfigError(
                f"{option} names metric '{name}'{suggest(name, metrics)}, which the evaluator did not compute "
                f"(metrics: {known})"
            )
        value = metrics[name]
        if (relation == ">=" and value < threshold) or (relation == "<=" and value > threshold):
            wanted = "at least" if relation == ">=" else "at most"
            return f"{name} {metric_text(value)} is not {wanted} {metric_text(threshold)}"
    return None


def check_target(target: object, owner: str) -> None:
    """Refuse an empty target or one with placeholders other than ``{run_id}`` and ``{pipeline}``.

    Raises:
        ConfigError: the target is not usable.
    """
    if not isinstance(target, str) or not target.strip():
        raise ConfigError(f"{owner} target must be a folder or an fsspec URL, e.g. 'models/cancer' or 's3://bucket/m'")
    try:
        fields = [name for _text, name, _spec, _conv in string.Formatter().parse(target) if name is not None]
    except ValueError as exc:
        raise ConfigError(
            f"{owner} target {target!r} is not a valid template ({exc}); write {{{{ for a brace"
        ) from None
    for name in fields:
        if name not in TARGET_FIELDS:
            raise ConfigError(
                f"{owner} target {target!r} has placeholder '{{{name}}}'{suggest(name, TARGET_FIELDS)}; "
                f"use {', '.join('{' + f + '}' for f in TARGET_FIELDS)}"
            )


class BaseDeployerStep(BaseStep):
    """Gate on the evaluator's metrics, then ``deploy`` the bundle; never served from the cache.

    Subclasses implement ``deploy(transform, model, provenance, context)`` and return where the
    bundle went. A model that misses the gate is not deployed; the run still completes, the step
    logs a warning and the metric ``deployed`` is 0 (1 when deployed).
    """

    min_metrics: dict[str, float] | None
    max_metrics: dict[str, float] | None

    @property
    def options(self) -> StepOptions:
        """Deploying has an effect outside the run: unless configured otherwise, it runs every time."""
        options: StepOptions | None = self.__dict__.get("_zen_options")
        return options if options is not None else StepOptions(enable_cache=False)

    def check_producers(self, producers: Mapping[str, tuple[str, BaseStep, str]]) -> None:
        """At compile time: refuse a threshold on a metric the wired evaluator can never compute (a typo).

        Only names outside the evaluator's ``known_metrics`` are refused (also as ``<split>_<name>``);
        whether a known metric is computed in the run is checked when the deployer runs.
        """
        if "metrics" not in producers:
            return
        name, producer, _output = producers["metrics"]
        known: tuple[str, ...] = tuple(getattr(producer, "known_metrics", ()) or ())
        if not known:
            return
        for option in ("min_metrics", "max_metrics"):
            for metric in getattr(self, option, None) or {}:
                base = metric if metric in known else metric.partition("_")[2]
                if base not in known:
                    raise ConfigError(
                        f"{type(self).__name__} {option} names metric '{metric}'{suggest(metric, known)}, which "
                        f"evaluator '{name}' ({type(producer).__name__}) never computes "
                        f"(its metrics: {', '.join(known)})"
                    )

    @abc.abstractmethod
    def deploy(
        self, transform: Transform, model: TrainedModel, provenance: dict[str, Any], context: StepContext
    ) -> str:
        """Put the bundle where it is served from; return its URI."""

    def process(
        self, transform: Transform, model: TrainedModel, metrics: dict[str, float], context: StepContext
    ) -> Deployment:
        """Check the gate; deploy when it passes."""
        values = {
            name: float(value)
            for name, value in metrics.items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        }
        reason = gate(values, self.min_metrics, self.max_metrics)
        thresholds = {"min_metrics": self.min_metrics or {}, "max_metrics": self.max_metrics or {}}
        if reason is not None:
            context.logger.warning("not deployed: %s", reason)
            context.log_metric("deployed", 0.0)
            return Deployment(
                deployed=False, uri=None, gate={**thresholds, "passed": False}, reason=reason, metrics=values
            )
        provenance = {
            "run_id": context.run_id,
            "pipeline": context.pipeline_name,
            "spec_sha256": context.spec_sha256,
            "metrics": values,
        }
        uri = self.deploy(transform, model, provenance, context)
        context.logger.info("deployed to %s", uri)
        context.log_metric("deployed", 1.0)
        return Deployment(deployed=True, uri=uri, gate={**thresholds, "passed": True}, reason=None, metrics=values)


class LocalDeployer(BaseDeployerStep):
    """Exports the model bundle (``zenml.serving``) to a folder or any fsspec URL, if the metrics pass.

    A later deployment to the same target replaces the bundle whole; put ``{run_id}`` (or
    ``{pipeline}``) in ``target`` to keep one bundle per run.

    Args:
        target: a folder (relative to the working directory) or an fsspec URL (``s3://…``),
            optionally with ``{run_id}`` and ``{pipeline}`` placeholders.
        min_metrics: metric → the lowest value that deploys, e.g. ``{"accuracy": 0.9}``.
        max_metrics: metric → the highest value that deploys, e.g. ``{"mae": 50}``.

    Examples:
        >>> LocalDeployer(target="models/{pipeline}", min_metrics={"accuracy": 0.9}).min_metrics
        {'accuracy': 0.9}
    """

    def __init__(
        self,
        target: str,
        min_metrics: dict[str, float] | None = None,
        max_metrics: dict[str, float] | None = None,
    ) -> None:
        self.target = target
        self.min_metrics = min_metrics
        self.max_metrics = max_metrics

    def check_params(self, params: dict[str, object]) -> None:
        """The target must be a folder or URL whose placeholders are known."""
        super().check_params(params)
        check_target(params.get("target"), "LocalDeployer")

    def deploy(
        self, transform: Transform, model: TrainedModel, provenance: dict[str, Any], context: StepContext
    ) -> str:
        """Write the bundle to ``target`` (placeholders filled in)."""
        from zenml.steps.bundle import write_bundle

        target = self.target.format(run_id=context.run_id, pipeline=re.sub(r"[^\w.-]", "_", context.pipeline_name))
        return write_bundle(target, transform, model, provenance)


def __getattr__(name: str) -> Any:
    if name in _RENAMED:
        return _moved_attribute(__name__, name, _RENAMED)
    legacy = _legacy_name_error(__name__, name)  # ``from zenml.steps.deployer import CortexDeployer``
    if legacy is not None:
        raise legacy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
