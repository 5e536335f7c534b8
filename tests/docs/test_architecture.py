"""The architecture page tells the truth: its layer table is the import-linter contract, package for package."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import zenml

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "contributing" / "architecture.md"
ROW = re.compile(r"^\| (\d+) \| (.+?) \| ")


def contract_layers() -> list[set[str]]:
    """The layers of the first import-linter contract, as sets of sibling packages."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contract = config["tool"]["importlinter"]["contracts"][0]
    assert contract["type"] == "layers"
    return [{name.strip() for name in layer.split("|")} for layer in contract["layers"]]


def page_layers() -> list[set[str]]:
    """The packages of the page's layer table, grouped by their layer number, in order."""
    layers: dict[int, set[str]] = {}
    for line in PAGE.read_text().splitlines():
        match = ROW.match(line)
        if match:
            layers.setdefault(int(match.group(1)), set()).update(re.findall(r"`(zenml(?:\.\w+)?)`", match.group(2)))
    return [layers[number] for number in sorted(layers)]


def test_the_page_lists_the_contract_layers_in_order() -> None:
    assert page_layers() == contract_layers()


def test_every_package_and_top_level_module_has_a_layer() -> None:
    package = Path(zenml.__file__).parent
    names = {f"zenml.{p.name}" for p in package.iterdir() if (p / "__init__.py").exists()}
    names |= {f"zenml.{p.stem}" for p in package.glob("*.py") if p.stem not in ("__init__", "__main__")}
    in_contract = set().union(*contract_layers())
    assert names - in_contract == set(), "add it to the layers contract and to docs/contributing/architecture.md"
