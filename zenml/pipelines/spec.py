"""The run spec: the immutable, declarative YAML a run compiles to and orchestrators receive."""

from __future__ import annotations

import datetime as dt
import re
import weakref
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from zenml.exceptions import ConfigError, excerpt
from zenml.steps.options import RuntimeSpec
from zenml.utils.hashing import sha256_bytes, sha256_text
from zenml.utils.names import NAME, RUN_ID
from zenml.utils.plainyaml import AliasError, PlainDumper, load_yaml
from zenml.utils.validation import config_error

SPEC_VERSION = 1
_REFERENCE = re.compile(r"^(run:[A-Za-z0-9_\-]+/)?[A-Za-z_][A-Za-z0-9_\-]*\.[A-Za-z_][A-Za-z0-9_]*$")
EXTERNAL_PREFIX = "run:"


def check_run_id(run_id: str) -> str:
    """Refuse a run id that cannot name a file (run ids become spec file and artifact folder names).

    Raises:
        ConfigError: the id holds anything but letters, digits, '_' and '-'.
    """
    if not RUN_ID.match(run_id):
        raise ConfigError(f"run id {excerpt(run_id)} is not allowed in a file name; use letters, digits, '_' or '-'")
    return run_id


def _safe_name(value: str, what: str, pattern: re.Pattern[str] = NAME) -> str:
    if not pattern.match(value):
        raise ValueError(f"{what} {excerpt(value)} is not allowed; use letters, digits, '_' or '-'")
    return value


def parse_reference(reference: str) -> tuple[str | None, str, str]:
    """``step.output`` → ``(None, step, output)``; ``run:RUN/step.output`` → ``(RUN, step, output)``.

    The second form reads an artifact another (earlier) run produced, e.g. a trained model.
    """
    run_id = None
    if reference.startswith(EXTERNAL_PREFIX):
        run_id, _, reference = reference[len(EXTERNAL_PREFIX) :].partition("/")
    step, _, output = reference.partition(".")
    return run_id, step, output


class _SpecDumper(PlainDumper):
    """The plain dumper, but strings holding Unicode line breaks are double-quoted (and so escaped).

    With ``allow_unicode`` PyYAML writes NEL (U+0085) raw inside a quoted scalar and reads it back
    as a space, which would silently change a parameter between compile and run.
    """


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if any(ch in value for ch in "\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_SpecDumper.add_representer(str, _represent_str)


#: ``RunSpec.to_yaml`` per live spec, by ``id`` with a weak reference to tell a reused id apart. Not a
#: private attribute of the model: that would take part in pydantic's ``==``. The models are frozen
#: and nothing changes their dicts after validation, so a spec's text never changes.
_YAML_OF: dict[int, tuple[weakref.ref[Any], str]] = {}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BackendSpec(_Model):
    """A backend by registry name, its class and its parameters."""

    name: str
    type: str
    params: dict[str, Any] = Field(default_factory=dict)


class BackendsSpec(_Model):
    """The three backends a run uses by default."""

    orchestrator: BackendSpec
    processing: BackendSpec
    training: BackendSpec


class StepSpec(_Model):
    """One step: how to rebuild it, where its inputs come from and what it produces."""

    type: str
    params: dict[str, Any] = Field(default_factory=dict)
    inputs: dict[str, str] = Field(default_factory=dict)
    outputs: dict[str, str] = Field(default_factory=dict)
    enable_cache: bool = True
    processing: BackendSpec | None = None
    training: BackendSpec | None = None
    runtime: RuntimeSpec = Field(default_factory=RuntimeSpec)

    @field_validator("inputs")
    @classmethod
    def _references(cls, value: dict[str, str]) -> dict[str, str]:
        for name, reference in value.items():
            if not _REFERENCE.match(reference):
                raise ValueError(
                    f"input '{name}' must reference 'step.output' or 'run:RUN/step.output', got {excerpt(reference)}"
                )
        return value

    def upstream(self) -> list[str]:
        """Names of the steps this step reads from, in input order, without repeats."""
        sources = [parse_reference(ref) for ref in self.inputs.values()]
        return list(dict.fromkeys(step for run_id, step, _ in sources if run_id is None))


class GitSpec(_Model):
    """The git state the run was launched from."""

    commit: str | None
    dirty: bool
    diff_sha256: str | None


class EnvironmentSpec(_Model):
    """Interpreter and package versions."""

    python: str
    zenml: str
    packages: dict[str, str] = Field(default_factory=dict)


class StackSpec(_Model):
    """Where artifacts and metadata go (credentials always redacted)."""

    name: str
    artifact_store: str
    metadata_store: str


class PipelineInfo(_Model):
    """Which pipeline this run belongs to."""

    name: str
    type: str

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _safe_name(value, "pipeline name")


class DataPin(_Model):
    """A source step served from an earlier run's snapshot instead of reading its source.

    ``run`` recorded ``step`` reading data version ``version``; that step's output artifacts (the
    ingested dataset) are what this run's step outputs, whatever the source holds now.
    """

    run: str
    step: str
    version: str

    @field_validator("run")
    @classmethod
    def _run(cls, value: str) -> str:
        return _safe_name(value, "run id", RUN_ID)


FailurePolicy = Literal["stop", "continue"]
FAILURE_POLICIES: tuple[str, ...] = ("stop", "continue")


class RunSpec(_Model):
    """A whole run, as written once to ``pipelines/<pipeline>/<run_id>.yaml``.

    ``failure_policy``: ``stop`` starts no new step after the first failure; ``continue`` keeps
    running every step that does not depend on a failed one. Either way the run ends ``failed``.
    ``enable_cache``: ``False`` when the run was started with the cache off (``--no-cache``), so
    resuming it runs its remaining steps without the cache too.
    ``data_from``: source steps pinned to an earlier run's data (a replay, ``--data-from``); it is
    left out of the YAML when empty, so specs of ordinary runs read as before.
    """

    spec_version: int = SPEC_VERSION
    run_id: str
    pipeline: PipelineInfo
    created_at: dt.datetime
    git: GitSpec | None = None
    environment: EnvironmentSpec
    code_paths: list[str] = Field(default_factory=list)
    stack: StackSpec
    backends: BackendsSpec
    failure_policy: FailurePolicy = "stop"
    enable_cache: bool = True
    steps: dict[str, StepSpec]
    data_from: dict[str, DataPin] = Field(default_factory=dict)

    @field_validator("steps")
    @classmethod
    def _step_names(cls, value: dict[str, StepSpec]) -> dict[str, StepSpec]:
        for name in value:
            _safe_name(name, "step name")
        return value

    @model_validator(mode="after")
    def _pinned_steps(self) -> RunSpec:
        unknown = [name for name in self.data_from if name not in self.steps]
        if unknown:
            raise ValueError(f"data_from names step '{unknown[0]}', which is not a step of this spec")
        return self

    def to_yaml(self) -> str:
        """Serialise to YAML (keys in model order, so specs read top-down).

        Dumped once per spec object (see ``_YAML_OF``): a run writes the spec file, records its
        sha256 and hands the text to workers, and PyYAML's pure-Python dumper costs ~10 µs per node.
        """
        known = _YAML_OF.get(id(self))
        if known is not None and known[0]() is self:
            return known[1]
        data = self.model_dump(mode="json")
        if not data["data_from"]:
            del data["data_from"]
        text = yaml.dump(data, Dumper=_SpecDumper, sort_keys=False, allow_unicode=True)
        key = id(self)
        _YAML_OF[key] = (weakref.ref(self, lambda _gone: _YAML_OF.pop(key, None)), text)
        return text

    def sha256(self) -> str:
        """The hash recorded in the metadata store for this spec."""
        return sha256_text(self.to_yaml())

    @classmethod
    def from_yaml(cls, text: str, source: str = "<spec>") -> RunSpec:
        """Parse and validate a spec.

        Raises:
            ConfigError: malformed YAML, a newer format version or a field that does not validate.
        """
        try:
            data = load_yaml(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            kind = "refused YAML" if isinstance(exc, AliasError) else "malformed YAML"
            raise ConfigError(f"{source}: {kind}{where}: {problem}") from exc
        return cls.from_data(data, source)

    @classmethod
    def from_data(cls, data: Any, source: str = "<spec>") -> RunSpec:
        """Validate already-parsed spec data (see ``from_yaml``)."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: a run spec must be a YAML mapping, got {type(data).__name__}")
        version = data.get("spec_version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise ConfigError(f"{source}: 'spec_version' must be an integer (this zenml writes {SPEC_VERSION})")
        if version > SPEC_VERSION:
            raise ConfigError(
                f"{source}: spec format version {version} is newer than this zenml understands "
                f"({SPEC_VERSION}); upgrade zenml to run it"
            )
        if version < 1:
            raise ConfigError(f"{source}: spec format version {version} does not exist")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise config_error(exc, str(source), field="field", whole="spec") from exc

    def downstream_of(self, name: str) -> list[str]:
        """Steps that read an output of ``name``."""
        return [other for other, spec in self.steps.items() if name in spec.upstream()]


def read_recorded_spec(path: Path, recorded_sha256: str, run_id: str) -> RunSpec:
    """The spec file run ``run_id`` was launched from, refusing one that is missing or edited since.

    The metadata store keeps the sha256 of the file as written at launch: a stored spec is the
    record of what ran, so resuming, replaying or executing steps from an edited copy would record
    something that never ran under the old run's name (or run a pipeline nobody wrote).

    Raises:
        ConfigError: the file is missing, unreadable or no longer matches ``recorded_sha256``.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError(
            f"spec file '{path}' of run {run_id} is missing; restore it from a backup "
            "('zen doctor' lists runs whose spec file is missing or changed)"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read spec file '{path}' of run {run_id}: {exc.strerror or exc}") from exc
    if sha256_bytes(data) != recorded_sha256:
        raise ConfigError(
            f"spec file '{path}' was changed after run {run_id} recorded it (its sha256 differs); a stored spec "
            "is what ran: restore it ('zen doctor' lists changed specs), and to run a changed pipeline copy the "
            "spec outside the pipelines folder or use 'zen run FILE.py:PIPELINE --param STEP.KEY=VALUE'"
        )
    return RunSpec.from_yaml(data.decode("utf-8", errors="replace"), str(path))
