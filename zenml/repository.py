"""The repository: the ``.zen/`` folder (found from any sub-folder), its stacks and the read API."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from zenml.artifacts.store import LOGS_FOLDER, MANIFEST, ArtifactStore
from zenml.exceptions import ConfigError
from zenml.history.compare import RunComparison, compare_runs
from zenml.history.integrity import STAGING
from zenml.history.runs import ArtifactView, PipelineRun
from zenml.metadata.records import PipelineRecord
from zenml.metadata.store import SQLMetadataStore, normalise_url, sqlite_file
from zenml.runtime.stores import Stores, StoresRecipe, close_cached, open_cached
from zenml.stack import Stack, check_stack_fields
from zenml.utils.gitinfo import GitInfo, read_git_info
from zenml.utils.names import ZEN_DIR, check_name
from zenml.utils.plainyaml import PlainDumper, load_yaml
from zenml.utils.redact import redact_url
from zenml.utils.trust import trust_project_folder
from zenml.utils.validation import config_error

CONFIG_NAME = "config.yaml"
CONFIG_VERSION = 1
logger = logging.getLogger("zenml")


def close_stores() -> None:
    """Dispose every store this process opened (tests and long-lived processes switching stacks)."""
    close_cached()


def default_stack_fields() -> dict[str, Any]:
    """The stack fields' defaults, as written to ``config.yaml``.

    Never today's ``ZEN_*`` overrides, which may hold credentials meant to stay in the environment.
    """
    return {name: field.get_default(call_default_factory=True) for name, field in Stack.model_fields.items()
            if name != "name"}


class RepositoryConfig(BaseModel):
    """The contents of ``.zen/config.yaml``."""

    model_config = ConfigDict(extra="forbid")

    version: int = CONFIG_VERSION
    active_stack: str = "default"
    pipelines_dir: str = "pipelines"
    stacks: dict[str, dict[str, Any]] = Field(default_factory=lambda: {"default": default_stack_fields()})

    @field_validator("pipelines_dir")
    @classmethod
    def _inside_the_repository(cls, value: str) -> str:
        # Specs belong to the project they describe: a run records its spec's path relative to the
        # repository root, and git state excludes the folder; one outside would be neither.
        path = Path(value)
        if not value.strip() or path.is_absolute() or ".." in path.parts:
            raise ValueError(
                f"must be a folder inside the repository, relative to its root (e.g. 'pipelines'), got {value!r}"
            )
        return value


def already_initialised(path: str | Path | None = None) -> bool:
    """Whether ``path`` (default: the working directory) already holds a zenml repository's ``.zen/``."""
    return (Path(path or os.getcwd()).resolve() / ZEN_DIR / CONFIG_NAME).is_file()


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` that holds ``.zen/``."""
    for folder in (start, *start.parents):
        if (folder / ZEN_DIR / CONFIG_NAME).is_file():
            return folder
    return None


class Repository:
    """A zenml repository, found by walking up from ``path`` (default: the working directory).

    Args:
        path: where to start looking for ``.zen/``.
        stack: the stack whose stores the read API (``runs``, ``run``, ``artifact``, ``stores()``)
            uses; default: ``$ZEN_STACK``, else the active stack.

    Raises:
        ConfigError: no ``.zen/`` folder in ``path`` or its parents, or no stack named ``stack``.
    """

    def __init__(self, path: str | Path | None = None, *, stack: str | None = None) -> None:
        start = Path(path or os.getcwd()).resolve()
        root = find_root(start)
        if root is None:
            raise ConfigError(f"no zenml repository found in {start} or its parents; run 'zen init' first")
        self.root = root
        # the project's own modules may be named by what its stores hold (a model's loader class),
        # as they may by its run specs: reading trusts them by the same rule (zenml.utils.trust)
        trust_project_folder(root)
        self.config = self._read_config()
        self._opened: list[StoresRecipe] = []  # the stores this object opened or reused, for close()
        self.stack_name = stack
        if stack is not None:
            self.stack(stack)  # an unknown name is refused now, naming the known ones

    # -- creation and configuration ---------------------------------------------------------------

    @classmethod
    def init(cls, path: str | Path | None = None) -> Repository:
        """Create ``.zen/`` with the default stack, its SQLite database and artifact folder.

        Idempotent: an existing repository is left as it is (``already_initialised`` tells).
        """
        root = Path(path or os.getcwd()).resolve()
        config_path = root / ZEN_DIR / CONFIG_NAME
        try:
            if not config_path.is_file():
                (root / ZEN_DIR).mkdir(parents=True, exist_ok=True)
                _write_yaml(config_path, RepositoryConfig().model_dump())
            _ignore_in_git(root)
            repository = cls(root)
            repository.stores()  # creates the SQLite schema and the artifact folder now
        except OSError as exc:  # a read-only or full folder, or a file where a folder should be
            where = f" ({exc.filename})" if exc.filename else ""
            raise ConfigError(
                f"cannot make {root} a zenml repository: {exc.strerror or exc}{where}; run 'zen init' in a folder "
                "you can write to, or make this one writable"
            ) from exc
        marker = root / ZEN_DIR / "no-git-warned"
        if repository.git_info() is None and not marker.exists():
            logger.warning("%s is not inside a git repository: runs will record no commit", root)
            marker.touch()
        return repository

    def _read_config(self) -> RepositoryConfig:
        path = self.root / ZEN_DIR / CONFIG_NAME
        data = _config_data(path)
        try:
            config = RepositoryConfig.model_validate(data)
        except ValidationError as exc:
            raise config_error(exc, str(path)) from exc
        if config.version > CONFIG_VERSION:
            raise ConfigError(f"{path} has config version {config.version}; upgrade zenml to use it")
        return config

    def save_config(self) -> None:
        """Write the configuration back to ``.zen/config.yaml``."""
        _write_yaml(self.root / ZEN_DIR / CONFIG_NAME, self.config.model_dump())

    @property
    def pipelines_dir(self) -> Path:
        """Where run specs are written (``pipelines/`` at the root unless configured)."""
        return (self.root / self.config.pipelines_dir).resolve()

    def git_info(self) -> GitInfo | None:
        """The git state of the repository's working tree, or ``None`` outside git."""
        return read_git_info(self.root, exclude=(self.root / ZEN_DIR, self.pipelines_dir))

    # -- stacks ----------------------------------------------------------------------------------

    def active_stack_name(self) -> str:
        """``$ZEN_STACK`` if set, else the configured active stack."""
        return os.environ.get("ZEN_STACK") or self.config.active_stack

    def stack(self, name: str | None = None) -> Stack:
        """The named stack (default: the one this object was opened with, else the active one).

        ``ZEN_*`` environment overrides are applied; ``${VAR}`` placeholders are kept (``Stack.resolved``).

        Raises:
            ConfigError: no such stack, or its fields do not validate.
        """
        name = name or self.stack_name or self.active_stack_name()
        if name not in self.config.stacks:
            raise ConfigError(f"no stack named '{name}'; known stacks: {', '.join(self.config.stacks)}")
        try:
            return Stack(name=name, **self.config.stacks[name])
        except ValidationError as exc:
            raise config_error(exc, f"stack '{name}'") from exc

    def stacks(self) -> list[Stack]:
        """Every configured stack."""
        return [self.stack(name) for name in self.config.stacks]

    def register_stack(self, name: str, **fields: Any) -> Stack:
        """Add (or replace) a stack; unspecified fields take the defaults.

        Raises:
            ConfigError: a field does not validate, a store URL is malformed, or a backend name or
                option is unknown (``check_stack_fields``); nothing is written then.
        """
        check_name(name, "stack")
        try:
            stack = Stack(**{**default_stack_fields(), **fields, "name": name})
        except ValidationError as exc:
            raise config_error(exc, f"stack '{name}'") from exc
        check_stack_fields(name, {**default_stack_fields(), **fields})
        self.config.stacks[name] = {**default_stack_fields(), **fields}
        self.save_config()
        return stack

    def set_active_stack(self, name: str) -> None:
        """Make ``name`` the stack runs use by default."""
        if name not in self.config.stacks:
            raise ConfigError(f"no stack named '{name}'; known stacks: {', '.join(self.config.stacks)}")
        self.config.active_stack = name
        self.save_config()

    def delete_stack(self, name: str) -> None:
        """Remove a stack (not the active one; its stores are left untouched)."""
        if name not in self.config.stacks:
            raise ConfigError(f"no stack named '{name}'; known stacks: {', '.join(self.config.stacks)}")
        if name == self.config.active_stack:
            raise ConfigError(f"stack '{name}' is active; 'zen stack set' another one before deleting it")
        del self.config.stacks[name]
        self.save_config()

    def stores(self, stack: Stack | None = None, *, new_metadata_store: bool = False) -> Stores:
        """Open (once per stack) the stack's metadata and artifact stores.

        ``${VAR}`` placeholders in the stack's store URLs and options are filled from the environment
        now. A missing SQLite metadata file is created, unless the artifact store already holds
        artifacts: their records are lost, and an empty store would hide that (``new_metadata_store``
        starts one anyway: ``zen doctor --fix``).

        Raises:
            ConfigError: a placeholder's variable is not set.
            LostMetadataStoreError: the metadata file is missing next to a populated artifact store.
        """
        stack = (stack or self.stack()).resolved()
        recipe = StoresRecipe(
            normalise_url(stack.metadata_store, self.root),
            stack.artifact_store,
            dict(stack.artifact_store_options),
            project_root=self.root,
        )

        def open_stores() -> Stores:
            artifacts = ArtifactStore(stack.artifact_store, base_dir=self.root, options=stack.artifact_store_options)
            if not new_metadata_store:
                _refuse_lost_metadata(stack, artifacts, self.root)
            metadata = SQLMetadataStore(recipe.metadata_url, base_dir=self.root)
            return Stores(metadata=metadata, artifacts=artifacts, project_root=self.root, recipe=recipe)

        # Shared by every Repository object and worker of this process: one connection pool per store,
        # however many times pipeline.run() or Repository() is called.
        stores = open_cached(recipe, open_stores)
        if recipe not in self._opened:
            self._opened.append(recipe)
        return stores

    def close(self) -> None:
        """Dispose the stores this repository opened (or reused); a later ``stores()`` opens them anew.

        Other ``Repository`` objects of the process that share them reopen them on their next ``stores()``.
        """
        close_cached(self._opened)
        self._opened.clear()

    def check_metadata_file(self) -> None:
        """Refuse, as ``stores()`` would, a stack whose SQLite file is missing next to its artifacts (opens no store).

        Raises:
            LostMetadataStoreError: the active stack's metadata file is missing while its artifacts remain.
        """
        stack = self.stack().resolved()
        artifacts = ArtifactStore(stack.artifact_store, base_dir=self.root, options=stack.artifact_store_options)
        _refuse_lost_metadata(stack, artifacts, self.root)

    # -- reading history -------------------------------------------------------------------------

    def pipelines(self) -> list[PipelineRecord]:
        """Every pipeline with its run count."""
        return self.stores().metadata.pipelines()

    def runs(self, pipeline: str | None = None, limit: int | None = None) -> list[PipelineRun]:
        """Runs, newest first (optionally of one pipeline); runs whose process died show ``crashed``."""
        stores = self.stores()
        stores.metadata.reap_dead_runs()
        return [PipelineRun(record, stores) for record in stores.metadata.runs(pipeline=pipeline, limit=limit)]

    def run(self, run_id: str) -> PipelineRun:
        """One run by id (or a unique prefix of it)."""
        stores = self.stores()
        stores.metadata.reap_dead_runs()
        return PipelineRun(stores.metadata.get_run(run_id), stores)

    def compare(self, a: str | PipelineRun, b: str | PipelineRun) -> RunComparison:
        """Compare two runs (ids, prefixes or run objects): parameters, code, inputs, metrics, caching."""
        run_a = a if isinstance(a, PipelineRun) else self.run(a)
        run_b = b if isinstance(b, PipelineRun) else self.run(b)
        return compare_runs(run_a, run_b)

    def artifact(self, artifact_id: int) -> ArtifactView:
        """One artifact by id."""
        stores = self.stores()
        return ArtifactView(stores.metadata.artifact(artifact_id), stores)


class LostMetadataStoreError(ConfigError):
    """A stack's SQLite metadata file is missing while its artifact store holds artifacts.

    Attributes:
        database: the missing file.
        artifact_store: the artifact store's URI.
        example_run: a run whose artifacts are in the artifact store.
    """

    def __init__(self, stack: str, database: str, artifact_store: str, example_run: str) -> None:
        self.database, self.artifact_store, self.example_run = database, artifact_store, example_run
        super().__init__(
            f"stack '{stack}': the metadata store {database} is missing, but the artifact store {artifact_store} "
            f"holds artifacts (e.g. of run {example_run}); zenml does not start an empty store over them: restore "
            f"the file from a backup, or run 'zen doctor{'' if stack == 'default' else ' --stack ' + stack}' "
            "to see how to start anew"
        )


def _refuse_lost_metadata(stack: Stack, artifacts: ArtifactStore, root: Path) -> None:
    """Raise ``LostMetadataStoreError`` when the SQLite file is missing and the artifact store is not empty."""
    database = sqlite_file(stack.metadata_store, root)
    if database is None or database.exists() or artifacts.uri.startswith("memory://"):
        return  # an in-memory store lives only as long as its process: no history outlives it to be lost
    run = _first_run_with_artifacts(artifacts)
    if run is not None:
        raise LostMetadataStoreError(stack.name, str(database), redact_url(artifacts.uri), run)


def _first_run_with_artifacts(artifacts: ArtifactStore) -> str | None:
    """The run folder of the first published artifact found in the store (``None``: it holds none)."""
    storage = artifacts.storage
    if not storage.exists(storage.root):
        return None
    for relative, _size in storage.files(storage.root):
        parts = relative.split("/")
        if parts[-1] == MANIFEST and parts[0] not in (STAGING, LOGS_FOLDER) and len(parts) > 1:
            return parts[0]
    return None


def _config_data(path: Path) -> dict[str, Any]:
    """The parsed ``config.yaml``, or a one-line ``ConfigError`` saying what is wrong with the file and the fix."""
    fix = "fix it, or delete it and run 'zen init' to write a default one"
    try:
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as exc:  # random bytes, a binary file copied over it
        raise ConfigError(f"{path} is not a text file (byte {exc.start} is not UTF-8); {fix}") from exc
    except OSError as exc:
        raise ConfigError(
            f"cannot read {path} ({exc.strerror or exc}); check that it is a readable file, or run 'zen init' to "
            "write a default one"
        ) from exc
    except yaml.YAMLError as exc:  # one line, like every zenml message: where and what
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path} is not valid YAML{where}: {problem}; {fix}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a YAML mapping (version, stacks, ...), got {type(data).__name__}; {fix}")
    return data


def _write_yaml(path: Path, data: dict[str, Any]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(yaml.dump(data, Dumper=PlainDumper, sort_keys=False))
    os.replace(temporary, path)


def _ignore_in_git(root: Path) -> None:
    gitignore = root / ".gitignore"
    lines = gitignore.read_text().splitlines() if gitignore.exists() else []
    if not any(line.strip().rstrip("/") in (ZEN_DIR, f"/{ZEN_DIR}") for line in lines):
        with gitignore.open("a") as handle:
            prefix = "\n" if lines and lines[-1] else ""
            handle.write(f"{prefix}{ZEN_DIR}/\n")
