"""Resolve a ``zen run``/``zen graph`` target: a spec YAML, ``file.py:name`` or ``package.module:name``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from zenml.exceptions import ConfigError

if TYPE_CHECKING:
    from zenml.pipelines.base import BasePipeline


def is_spec(target: str) -> bool:
    """Whether the target names a stored run spec."""
    return target.endswith((".yaml", ".yml"))


def load_pipeline(target: str) -> BasePipeline:
    """Import the pipeline a target names.

    Raises:
        ConfigError: the target cannot be found or is not a pipeline.
    """
    from zenml.pipelines.base import BasePipeline
    from zenml.utils.importing import load_target

    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))  # like `python -m`: modules in the working directory import
    obj = load_target(target)
    if not isinstance(obj, BasePipeline):
        raise ConfigError(
            f"'{target}' is a {type(obj).__name__}, not a pipeline; point at a @pipeline function or a "
            "SimplePipeline object"
        )
    return obj
