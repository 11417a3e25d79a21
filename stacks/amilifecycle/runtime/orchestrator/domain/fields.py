"""Validators for the fields that requests share.

Each takes the parsed JSON value and the field's name as the caller knows
it, and either returns the clean value or raises :class:`ValidationError`
naming the field and what is allowed. Bounds keep one request from filling a
DynamoDB item (400 KB) or an AMI tag (255 characters).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlsplit

from .errors import ValidationError, describe_value
from .vocabulary import NotificationMethod, parse_notification_method

STACK_TAG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PROPERTY_KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")

MAX_TEXT_LENGTH = 256
MAX_NOTIFICATIONS = 10
MAX_PROPERTIES = 50
MAX_PROPERTY_VALUE_LENGTH = 2048
MAX_URL_LENGTH = 2048

# Fields a request may carry without being part of the operation's input:
# the API key of the first API version travels in the body.
IGNORED_FIELDS = frozenset({"api_key"})


def require_object(body: Any, *, what: str = "request body") -> Mapping[str, Any]:
    """The request must be a JSON object."""
    if not isinstance(body, Mapping):
        raise ValidationError(f"{what}: expected a JSON object, got {describe_value(body)}")
    return body


def reject_unknown_fields(body: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Refuse fields the operation does not know, so a misspelt field is not silently ignored."""
    known = list(allowed)
    unknown = sorted(set(body) - set(known) - IGNORED_FIELDS)
    if unknown:
        raise ValidationError(
            f"{unknown[0]}: unknown field; this request accepts {', '.join(known)}",
            field=unknown[0], allowed=known)


def text(body: Mapping[str, Any], field: str, *, required: bool = True, max_length: int = MAX_TEXT_LENGTH,
         pattern: re.Pattern[str] | None = None, expected: str | None = None) -> str | None:
    """A string field, stripped; ``None`` when optional and absent (or null)."""
    value = body.get(field)
    wanted = expected or f"a non-empty string of at most {max_length} characters"
    if value is None:
        if not required:
            return None
        raise ValidationError(f"{field}: missing (required); expected {wanted}", field=field)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field}: expected {wanted}, got {describe_value(value)}", field=field)
    value = value.strip()
    if len(value) > max_length:
        raise ValidationError(f"{field}: expected {wanted}, got {len(value)} characters", field=field)
    if pattern is not None and not pattern.match(value):
        raise ValidationError(f"{field}: expected {wanted}, got {describe_value(value)}", field=field)
    return value


def required_text(body: Mapping[str, Any], field: str, **kwargs: Any) -> str:
    """Like :func:`text`, for a field that must be present."""
    value = text(body, field, required=True, **kwargs)
    if value is None:  # text() raises for a missing required field; this narrows the type
        raise ValidationError(f"{field}: missing (required)", field=field)
    return value


def stack_tag(body: Mapping[str, Any], field: str = "stack_tag") -> str:
    """The deployment's stack tag: 1-32 characters of a-z, 0-9 and '-', not starting or ending with '-'."""
    return required_text(body, field, max_length=32, pattern=STACK_TAG_PATTERN,
                         expected="1-32 lower-case letters, digits or '-' (not at either end), like 'main'")


def lifecycle_id(value: Any, field: str = "lifecycle_id") -> str:
    """A lifecycle id: a UUID, returned in canonical lower-case form."""
    if value is None:
        raise ValidationError(f"{field}: missing (required); expected a lifecycle id (a UUID)", field=field)
    try:
        if not isinstance(value, str):
            raise ValueError
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise ValidationError(
            f"{field}: expected a lifecycle id (a UUID like 6f1c2d3e-...), got {describe_value(value)}",
            field=field) from None


@dataclass(frozen=True)
class NotificationChannel:
    """Where progress of a lifecycle is reported."""

    method: NotificationMethod
    target: str

    def to_dict(self) -> dict[str, str]:
        return {"method": str(self.method), "target": self.target}


def _http_target(target: str) -> bool:
    parts = urlsplit(target)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in target)


def notifications(raw: Any, field: str = "notifications") -> tuple[NotificationChannel, ...]:
    """1-10 ``{method, target}``: EMAIL with an email address, HTTP with an http(s) URL."""
    if raw is None:
        raise ValidationError(f"{field}: missing (required); expected a list of 1-{MAX_NOTIFICATIONS} "
                              "objects {method, target}", field=field)
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_NOTIFICATIONS:
        got = f"{len(raw)} entries" if isinstance(raw, list) else describe_value(raw)
        raise ValidationError(f"{field}: expected a list of 1-{MAX_NOTIFICATIONS} objects {{method, target}}, "
                              f"got {got}", field=field)
    channels: list[NotificationChannel] = []
    for index, item in enumerate(raw):
        where = f"{field}[{index}]"
        if not isinstance(item, Mapping):
            raise ValidationError(f"{where}: expected an object {{method, target}}, got {describe_value(item)}",
                                  field=where, allowed=["method", "target"])
        unknown = sorted(set(item) - {"method", "target"})
        if unknown:
            raise ValidationError(f"{where}: unknown field {unknown[0]!r}; a notification has only method and target",
                                  field=where, allowed=["method", "target"])
        method = parse_notification_method(item.get("method"), field=f"{where}.method")
        if method is NotificationMethod.EMAIL:
            target = _channel_target(item, f"{where}.target", max_length=254,
                                     valid=lambda t: bool(EMAIL_PATTERN.match(t)),
                                     expected="an email address like owner@example.com")
        else:
            target = _channel_target(item, f"{where}.target", max_length=MAX_URL_LENGTH, valid=_http_target,
                                     expected="an http:// or https:// URL like https://hooks.example.com/ami")
        channel = NotificationChannel(method, target)
        if channel in channels:
            raise ValidationError(f"{where}: {method} {target} is listed more than once", field=where)
        channels.append(channel)
    return tuple(channels)


def _channel_target(item: Mapping[str, Any], where: str, *, max_length: int, valid: Callable[[str], bool],
                    expected: str) -> str:
    value = item.get("target")
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > max_length \
            or not valid(value.strip()):
        state = "missing (required)" if value is None else f"got {describe_value(value)}"
        raise ValidationError(f"{where}: expected {expected}, {state}", field=where)
    return value.strip()


def properties(raw: Any, field: str = "properties", *, required: bool = False) -> Mapping[str, str]:
    """Free-form labels: an object of at most 50 string values.

    Keys start with a letter or '_' and use letters, digits, '_', '.', '-'
    (at most 128 characters); values are strings of at most 2048
    characters. The result is read-only.
    """
    if raw is None:
        if required:
            raise ValidationError(f"{field}: missing (required); expected an object of string values",
                                  field=field)
        return MappingProxyType({})
    if not isinstance(raw, Mapping):
        raise ValidationError(f"{field}: expected an object of string values, got {describe_value(raw)}",
                              field=field)
    if len(raw) > MAX_PROPERTIES:
        raise ValidationError(f"{field}: expected at most {MAX_PROPERTIES} entries, got {len(raw)}", field=field)
    clean: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not PROPERTY_KEY_PATTERN.match(key):
            raise ValidationError(
                f"{field}: key {describe_value(key)} is not allowed; keys start with a letter or '_' and use "
                "letters, digits, '_', '.' or '-' (at most 128 characters)", field=field)
        if not isinstance(value, str) or len(value) > MAX_PROPERTY_VALUE_LENGTH:
            got = f"{len(value)} characters" if isinstance(value, str) else describe_value(value)
            raise ValidationError(
                f"{field}.{key}: expected a string of at most {MAX_PROPERTY_VALUE_LENGTH} characters, got {got}",
                field=f"{field}.{key}")
        clean[key] = value
    return MappingProxyType(clean)


def bounded_integer(value: Any, field: str, *, minimum: int, maximum: int, default: int) -> int:
    """A whole number in a range; query strings deliver digits as text, which is accepted."""
    if value is None or value == "":
        return default
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    if number is None or not minimum <= number <= maximum:
        raise ValidationError(
            f"{field}: expected a whole number from {minimum} to {maximum}, got {describe_value(value)}",
            field=field)
    return number
