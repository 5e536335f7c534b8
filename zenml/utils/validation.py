"""Pydantic's ``ValidationError`` as the one-line ``ConfigError`` users read: the thing, the field, what is wrong."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zenml.exceptions import ConfigError

if TYPE_CHECKING:
    from pydantic import ValidationError

_VALUE_ERROR = "Value error, "


def config_error(
    exc: ValidationError, what: str, *, field: str = "", whole: str = "", bare: bool = False
) -> ConfigError:
    """``{what}: invalid {field} '{location}': {message}`` for the first error of ``exc`` (raise it ``from exc``).

    Args:
        exc: the validation error.
        what: the thing that did not validate: a file, ``stack 'name'``, ``step 'fit'``.
        field: what its fields are called in the message (``field``, ``runtime setting``; none by default).
        whole: the location named when the error is about the whole thing (its location is empty).
        bare: drop pydantic's ``Value error, `` before a validator's own message.

    Examples:
        >>> from pydantic import BaseModel, ValidationError
        >>> class Options(BaseModel):
        ...     retries: int
        >>> try:
        ...     Options.model_validate({})
        ... except ValidationError as exc:
        ...     print(config_error(exc, "step 'fit'", field="runtime setting"))
        step 'fit': invalid runtime setting 'retries': Field required
    """
    first = exc.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or whole
    message = str(first["msg"])
    if bare:
        message = message.removeprefix(_VALUE_ERROR)
    invalid = f"invalid {field}" if field else "invalid"
    return ConfigError(f"{what}: {invalid} '{location}': {message}")


__all__ = ["config_error"]
