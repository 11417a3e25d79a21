"""Semantic versions of AMIs and the sortable key that orders them in DynamoDB.

Creation: every stack tag has a *seed* version. A completed build gets the
current seed and the seed moves one MAJOR up, so a stack tag's builds are
1.0.0, 2.0.0, 3.0.0, ... Patch: a completed patch takes the version of the
AMI it patched and raises MINOR or PATCH.

DynamoDB orders sort keys as byte strings, where "10.0.0" < "9.0.0". The
:func:`semver_sort_key` encoding makes byte order equal semantic-version
precedence (build metadata ignored, as semver says), so "the newest AMI of a
stack tag" is one Query in descending key order:

* ``MAJOR.MINOR.PATCH``, each zero-padded to 6 digits (0-999999), then
* ``~`` for a release, or ``-`` and the encoded pre-release for a
  pre-release. ``-`` sorts before ``~``, so 1.0.0-rc.1 < 1.0.0.
* Pre-release identifiers are joined with ``!`` (lower than any character an
  identifier may hold, so a shorter identifier list sorts first); a numeric
  identifier is ``0`` plus 6 zero-padded digits, an alphanumeric one is ``1``
  plus the identifier (so numeric < alphanumeric, and alphanumerics compare
  in ASCII order).

Example: 1.2.3 -> ``000001.000002.000003~``; 1.2.3-rc.1 ->
``000001.000002.000003-1rc!0000001``.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Iterator

import semver

from .errors import ValidationError, describe_value
from .vocabulary import SemverBump

WIDTH = 6
MAX_PART = 10**WIDTH - 1
RELEASE_MARK = "~"
PRERELEASE_MARK = "-"
IDENTIFIER_SEPARATOR = "!"
_NUMERIC = "0"
_ALPHANUMERIC = "1"
_KEY_PATTERN = re.compile(
    r"^(\d{6})\.(\d{6})\.(\d{6})(~|-((?:0\d{6}|1[0-9A-Za-z-]+)(?:!(?:0\d{6}|1[0-9A-Za-z-]+))*))$"
)


def parse_version(value: Any, *, field: str = "ami_semver") -> semver.Version:
    """Parse ``MAJOR.MINOR.PATCH[-pre][+build]``; parts above 999999 are refused (see the sort key)."""
    if isinstance(value, semver.Version):
        version = value
    elif isinstance(value, str):
        try:
            version = semver.Version.parse(value.strip())
        except ValueError:
            raise ValidationError(
                f"{field}: expected a semantic version like 1.0.0, got {describe_value(value)}", field=field
            ) from None
    else:
        raise ValidationError(f"{field}: expected a semantic version like 1.0.0, got {describe_value(value)}",
                              field=field)
    numbers = [version.major, version.minor, version.patch]
    numbers += [int(part) for part in (version.prerelease or "").split(".") if part.isdigit()]
    if max(numbers) > MAX_PART:
        raise ValidationError(f"{field}: every number in the version must be at most {MAX_PART}, got {version}",
                              field=field)
    return version


def assign_build_version(seed: str | None, default_seed: str) -> tuple[str, str]:
    """The version a completed build gets, and the stack tag's next seed.

    ``seed`` is the stack tag's stored seed (``None`` before its first
    build, when ``default_seed`` applies).
    """
    current = parse_version(seed if seed else default_seed, field="seed")
    return str(current), str(current.bump_major())


def bump_version(base: str, bump: SemverBump) -> str:
    """The version of an AMI patched from an AMI of version ``base``."""
    version = parse_version(base, field="base version")
    bumped = version.bump_minor() if SemverBump(bump) is SemverBump.MINOR else version.bump_patch()
    return str(parse_version(str(bumped)))


def patch_version_candidates(base: str, bump: SemverBump, *, limit: int = 100) -> Iterator[str]:
    """The versions a patch of an AMI of version ``base`` may get, in order of preference.

    First ``base`` bumped as asked; when another lifecycle of the stack tag
    already holds it, the next PATCH up, and so on (at most ``limit``).
    """
    version = bump_version(base, bump)
    for _ in range(limit):
        yield version
        version = bump_version(version, SemverBump.PATCH)


def compare_versions(left: str, right: str) -> int:
    """-1, 0 or 1 as ``left`` precedes, equals or follows ``right``."""
    return parse_version(left, field="left").compare(parse_version(right, field="right"))


def latest_version(versions: list[str]) -> str | None:
    """The highest of ``versions`` by semantic-version precedence."""
    parsed = [parse_version(v) for v in versions]
    return str(max(parsed)) if parsed else None


def _encode_identifier(identifier: str) -> str:
    if identifier.isdigit():
        return _NUMERIC + identifier.zfill(WIDTH)
    return _ALPHANUMERIC + identifier


def semver_sort_key(version: Any) -> str:
    """A fixed-width string whose byte order equals semantic-version precedence."""
    parsed = parse_version(version)
    core = ".".join(str(part).zfill(WIDTH) for part in (parsed.major, parsed.minor, parsed.patch))
    if not parsed.prerelease:
        return core + RELEASE_MARK
    encoded = IDENTIFIER_SEPARATOR.join(_encode_identifier(i) for i in parsed.prerelease.split("."))
    return core + PRERELEASE_MARK + encoded


def version_from_sort_key(key: str) -> str:
    """The version a sort key encodes (without build metadata, which the key drops)."""
    match = _KEY_PATTERN.match(key) if isinstance(key, str) else None
    if not match:
        raise ValidationError(
            f"semver_sort_key: expected a key like 000001.000000.000000~, got {describe_value(key)}",
            field="semver_sort_key")
    core = ".".join(str(int(part)) for part in match.group(1, 2, 3))
    if match.group(4) == RELEASE_MARK:
        return core
    identifiers = []
    for encoded in match.group(5).split(IDENTIFIER_SEPARATOR):
        identifiers.append(str(int(encoded[1:])) if encoded[0] == _NUMERIC else encoded[1:])
    return f"{core}-{'.'.join(identifiers)}"


def is_sort_key(key: Any) -> bool:
    """True when ``key`` is exactly what :func:`semver_sort_key` produces for some version."""
    try:
        return bool(semver_sort_key(version_from_sort_key(key)) == key)
    except ValidationError:
        return False


def image_builder_version(now: datetime) -> tuple[str, str]:
    """A unique Image Builder version for a patch component started at ``now``.

    Returns ``(dot, dash)``: ``YYYY.M.DDHHMMSS`` in Image Builder's
    MAJOR.MINOR.PATCH form (no leading zeros, each part well below Image
    Builder's 2^30 limit) and ``YYYY-MM-DDHHMMSS`` for resource names.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    utc = now.astimezone(timezone.utc)
    dot = f"{utc.year}.{utc.month}.{int(utc.strftime('%d%H%M%S'))}"
    return dot, utc.strftime("%Y-%m-%d%H%M%S")
