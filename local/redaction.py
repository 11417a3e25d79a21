"""Secrets out of the local cloud's log.

Request lines and messages quote URLs, and URLs carry secrets in their
query strings: an API key (``?api_key=...``), a presigned URL's
``X-Amz-Signature`` / ``X-Amz-Credential`` / ``X-Amz-Security-Token``, a
callback token. :func:`redact` replaces the value of every query-string
parameter whose name contains ``key``, ``token``, ``secret``, ``signature``
or ``credential`` (in any case, URL-encoded or not) with ``REDACTED``;
:func:`install` applies it to every log record the process creates, whichever
logger, handler or format writes it.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote

REDACTED = "REDACTED"
SENSITIVE_NAME_PARTS = ("key", "token", "secret", "signature", "credential")
# name=value after ? or & (or ;), up to the next separator, space or quote.
_PARAMETER = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&?;\s\"'<>#]+)=(?P<value>[^&;\s\"'<>#]*)")

_installed = False


def is_sensitive(name: str) -> bool:
    lowered = unquote(name).lower()
    return any(part in lowered for part in SENSITIVE_NAME_PARTS)


def redact(text: str) -> str:
    """``text`` with the values of sensitive query-string parameters
    replaced by ``REDACTED`` (everything else as it was)."""
    if "=" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        if not is_sensitive(match.group("name")) or not match.group("value"):
            return match.group(0)
        return f"{match.group('lead')}{match.group('name')}={REDACTED}"

    return _PARAMETER.sub(replace, text)


def install() -> None:
    """Redact every log record from now on (idempotent): the message with
    its arguments, and an exception's text."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - leave a malformed record to logging's own error path
            return record
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
