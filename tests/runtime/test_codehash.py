"""Project values a step can observe are in its fingerprint, by content, under the name where they are defined.

Each "process" below imports the project afresh (its modules are forgotten first), as each ``zen
run`` does, so an edit between two fingerprints is seen the way a user's next run sees it.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from zenml.runtime.codehash import Fingerprint, step_fingerprint

Project = Callable[..., Fingerprint]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    """Write ``{file: source}`` into a project folder, import it as a fresh process would, fingerprint a step.

    ``project(files, step="flow.compute")`` returns the fingerprint of that step (a ``@step`` object
    or a step class, instantiated with no arguments).
    """
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])

    def forget() -> None:
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if file and Path(file).resolve().is_relative_to(tmp_path.resolve()):
                del sys.modules[name]

    def fingerprint(files: dict[str, str], step: str = "flow.compute") -> Fingerprint:
        forget()
        for name, source in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source))
        importlib.invalidate_caches()
        module_name, _, attr = step.rpartition(".")
        for name in {module_name, *(Path(f).with_suffix("").as_posix().replace("/", ".") for f in files)}:
            sys.modules.pop(name, None)  # a same-named module left by another test is not this project's
        target = getattr(importlib.import_module(module_name), attr)
        return step_fingerprint(target() if isinstance(target, type) else target, tmp_path)

    yield fingerprint
    forget()


def _flow(reads: str, header: str = "") -> str:
    return f"{header}\nfrom zenml import step\n\n@step\ndef compute() -> str:\n    return repr({reads})\n"


# -- module constants of any type ---------------------------------------------------------------------

CONSTANTS = {
    "int": ("LIMIT = 10", "LIMIT = 100"),
    "str": ("MODEL = 'small'", "MODEL = 'large'"),
    "list": ("LAYERS = [64, 32]", "LAYERS = [64, 16]"),
    "dict": ("WEIGHTS = {'a': 1.0, 'b': [1, 2]}", "WEIGHTS = {'a': 1.0, 'b': [1, 3]}"),
    "set": ("TAGS = {'x', 'y', 'z'}", "TAGS = {'x', 'y'}"),
    "tuple-of-floats": ("RANGE = (0.0, 1.0)", "RANGE = (0.0, -0.0)"),
    "numpy": ("import numpy as np\nGRID = np.linspace(0, 1, 5)", "import numpy as np\nGRID = np.linspace(0, 1, 6)"),
    "numpy-dtype": ("import numpy as np\nGRID = np.zeros(3, 'f4')", "import numpy as np\nGRID = np.zeros(3, 'f8')"),
    "dataclass": (
        "import dataclasses\n@dataclasses.dataclass\nclass C:\n    lr: float = 0.1\nCFG = C()",
        "import dataclasses\n@dataclasses.dataclass\nclass C:\n    lr: float = 0.1\nCFG = C(lr=0.2)",
    ),
}


@pytest.mark.parametrize(("before", "after"), CONSTANTS.values(), ids=CONSTANTS.keys())
def test_a_module_constant_of_any_type_is_hashed_by_value(project: Project, before: str, after: str) -> None:
    name = before.rpartition("\n")[2].split(" =")[0]
    first = project({"flow.py": _flow(name, before)})
    assert f"flow.{name}" in first.values and not first.unhashable
    assert project({"flow.py": _flow(name, before)}) == first, "an unchanged project keeps its fingerprint"
    edited = project({"flow.py": _flow(name, after)})
    assert edited.values[f"flow.{name}"] != first.values[f"flow.{name}"]


def test_a_value_computed_at_import_is_seen_when_only_its_data_file_changes(project: Project, tmp_path: Path) -> None:
    # hashing by value, not by module source: settings.py is the same, the JSON it reads is not
    settings = "import json, pathlib\nWEIGHTS = json.loads((pathlib.Path(__file__).parent / 'w.json').read_text())\n"
    flow = _flow("WEIGHTS", "from settings import WEIGHTS")
    (tmp_path / "w.json").write_text('{"a": 1}')
    first = project({"settings.py": settings, "flow.py": flow})
    (tmp_path / "w.json").write_text('{"a": 2}')
    second = project({"settings.py": settings, "flow.py": flow})
    assert first.code == second.code
    assert first.values["settings.WEIGHTS"] != second.values["settings.WEIGHTS"]


# -- values of other project modules, named where they are defined --------------------------------------

IMPORT_STYLES = {
    "from-import": ("from settings import WEIGHTS", "WEIGHTS"),
    "aliased": ("from settings import WEIGHTS as W", "W"),
    "module-attribute": ("import settings", "settings.WEIGHTS"),
    "star": ("from settings import *", "WEIGHTS"),
    "re-exported": ("from config import WEIGHTS", "WEIGHTS"),
}


@pytest.mark.parametrize(("header", "reads"), IMPORT_STYLES.values(), ids=IMPORT_STYLES.keys())
def test_a_config_value_is_named_where_it_is_defined(project: Project, header: str, reads: str) -> None:
    files = {"config.py": "from settings import WEIGHTS\n", "flow.py": _flow(reads, header)}
    first = project({**files, "settings.py": "WEIGHTS = {'a': 1}\n"})
    second = project({**files, "settings.py": "WEIGHTS = {'a': 2}\n"})
    assert "settings.WEIGHTS" in first.values
    assert first.values["settings.WEIGHTS"] != second.values["settings.WEIGHTS"]


def test_a_config_value_imported_inside_the_step_is_seen(project: Project) -> None:
    flow = (
        "from zenml import step\n\n@step\ndef compute() -> float:\n"
        "    from settings import WEIGHTS\n    from pkg.config import THRESHOLD\n    return WEIGHTS['a'] + THRESHOLD\n"
    )
    files = {"flow.py": flow, "pkg/__init__.py": "", "settings.py": "WEIGHTS = {'a': 1}\n"}
    first = project({**files, "pkg/config.py": "THRESHOLD = 0.5\n"})
    second = project({**files, "pkg/config.py": "THRESHOLD = 0.7\n"})
    assert {"settings.WEIGHTS", "pkg.config.THRESHOLD"} <= set(first.values)
    assert first.values["pkg.config.THRESHOLD"] != second.values["pkg.config.THRESHOLD"]
    assert first.values["settings.WEIGHTS"] == second.values["settings.WEIGHTS"]


def test_a_relative_import_in_a_package_is_named_in_the_package(project: Project) -> None:
    files = {"pkg/__init__.py": "", "pkg/flow.py": _flow("LIMIT", "from .settings import LIMIT")}
    first = project({**files, "pkg/settings.py": "LIMIT = 1\n"}, step="pkg.flow.compute")
    second = project({**files, "pkg/settings.py": "LIMIT = 2\n"}, step="pkg.flow.compute")
    assert first.values["pkg.settings.LIMIT"] != second.values["pkg.settings.LIMIT"]


def test_a_name_rebound_after_its_import_is_the_modules_own(project: Project) -> None:
    first = project({"flow.py": _flow("sep", "from os import sep\nsep = '|'")})
    second = project({"flow.py": _flow("sep", "from os import sep\nsep = ';'")})
    assert first.values["flow.sep"] != second.values["flow.sep"]


def test_values_of_installed_packages_and_the_standard_library_are_left_out(project: Project) -> None:
    header = "import numpy as np\nfrom math import pi\nfrom os import sep\nfrom numpy import e"
    fingerprint = project({"flow.py": _flow("(np.pi, pi, sep, e)", header)})
    assert fingerprint.values == {}, "their versions are recorded in the run spec instead"
    assert list(fingerprint.code) == ["flow:compute"]


# -- class attributes, defaults of helpers, closures, code held in data --------------------------------

STEP_CLASS = """
from zenml import BaseStep
from settings import SIZES

class Compute(BaseStep):
    SIZES = SIZES

    def __init__(self, n: int = 1):
        self.n = n

    def process(self) -> int:
        return sum(self.SIZES) * self.n
"""


def test_a_class_attribute_of_a_step_class_is_seen(project: Project) -> None:
    first = project({"flow.py": STEP_CLASS, "settings.py": "SIZES = [1, 2]\n"}, step="flow.Compute")
    second = project({"flow.py": STEP_CLASS, "settings.py": "SIZES = [1, 3]\n"}, step="flow.Compute")
    assert first.code == second.code, "the class's source did not change, its attribute's value did"
    assert first.values["flow.Compute.SIZES"] != second.values["flow.Compute.SIZES"]


HELPERS = """
from settings import FACTOR, LAYERS

def scale(x: float, factor: float = FACTOR, *, offset: float = 0.0) -> float:
    return x * factor + offset

class Model:
    LAYERS = LAYERS

    def size(self) -> int:
        return sum(self.LAYERS)
"""


def test_helper_defaults_and_helper_class_attributes_are_seen(project: Project) -> None:
    flow = _flow("(scale(1.0), Model().size())", "from helpers import scale, Model")
    first = project({"flow.py": flow, "helpers.py": HELPERS, "settings.py": "FACTOR = 2.0\nLAYERS = [4]\n"})
    second = project({"flow.py": flow, "helpers.py": HELPERS, "settings.py": "FACTOR = 3.0\nLAYERS = [4]\n"})
    third = project({"flow.py": flow, "helpers.py": HELPERS, "settings.py": "FACTOR = 3.0\nLAYERS = [8]\n"})
    assert first.code == second.code == third.code, "helpers.py is unchanged: only the values it bound differ"
    assert first.values["default of helpers.scale(factor)"] != second.values["default of helpers.scale(factor)"]
    assert "default of helpers.scale(offset)" in first.values
    assert second.values["helpers.Model.LAYERS"] != third.values["helpers.Model.LAYERS"]


def test_closure_variables_and_code_held_in_data_are_seen(project: Project) -> None:
    flow = """
    import functools
    from zenml import step
    from settings import ACTIVATIONS, K

    @functools.lru_cache
    def cached_bias() -> float:
        return {bias}

    def make():
        k = K
        @step
        def compute() -> float:
            return ACTIVATIONS['relu'](k) + cached_bias()
        return compute

    compute = make()
    """
    settings = "K = {k}\nACTIVATIONS = {{'relu': lambda x: max(x, {floor}), 'tanh': lambda x: x}}\n"
    base = project({"flow.py": flow.format(bias=0.5), "settings.py": settings.format(k=1, floor=0)})
    assert base == project({"flow.py": flow.format(bias=0.5), "settings.py": settings.format(k=1, floor=0)})
    changed_k = project({"flow.py": flow.format(bias=0.5), "settings.py": settings.format(k=2, floor=0)})
    assert (
        base.values["closure variable k of flow.make.<locals>.compute"]
        != changed_k.values["closure variable k of flow.make.<locals>.compute"]
    )
    changed_lambda = project({"flow.py": flow.format(bias=0.5), "settings.py": settings.format(k=1, floor=1)})
    assert base.code["settings:<lambda>"] != changed_lambda.code["settings:<lambda>"]
    changed_cached = project({"flow.py": flow.format(bias=0.7), "settings.py": settings.format(k=1, floor=0)})
    assert base.code["flow:cached_bias"] != changed_cached.code["flow:cached_bias"], "an @lru_cache helper is code"


# -- every process, and values that cannot be hashed --------------------------------------------------------

DETERMINISM = """
import dataclasses, enum
import numpy as np
from zenml import step

class Mode(enum.Enum):
    FAST = 1

@dataclasses.dataclass
class Config:
    tags: frozenset = frozenset({"a", "b", "c", "d"})

VALUES = {"tags": {"x", "y", "z", "w", "v"}, "grid": np.arange(6.0).reshape(2, 3), "mode": Mode.FAST,
          "config": Config(), "nested": [{"k": (1, 2.5, None, True, "s", b"b")}]}

@step
def compute() -> str:
    return repr(VALUES)
"""

PRINT_FINGERPRINT = (
    "import json, sys; from pathlib import Path; sys.path.insert(0, '.'); import flow;"
    "from zenml.runtime.codehash import step_fingerprint;"
    "f = step_fingerprint(flow.compute, Path('.')); print(json.dumps([f.code, f.values, f.unhashable]))"
)


def test_fingerprints_are_the_same_in_every_process(tmp_path: Path) -> None:
    # sets of strings iterate in a different order under each hash seed: workers must still agree
    (tmp_path / "flow.py").write_text(DETERMINISM)
    prints = {
        subprocess.run(
            [sys.executable, "-c", PRINT_FINGERPRINT], cwd=tmp_path, capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "3")
    }  # fmt: skip
    assert len(prints) == 1
    code, values, unhashable = json.loads(prints.pop())
    assert "flow.VALUES" in values and unhashable == {}


UNHASHABLE = {
    "open-file": ("HANDLE = open(__file__)", "holds a _io.TextIOWrapper that cannot be hashed"),
    "lock": ("import threading\nHANDLE = threading.Lock()", "holds a _thread.lock that cannot be hashed"),
    "generator": ("HANDLE = (i for i in range(3))", "holds a builtins.generator that cannot be hashed"),
    "file-inside-a-dict": ("HANDLE = {'log': open(__file__)}", "holds a _io.TextIOWrapper that cannot be hashed"),
    "proxy-that-raises": (
        "class Proxy:\n    def __getattr__(self, name):\n        raise RuntimeError('outside of a request')\n"
        "HANDLE = Proxy()",
        "could not be hashed (RuntimeError: outside of a request)",
    ),
}


@pytest.mark.parametrize(("header", "reason"), UNHASHABLE.values(), ids=UNHASHABLE.keys())
def test_a_value_that_cannot_be_hashed_is_reported_with_the_reason(project: Project, header: str, reason: str) -> None:
    fingerprint = project({"flow.py": _flow("HANDLE", header)})
    handle = sys.modules["flow"].HANDLE
    for held in handle.values() if isinstance(handle, dict) else [handle]:
        if isinstance(held, io.IOBase):
            held.close()
    assert list(fingerprint.unhashable) == ["flow.HANDLE"]
    assert reason in fingerprint.unhashable["flow.HANDLE"]
    assert "flow.HANDLE" not in fingerprint.values


CLASS_BODIES = {
    "dataclass-default": (
        "import dataclasses\n@dataclasses.dataclass\nclass Config:\n    lr: float = 0.1",
        "import dataclasses\n@dataclasses.dataclass\nclass Config:\n    lr: float = 0.2",
    ),
    "dataclass-factory": (
        "import dataclasses\n@dataclasses.dataclass\nclass Config:\n"
        "    lr: list = dataclasses.field(default_factory=lambda: [0.1])",
        "import dataclasses\n@dataclasses.dataclass\nclass Config:\n"
        "    lr: list = dataclasses.field(default_factory=lambda: [0.2])",
    ),
    "pydantic-annotation": (
        "import pydantic\nclass Config(pydantic.BaseModel):\n    lr: float = 1",
        "import pydantic\nclass Config(pydantic.BaseModel):\n    lr: int = 1",
    ),
}


@pytest.mark.parametrize(("before", "after"), CLASS_BODIES.values(), ids=CLASS_BODIES.keys())
def test_an_edit_anywhere_in_a_project_class_body_is_seen(project: Project, before: str, after: str) -> None:
    first = project({"flow.py": _flow("Config().lr", before)})
    assert project({"flow.py": _flow("Config().lr", before)}) == first
    second = project({"flow.py": _flow("Config().lr", after)})
    assert first.code["flow:Config"] != second.code["flow:Config"]


def test_an_object_holding_a_project_lambda_is_hashed_with_the_lambdas_code(project: Project) -> None:
    # a lambda is code like any helper: hashed by its source, so an object holding one stays cacheable
    holder = "class Holder:\n    def __init__(self, fn):\n        self.fn = fn\nHOLDER = Holder(lambda x: x * {k})"
    first = project({"flow.py": _flow("HOLDER.fn(2)", holder.format(k=2))})
    assert "flow.HOLDER" in first.values and not first.unhashable
    assert project({"flow.py": _flow("HOLDER.fn(2)", holder.format(k=2))}) == first
    second = project({"flow.py": _flow("HOLDER.fn(2)", holder.format(k=3))})
    assert first.code["flow:<lambda>"] != second.code["flow:<lambda>"]


def test_a_steps_source_is_read_again_when_its_file_changes_in_the_same_process(
    project: Project, tmp_path: Path
) -> None:
    """Sources are kept per function between fingerprints, with the file's stamp: an edit is still seen."""
    first = project({"flow.py": _flow("1")})
    module = sys.modules["flow"]
    assert step_fingerprint(module.compute, tmp_path) == first, "the same function, the same fingerprint"
    (tmp_path / "flow.py").write_text(_flow("1 + 22"))  # edited, not re-imported
    edited = step_fingerprint(module.compute, tmp_path)
    assert edited.code != first.code
