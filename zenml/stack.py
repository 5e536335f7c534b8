"""The stack: where artifacts and metadata go and which backends run by default.

A pydantic-settings model: named stacks live in ``.zen/config.yaml``; any field can be overridden
by a ``ZEN_``-prefixed environment variable (``ZEN_METADATA_STORE``, ``ZEN_ORCHESTRATOR``, …),
which wins over the file, so CI and containers need no files at all.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from zenml.exceptions import ConfigError
from zenml.registry import BACKEND_KINDS
from zenml.utils.redact import redact_url


class _EnvironmentWithoutName(EnvSettingsSource):
    """``ZEN_*`` variables for every field but ``name``: a stack is picked by ``ZEN_STACK``, never renamed."""

    def __call__(self) -> dict[str, Any]:
        try:
            data = super().__call__()
        except SettingsError as exc:  # e.g. ZEN_PROCESSING_OPTIONS that is not JSON
            field = re.search(r'field "(\w+)"', str(exc))
            variable = f"ZEN_{field.group(1).upper()}" if field else "a ZEN_* variable"
            raise ConfigError(
                f"{variable} is not valid: option fields need a JSON object, e.g. '{{\"workers\": 2}}'"
            ) from exc
        data.pop("name", None)
        return data


class Stack(BaseSettings):
    """One named stack.

    Attributes:
        name: the stack's name (not overridable from the environment).
        artifact_store: a folder (relative to the repository root) or an fsspec URL.
        artifact_store_options: fsspec options for it (``{"client_kwargs": {"endpoint_url": ...}}``,
            ``key``/``secret``); secrets here are redacted everywhere zenml prints the stack.
        metadata_store: an SQLAlchemy URL; relative SQLite paths are relative to the repository root.
        orchestrator / processing / training: registry names of the default backends.
        orchestrator_options / processing_options / training_options: their parameters.
    """

    model_config = SettingsConfigDict(env_prefix="ZEN_", extra="forbid", validate_default=True)

    name: str = Field(default="default", exclude=False)
    artifact_store: str = ".zen/artifacts"
    artifact_store_options: dict[str, Any] = Field(default_factory=dict)
    metadata_store: str = "sqlite:///.zen/metadata.db"
    orchestrator: str = "local"
    processing: str = "local"
    training: str = "local"
    orchestrator_options: dict[str, Any] = Field(default_factory=dict)
    processing_options: dict[str, Any] = Field(default_factory=dict)
    training_options: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment variables beat the values read from ``.zen/config.yaml``."""
        return _EnvironmentWithoutName(settings_cls), init_settings

    @field_validator("artifact_store", "metadata_store", "orchestrator", "processing", "training")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    def backend(self, kind: str) -> tuple[str, dict[str, Any]]:
        """The default backend name and options of ``kind``."""
        if kind not in BACKEND_KINDS:
            raise KeyError(kind)
        return getattr(self, kind), dict(getattr(self, f"{kind}_options"))

    def to_file(self) -> dict[str, Any]:
        """The fields written to ``.zen/config.yaml`` (credentials stay as configured)."""
        return self.model_dump(exclude={"name"})

    def describe(self) -> dict[str, Any]:
        """The fields with every credential redacted, for display."""
        data = self.model_dump()
        data["metadata_store"] = redact_url(self.metadata_store)
        data["artifact_store"] = redact_url(self.artifact_store)
        data["artifact_store_options"] = _redact_options(self.artifact_store_options)
        return data

    def secrets(self) -> list[str]:
        """Credential strings that must never be printed or written (passwords in the URLs)."""
        found: list[str] = []
        for url in (self.metadata_store, self.artifact_store):
            _scheme, sep, rest = url.partition("://")
            userinfo = rest.split("@", 1)[0] if sep and "@" in rest else ""
            if ":" in userinfo:
                found.append(userinfo.split(":", 1)[1])
        found += [str(value) for key, value in _flatten(self.artifact_store_options) if _is_secret_key(key)]
        return [secret for secret in found if secret]


_SECRET_KEYS = ("secret", "password", "token", "key", "credential")


def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in _SECRET_KEYS) and lowered not in ("key_prefix", "endpoint_url")


def _flatten(options: dict[str, Any]) -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in options.items():
        items += _flatten(value) if isinstance(value, dict) else [(key, value)]
    return items


def _redact_options(options: dict[str, Any]) -> dict[str, Any]:
    return {
        key: _redact_options(value) if isinstance(value, dict) else ("***" if _is_secret_key(key) else value)
        for key, value in options.items()
    }
