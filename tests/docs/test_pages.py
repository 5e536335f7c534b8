"""What particular pages must say: the glossary in Concepts, the README's commands in Getting started."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

# The glossary of the design contract (DESIGN.md §2, "concept (glossary)"): docs/concepts.md has one
# section per term, and each section links to the page that covers the term in depth.
GLOSSARY = [
    "Artifact",
    "Artifact store",
    "Backend",
    "CLI",
    "DAG",
    "Metadata",
    "Metadata store",
    "Orchestrator",
    "Parameter",
    "Pipeline",
    "Repository",
    "Stack",
    "Step",
]


def concept_sections() -> dict[str, str]:
    """``## Heading`` → the text up to the next heading, keyed by the lower-cased heading."""
    text = (DOCS / "concepts.md").read_text()
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return {title.strip().lower(): body for title, body in zip(parts[1::2], parts[2::2], strict=True)}


@pytest.mark.parametrize("term", GLOSSARY)
def test_concepts_has_a_section_per_glossary_term(term: str) -> None:
    sections = concept_sections()
    assert term.lower() in sections, f"docs/concepts.md has no '## {term}' section"
    pages = [
        target
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", sections[term.lower()])
        if not re.match(r"^[a-z]+://", target)
    ]
    assert pages, f"the '{term}' section of docs/concepts.md links to no guide or reference page"


def readme_commands() -> list[str]:
    """The first two lines of README.md's first shell block: the setup and the test command."""
    block = re.search(r"^```bash\n(.*?)^```", (ROOT / "README.md").read_text(), re.S | re.M)
    assert block, "README.md has no bash block"
    lines = block[1].splitlines()[:2]
    assert [line.split()[:2] for line in lines] == [["bash", "scripts/quickstart"], ["bash", "scripts/test"]]
    return lines


def test_getting_started_shows_the_readme_commands_verbatim() -> None:
    lines = (DOCS / "getting-started.md").read_text().splitlines()
    for command in readme_commands():
        assert command in lines, f"docs/getting-started.md does not show README.md's line:\n{command}"


def test_every_page_shows_the_setup_scripts_as_the_readme_does() -> None:
    commands = {line.split("#", 1)[0].strip(): line for line in readme_commands()}
    for page in sorted(DOCS.rglob("*.md")):
        for line in page.read_text().splitlines():
            command = line.split("#", 1)[0].strip()
            if command in commands:
                assert line == commands[command], (
                    f"{page.relative_to(ROOT)} shows `{command}` differently from README.md:\n{line}"
                )
