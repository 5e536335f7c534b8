"""What the engine's tests share: a small pipeline, and a look at what a repository holds on disk."""

from __future__ import annotations

from pathlib import Path

from zenml import BaseStep, pipeline, step
from zenml.engine import compile_pipeline, write_spec
from zenml.pipelines.spec import RunSpec
from zenml.repository import Repository

SECRET = "s3cret"


@step
def load(rows: int = 3) -> list[int]:
    return list(range(rows))


class Multiply(BaseStep):
    def __init__(self, factor: int = 2):
        self.factor = factor

    def process(self, values: list[int]) -> list[int]:
        return [v * self.factor for v in values]


@step
def summarize(values: list[int]) -> int:
    return sum(values)


@pipeline
def numbers() -> None:
    summarize(Multiply(factor=3)(values=load()))


def spec_files(repository: Repository) -> list[Path]:
    return sorted(repository.pipelines_dir.rglob("*.yaml")) if repository.pipelines_dir.exists() else []


def artifact_entries(repository: Repository) -> list[str]:
    root = repository.root / ".zen" / "artifacts"
    return sorted(p.name for p in root.iterdir() if p.name != ".staging") if root.exists() else []


def untouched(repository: Repository) -> None:
    assert spec_files(repository) == []
    assert Repository(repository.root).runs() == []
    assert artifact_entries(repository) == []


def submitted(repository: Repository) -> tuple[RunSpec, Path]:
    """What an orchestrator does before handing steps to workers: compile, persist, record."""
    spec, repository, stack = compile_pipeline(numbers, repository=repository)
    path = write_spec(spec, repository)
    repository.stores(stack).metadata.create_run(
        run_id=spec.run_id, pipeline=spec.pipeline.name, spec_path=str(path.relative_to(repository.root)),
        spec_sha256=spec.sha256(), orchestrator="local", created_at=spec.created_at.timestamp(), git=None)
    return spec, path


def edit_in_place(path: Path) -> None:
    text = path.read_text()
    assert text.count("      rows: 3\n") == 1
    path.chmod(0o644)
    path.write_text(text.replace("      rows: 3\n", "      rows: 30\n"))
