"""Helpers of the data-step tests: backends by id, seeded data, step contexts and tolerant comparisons."""

from __future__ import annotations

import importlib.util
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from zenml.backends.processing.base import BaseProcessingBackend
from zenml.steps.context import StepContext

HAVE_BEAM = importlib.util.find_spec("apache_beam") is not None
NO_BEAM = "apache_beam is not installed (pip install 'zenml[beam]'); the Beam processing backend is not tested"
BEAM_MARKS = [pytest.mark.beam, pytest.mark.skipif(not HAVE_BEAM, reason=NO_BEAM)]
HAVE_SPARK = importlib.util.find_spec("pyspark") is not None and shutil.which("java") is not None
NO_SPARK = "PySpark or Java is not installed (pip install 'zenml[spark]', a JDK 17+); SparkProcessing is not tested"
SPARK_MARKS = [pytest.mark.spark, pytest.mark.skipif(not HAVE_SPARK, reason=NO_SPARK)]


def _local() -> BaseProcessingBackend:
    from zenml.backends.processing.local import LocalProcessing

    return LocalProcessing()


def _local_workers() -> BaseProcessingBackend:
    from zenml.backends.processing.local import LocalProcessing

    return LocalProcessing(workers=2)


def _beam() -> BaseProcessingBackend:
    from zenml.backends.processing.beam import BeamProcessing

    return BeamProcessing()


def _spark() -> BaseProcessingBackend:
    from zenml.backends.processing.spark import SparkProcessing

    return SparkProcessing(master="local[2]")


#: every processing backend the data-step tests run on, by test id
BACKENDS: dict[str, Callable[[], BaseProcessingBackend]] = {
    "local": _local,
    "local-workers2": _local_workers,
    "beam": _beam,
    "spark": _spark,
}
_MARKS = {"beam": BEAM_MARKS, "spark": SPARK_MARKS}


def backend_param(name: str) -> Any:
    """A ``pytest.param`` for backend ``name`` (Beam and Spark marked, and skipped when not installed)."""
    return pytest.param(name, id=name, marks=_MARKS.get(name, []))


def cli_backend_args(backend: BaseProcessingBackend) -> list[str]:
    """The ``zen run`` flags selecting ``backend``: ``--processing NAME --backend-opt processing.K=V``."""
    from zenml.registry import name_of_backend

    config = backend.to_config()
    args = ["--processing", name_of_backend("processing", config["type"])]
    for key, value in config["params"].items():
        if value is not None:
            args += ["--backend-opt", f"processing.{key}={value}"]
    return args


def context(processing: BaseProcessingBackend, scratch: Path, step_name: str = "step") -> StepContext:
    """The context a data step gets when the engine runs it on ``processing``."""
    scratch.mkdir(parents=True, exist_ok=True)
    return StepContext(
        step_name=step_name, run_id="test-run", pipeline_name="test", processing=processing, scratch_dir=str(scratch)
    )


def write_mixed_csv(path: Path, rows: int, seed: int = 7) -> Path:
    """A seeded CSV: ``id`` (int), ``x``/``z`` (float, some missing), ``n`` (int), ``city`` (categorical,
    some missing), ``flag`` (boolean, some missing) and ``label`` (categorical, never missing)."""
    rng = np.random.default_rng(seed)
    cities = np.array(["berlin", "paris", "rome", "oslo", "lima", "kyiv"])
    lines = ["id,x,z,n,city,flag,label"]
    for index in range(rows):
        x = "" if rng.random() < 0.05 else f"{rng.normal(10.0, 3.0):.6f}"
        z = "" if rng.random() < 0.02 else f"{rng.exponential(2.0):.6f}"
        n = int(rng.integers(0, 100))
        city = "" if rng.random() < 0.04 else str(rng.choice(cities, p=[0.3, 0.25, 0.2, 0.1, 0.1, 0.05]))
        flag = "" if rng.random() < 0.03 else ("true" if rng.random() < 0.4 else "false")
        label = "yes" if rng.random() < 0.35 else "no"
        lines.append(f"{index},{x},{z},{n},{city},{flag},{label}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def sorted_rows(frame: Any) -> Any:
    """A DataFrame sorted by all its columns (missing values last), with a fresh index."""
    return frame.sort_values(list(frame.columns), na_position="last", kind="mergesort").reset_index(drop=True)


def assert_json_close(left: Any, right: Any, tol: float = 1e-9, where: str = "$") -> None:
    """Equal JSON-like structures, floats equal within ``tol`` (relative to their size, at least absolute)."""
    if isinstance(left, dict) and isinstance(right, dict):
        assert sorted(left) == sorted(right), f"{where}: keys {sorted(left)} != {sorted(right)}"
        for key in left:
            assert_json_close(left[key], right[key], tol, f"{where}.{key}")
    elif isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        assert len(left) == len(right), f"{where}: lengths {len(left)} != {len(right)}"
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            assert_json_close(a, b, tol, f"{where}[{index}]")
    elif isinstance(left, float) or isinstance(right, float):
        assert isinstance(left, (int, float)) and isinstance(right, (int, float)), f"{where}: {left!r} != {right!r}"
        if math.isnan(left) or math.isnan(right):
            assert math.isnan(left) and math.isnan(right), f"{where}: {left!r} != {right!r}"
        else:
            assert math.isclose(left, right, rel_tol=tol, abs_tol=tol), f"{where}: {left!r} != {right!r}"
    else:
        assert left == right, f"{where}: {left!r} != {right!r}"
