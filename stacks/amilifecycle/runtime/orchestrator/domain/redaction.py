"""Removing credentials from data before anyone outside the orchestrator sees it.

Status responses, notifications and the timeline show lifecycle records.
Whatever a record holds (including state-machine inputs and results written
by older or third-party producers), these helpers drop every key that names
a credential and cut the query string off URLs that carry one (API keys,
presigned S3 signatures), at any depth.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

_SENSITIVE_KEYS = frozenset({
    "api_key", "apikey", "x_api_key", "task_token", "tasktoken", "token", "password", "secret",
    "secret_string", "secretstring", "authorization", "access_key", "access_key_id", "secret_access_key",
    "session_token", "credentials",
})
_SENSITIVE_SUFFIXES = ("_api_key", "_apikey", "_secret", "_password", "_task_token", "_session_token",
                       "_secret_access_key")
_SENSITIVE_QUERY_PARAMETERS = frozenset({
    "api_key", "apikey", "x-amz-signature", "x-amz-credential", "x-amz-security-token", "signature",
    "awsaccesskeyid", "token",
})


def is_sensitive_key(key: Any) -> bool:
    """True for a key that names a credential (``api_key``, ``task_token``, ``*_secret``, ...)."""
    if not isinstance(key, str):
        return False
    normalized = key.strip().lower().replace("-", "_")
    return normalized in _SENSITIVE_KEYS or normalized.endswith(_SENSITIVE_SUFFIXES)


def redact_url(value: str) -> str:
    """``value`` without its query string when the query carries a credential."""
    if "://" not in value or "?" not in value:
        return value
    try:
        parts = urlsplit(value)
        parameters = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return value
    if any(name.lower() in _SENSITIVE_QUERY_PARAMETERS for name, _ in parameters):
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return value


def redact(value: Any) -> Any:
    """A copy of ``value`` with credential keys removed and credential-bearing URLs cut, recursively."""
    if isinstance(value, dict):
        return {key: redact(item) for key, item in value.items() if not is_sensitive_key(key)}
    if isinstance(value, (list, tuple)):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return redact_url(value)
    return value


def redact_json_text(value: Any) -> Any:
    """Like :func:`redact`, but a string holding a JSON document is parsed and redacted too.

    State-machine inputs were once stored as JSON text; a key inside such a
    string would escape :func:`redact`.
    """
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return redact_url(value)
        return redact(parsed)
    return redact(value)
