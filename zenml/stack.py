"""The stack: where artifacts and metadata go and which backends run by default.

A pydantic-settings model: named stacks live in ``.zen/config.yaml``; any field can be overridden
by a ``ZEN_``-prefixed environment variable (``ZEN_METADATA_STORE``, ``ZEN_ORCHESTRATOR``, …),
which wins over the file, so CI and containers need no files at all. ``${VAR}`` placeholders in
the store URLs and options are filled from the environment only when the stores are opened
(``Stack.resolved``), so the file keeps the placeholder and never the secret.
"""

from __future__ import annotations

import contextlib
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

from zenml.exceptions import ConfigError, redact_urls_in_text
from zenml.registry import BACKEND_KINDS
from zenml.utils.envvars import expand_in, expand_variables, fill_placeholders
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
            The store URLs and options may hold ``${VAR}`` placeholders (see ``resolved``).
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

    def resolved(self) -> Stack:
        """The stack with ``${VAR}`` in its store URLs and options filled from the environment, to open the stores.

        Never written back: ``.zen/config.yaml`` keeps the placeholders.

        Raises:
            ConfigError: a variable is not set (the message names it and the stack).
        """
        expanded = {
            "artifact_store": expand_variables(self.artifact_store, f"stack '{self.name}' artifact_store"),
            "metadata_store": expand_variables(self.metadata_store, f"stack '{self.name}' metadata_store"),
            "artifact_store_options": expand_in(
                self.artifact_store_options, f"stack '{self.name}' artifact_store_options"
            ),
        }
        return self.model_copy(update=expanded)

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
        """Credential strings that must never be printed or written: passwords in the URLs, secret options.

        Both as configured and with ``${VAR}`` filled in (where the variables are set).
        """
        stacks = [self]
        with contextlib.suppress(ConfigError):  # an unset variable: nothing of it can leak
            stacks.append(self.resolved())
        found: list[str] = []
        for stack in stacks:
            for url in (stack.metadata_store, stack.artifact_store):
                found += _url_password(url)
            for key, value in _flatten(stack.artifact_store_options):
                found += [str(value)] if _is_secret_key(key) else _url_password(str(value))
        return list(dict.fromkeys(secret for secret in found if secret and "${" not in secret))


def check_stack_fields(name: str, fields: dict[str, Any]) -> None:
    """Check what can be checked before use: the store URLs' syntax, each default backend's name and options.

    ``${VAR}`` placeholders stand for any value, so a stack can be registered before its variables
    are set. Nothing is connected to, and a backend's extra need not be installed.

    Raises:
        ConfigError: naming the stack and the field at fault.
    """
    from zenml.metadata.store import check_url
    from zenml.pipelines.spec import BackendSpec
    from zenml.registry import resolve_backend
    from zenml.runtime.loading import load_backend

    try:
        check_url(fill_placeholders(str(fields["metadata_store"])))
        _check_artifact_url(fill_placeholders(str(fields["artifact_store"])))
        for kind in BACKEND_KINDS:
            backend, options = str(fields[kind]), dict(fields.get(f"{kind}_options") or {})
            spec = BackendSpec(name=backend, type=resolve_backend(kind, backend), params=options)
            load_backend(kind, spec, check_available=False)
    except ConfigError as exc:
        raise ConfigError(f"stack '{name}': {exc}") from exc


_SECRET_KEYS = ("secret", "password", "token", "key", "credential")


def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in _SECRET_KEYS) and lowered not in ("key_prefix", "endpoint_url")


def _check_artifact_url(uri: str) -> None:
    """A local folder, or a URL whose protocol fsspec knows (its driver may be missing here)."""
    protocol, sep, _rest = uri.partition("://")
    if not sep or protocol == "file":
        return
    import fsspec

    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*", protocol) or protocol not in fsspec.available_protocols():
        raise ConfigError(
            f"artifact store '{redact_url(uri)}': protocol '{protocol}://' is not one fsspec knows; use a local "
            "folder, memory://, s3://, gs:// or another fsspec protocol"
        )


def _url_password(url: str) -> list[str]:
    """The password of ``scheme://user:password@host…``, if ``url`` has one."""
    _scheme, sep, rest = url.partition("://")
    userinfo = rest.split("@", 1)[0] if sep and "@" in rest else ""
    return [userinfo.split(":", 1)[1]] if ":" in userinfo else []


def _flatten(value: Any, key: str = "") -> list[tuple[str, Any]]:
    """Every ``(key, leaf)`` of nested options; a list's items carry the key of the list."""
    if isinstance(value, dict):
        return [item for name, inner in value.items() for item in _flatten(inner, str(name))]
    if isinstance(value, list):
        return [item for inner in value for item in _flatten(inner, key)]
    return [(key, value)]


def _redact_options(value: Any, key: str = "") -> Any:
    """Options for display: secret keys' values and passwords in URLs replaced by ``***``, at any depth."""
    if isinstance(value, dict):
        return {name: _redact_options(inner, str(name)) for name, inner in value.items()}
    if isinstance(value, list):
        return [_redact_options(inner, key) for inner in value]
    if _is_secret_key(key):
        return "***"
    return redact_url(redact_urls_in_text(value)) if isinstance(value, str) else value
