"""Timestamps: ISO-8601 in UTC with a ``Z``, second precision, everywhere.

One format for records, results, lookup entries and tags
(``2026-11-23T10:00:00Z``): it sorts as text, says its zone, and every
language parses it. The domain never reads the clock; callers pass ``now``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from .errors import ValidationError, describe_value

FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def iso_utc(moment: datetime) -> str:
    """``moment`` as ``YYYY-MM-DDTHH:MM:SSZ``; a naive datetime is a programming error."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware (pass datetime.now(timezone.utc))")
    return moment.astimezone(timezone.utc).strftime(FORMAT)


def parse_timestamp(value: Any, *, field: str) -> datetime:
    """Parse an ISO-8601 timestamp that names its zone (``Z`` or an offset)."""
    parsed: datetime | None = None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ValidationError(
            f"{field}: expected an ISO-8601 UTC timestamp like 2026-11-23T10:00:00Z, got {describe_value(value)}",
            field=field)
    return parsed.astimezone(timezone.utc)


def normalize_timestamp(value: Any, *, field: str) -> str:
    """Parse a timestamp and write it back in the one canonical format."""
    return iso_utc(parse_timestamp(value, field=field))


def older_than(timestamp: str, now: datetime, limit: timedelta) -> bool:
    """True when ``timestamp`` lies more than ``limit`` before ``now``."""
    return now.astimezone(timezone.utc) - parse_timestamp(timestamp, field="timestamp") > limit
