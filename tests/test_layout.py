"""The tests mirror the package: every folder under ``tests/`` names a package of ``zenml`` (tests/README.md)."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ZENML = TESTS.parent / "zenml"
README = TESTS / "README.md"

#: top-level test files that test the whole product rather than one module
WHOLE_PRODUCT_FILES = {"test_smoke.py", "test_readme.py", "test_exported_members.py", "test_layout.py",
                       "test_no_private_access.py"}


def _whole_product_kinds() -> set[str]:
    """The folders tests/README.md lists as whole-product kinds (its table's first column)."""
    return set(re.findall(r"^\| `tests/([a-z_]+)/`", README.read_text(encoding="utf-8"), flags=re.MULTILINE))


def _stray_folders(tests: Path, package: Path, kinds: set[str]) -> list[str]:
    """Folders under ``tests`` holding files (``__pycache__`` left behind by a move does not count) that are
    neither under a whole-product kind nor named after a package (a folder with ``__init__.py``) under ``package``."""
    folders = {
        folder
        for path in tests.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
        for folder in path.relative_to(tests).parents
        if folder != Path(".")
    }
    named = {folder for folder in folders if folder.parts[0] in kinds or (package / folder / "__init__.py").is_file()}
    return sorted(str(folder) for folder in folders - named)


def test_the_readme_lists_the_whole_product_kinds() -> None:
    assert _whole_product_kinds() == {"data", "docs", "examples", "scripts", "reliability", "contrib"}


def test_every_test_folder_names_a_zenml_package() -> None:
    strays = _stray_folders(TESTS, ZENML, _whole_product_kinds())
    assert strays == [], f"test folders that name no zenml package (move them, or add a kind to {README}): {strays}"


def test_top_level_test_files_are_named_after_a_top_level_module() -> None:
    modules = {path.stem for path in ZENML.glob("*.py") if not path.stem.startswith("_")}
    strays = [
        path.name
        for path in sorted(TESTS.glob("test_*.py"))
        if path.name not in WHOLE_PRODUCT_FILES
        and not any(path.stem == f"test_{module}" or path.stem.startswith(f"test_{module}_") for module in modules)
    ]
    assert strays == [], f"top-level test files named after no top-level module of zenml: {strays}"


def test_the_rule_catches_a_stray_folder(tmp_path: Path) -> None:
    """The check is not vacuous: the old ``tests/trainer`` (``zenml/steps/trainer``) would be caught."""
    package, tests = tmp_path / "zenml", tmp_path / "tests"
    for folder in ("steps/trainer", "backends"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").touch()
    (package / "steps" / "__init__.py").touch()
    for test in ("steps/trainer/test_a.py", "trainer/test_b.py", "docs/test_c.py", "backends/training/test_d.py"):
        (tests / test).parent.mkdir(parents=True, exist_ok=True)
        (tests / test).touch()
    (tests / "evaluator" / "__pycache__").mkdir(parents=True)
    (tests / "evaluator" / "__pycache__" / "test_e.pyc").touch()
    assert _stray_folders(tests, package, {"docs"}) == ["backends/training", "trainer"]
