"""Errors the domain raises, each one a value a caller can act on.

The HTTP layer maps them without knowing the rule that failed:
``ValidationError`` -> 400 (the input is malformed), ``NotFound`` -> 404,
``Conflict`` -> 409 (the input is well formed but the lifecycle's state forbids
it: prerequisites, an immutable event, an event already in progress). The
message always says what was wrong; ``field`` and ``allowed`` say where and
what would have been accepted, so a client can show a precise hint.
:class:`ErrorCode` is every ``code`` an error body can carry, the API's
(authentication, unexpected failures) included.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar, Iterable


class ErrorCode(StrEnum):
    """The ``code`` of every error body the API answers."""

    VALIDATION_ERROR = "VALIDATION_ERROR"
    UNAUTHORIZED = "UNAUTHORIZED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    NOT_IMPLEMENTED = "NOT_IMPLEMENTED"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class DomainError(Exception):
    """Base of every error raised by the domain."""

    code: ClassVar[str] = "DOMAIN_ERROR"
    http_status: ClassVar[int] = 400

    def __init__(self, message: str, *, field: str | None = None,
                 allowed: Iterable[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.allowed: list[str] | None = [str(item) for item in allowed] if allowed is not None else None

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body: ``{"error", "code", "field"?, "allowed"?}``."""
        body: dict[str, Any] = {"error": self.message, "code": self.code}
        if self.field is not None:
            body["field"] = self.field
        if self.allowed is not None:
            body["allowed"] = list(self.allowed)
        return body

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, field={self.field!r})"


def describe_value(value: Any) -> str:
    """A short description of a rejected value for "got ..." in messages.

    Values are quoted but truncated, so an error never echoes a whole
    document (or a secret pasted into the wrong field) back in full.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        if not value.strip():
            return "an empty string"
        shown = value if len(value) <= 60 else value[:57] + "..."
        return repr(shown)
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class ValidationError(DomainError):
    """A request or message field is missing or malformed."""

    code = ErrorCode.VALIDATION_ERROR
    http_status = 400


class NotFound(DomainError):
    """The lifecycle (or the thing inside it) does not exist."""

    code = ErrorCode.NOT_FOUND
    http_status = 404


class Conflict(DomainError):
    """The request is valid but the lifecycle's current state forbids it."""

    code = ErrorCode.CONFLICT
    http_status = 409
