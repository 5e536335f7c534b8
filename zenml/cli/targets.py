"""Resolve a ``zen run``/``zen graph`` target: a spec YAML, ``file.py:name`` or ``package.module:name``."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from zenml.exceptions import ConfigError, ZenMLError
from zenml.utils.text import with_article

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
    try:
        obj = load_target(target)
    except ZenMLError:
        raise
    except Exception as exc:  # the user's module failed while importing: bad input, not a zenml crash
        raise _user_code_error(f"importing the module of '{target}'", exc) from exc
    if not isinstance(obj, BasePipeline):
        raise ConfigError(
            f"'{target}' is {with_article(type(obj).__name__)}, not a pipeline; point at a @pipeline function or a "
            "SimplePipeline object"
        )
    try:
        obj.nodes()  # a @pipeline function runs now: e.g. ``Scale(factr=2)`` in its body raises TypeError
    except ZenMLError:
        raise
    except Exception as exc:
        raise _user_code_error(f"building pipeline '{target}'", exc) from exc
    return obj


def _user_code_error(what: str, exc: Exception) -> ConfigError:
    detail = (str(exc).splitlines() or [""])[0]
    return ConfigError(
        f"{what} failed{_user_line(exc)}: {type(exc).__name__}: {detail}; "
        "fix the code there (run with --debug for the traceback)"
    )


def _user_line(exc: Exception) -> str:
    """`` at file.py, line N``: where in the user's code it failed (the last frame outside zenml)."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f" at {exc.filename}, line {exc.lineno}"
    package = str(Path(__file__).resolve().parents[1])
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not frame.filename.startswith((package, "<")) and "importlib" not in frame.filename
    ]
    return f" at {frames[-1].filename}, line {frames[-1].lineno}" if frames else ""
