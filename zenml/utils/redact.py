"""Remove credentials from URLs before they are written to specs, logs or messages."""

from __future__ import annotations

import re

from zenml.exceptions import redact_urls_in_text

_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:@/]*):(?P<secret>[^/?#]*)@")
_SECRET_QUERY = re.compile(
    r"(?i)(?P<key>(?:password|passwd|pwd|secret|token|key|access_key|secret_key|"
    r"aws_secret_access_key|aws_session_token|sslpassword)=)(?P<value>[^&]*)"
)


def redact_url(url: str) -> str:
    """Replace the password in ``scheme://user:password@host`` and secret query values with ``***``."""
    redacted = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", url)
    return _SECRET_QUERY.sub(lambda m: f"{m['key']}***", redacted)


def redact_text(text: str, secrets: list[str]) -> str:
    """Replace every occurrence of each non-empty secret in ``text`` with ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


__all__ = ["redact_text", "redact_url", "redact_urls_in_text"]
