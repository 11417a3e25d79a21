"""Choosing an AMI: criteria, matching, and "newest first" over pages of entries.

The selection client names a stack tag, a region and optional filters; the
answer is the newest AMI (highest semantic version) that meets them all.
The adapter queries the lookup table's ``stack_tag`` + ``semver_sort_key``
index in descending key order (see :meth:`SelectionCriteria.key_condition`)
and hands the pages to :func:`first_match`, which stops reading at the first
entry that matches: no scan, no sorting in memory, no AMI missed because it
sat on a later page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from . import fields
from .errors import NotFound, ValidationError, describe_value
from .lookup import REGION_PATTERN
from .versioning import parse_version, semver_sort_key
from .vocabulary import LifecycleType, SelectionEvent, min_score, parse_selection_event

ANY = "any"
LATEST = "latest"


@dataclass(frozen=True)
class KeyCondition:
    """What to query: the partition (stack tag), an exact sort key if any, and the order."""

    stack_tag: str
    semver_sort_key: str | None
    newest_first: bool = True


@dataclass(frozen=True)
class SelectionCriteria:
    """The selection client's flags, validated; ``any``/``latest`` mean "no filter"."""

    stack_tag: str
    region: str
    ami_semver: str = LATEST
    product_ver: str = ANY
    product_name: str = ANY
    commit_ref: str = ANY
    lifecycle_type: str = ANY
    lifecycle_event: SelectionEvent = SelectionEvent.AMI_WITH_OS_HARDENING

    @classmethod
    def parse(cls, *, stack_tag: Any, region: Any, ami_semver: Any = LATEST, product_ver: Any = ANY,
              product_name: Any = ANY, commit_ref: Any = ANY, lifecycle_type: Any = ANY,
              lifecycle_event: Any = SelectionEvent.AMI_WITH_OS_HARDENING) -> "SelectionCriteria":
        """Validate raw flag values (case-insensitive keywords, exact versions normalized)."""
        tag = fields.stack_tag({"stack_tag": stack_tag})
        if not isinstance(region, str) or not REGION_PATTERN.match(region.strip()):
            raise ValidationError(f"region: expected an AWS region like eu-west-1, got {describe_value(region)}",
                                  field="region")
        version = LATEST if _is_keyword(ami_semver, LATEST) else str(parse_version(ami_semver))
        if _is_keyword(lifecycle_type, ANY):
            kind = ANY
        else:
            allowed = [ANY] + [str(t) for t in LifecycleType]
            if not isinstance(lifecycle_type, str) or lifecycle_type.strip().lower() not in allowed:
                raise ValidationError(f"lifecycle_type: expected one of {', '.join(allowed)}, got "
                                      f"{describe_value(lifecycle_type)}", field="lifecycle_type", allowed=allowed)
            kind = lifecycle_type.strip().lower()
        return cls(
            stack_tag=tag, region=region.strip(), ami_semver=version,
            product_ver=_value_or_any(product_ver, "product_ver"),
            product_name=_value_or_any(product_name, "product_name"),
            commit_ref=_value_or_any(commit_ref, "commit_ref"),
            lifecycle_type=kind,
            lifecycle_event=parse_selection_event(lifecycle_event),
        )

    @property
    def min_score(self) -> int:
        """The standing an AMI needs for ``lifecycle_event``."""
        return min_score(self.lifecycle_event)

    def equality_filters(self) -> dict[str, str]:
        """Entry attributes that must equal a value (the filters that are not ``any``/``latest``)."""
        wanted = {"stack_tag": self.stack_tag, "aws_region": self.region}
        for name in ("product_ver", "product_name", "commit_ref", "lifecycle_type"):
            value = getattr(self, name)
            if value != ANY:
                wanted[name] = value
        return wanted

    def key_condition(self) -> KeyCondition:
        """Query the stack tag's partition; an exact version narrows it to one sort key."""
        exact = None if self.ami_semver == LATEST else semver_sort_key(self.ami_semver)
        return KeyCondition(stack_tag=self.stack_tag, semver_sort_key=exact)

    def matches(self, item: Mapping[str, Any]) -> bool:
        """True when a lookup entry satisfies every criterion; a revoked AMI never does."""
        if item.get("revoked"):
            return False
        for name, value in self.equality_filters().items():
            if item.get(name) != value:
                return False
        if self.ami_semver != LATEST and _entry_sort_key(item) != semver_sort_key(self.ami_semver):
            return False
        try:
            return int(item.get("lifecycle_score", 0)) >= self.min_score
        except (TypeError, ValueError):
            return False

    def describe(self) -> str:
        """The criteria in one line, for "no AMI matches ..." messages."""
        return (f"stack_tag={self.stack_tag}, region={self.region}, ami_semver={self.ami_semver}, "
                f"product_ver={self.product_ver}, product_name={self.product_name}, commit_ref={self.commit_ref}, "
                f"lifecycle_type={self.lifecycle_type}, lifecycle_event={self.lifecycle_event} "
                f"(lifecycle_score >= {self.min_score})")


def _is_keyword(value: Any, keyword: str) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in ("", keyword))


def _value_or_any(value: Any, field: str) -> str:
    if _is_keyword(value, ANY):
        return ANY
    if not isinstance(value, str) or len(value.strip()) > 128:
        raise ValidationError(f"{field}: expected '{ANY}' or a value of at most 128 characters, got "
                              f"{describe_value(value)}", field=field)
    return value.strip()


def _entry_sort_key(item: Mapping[str, Any]) -> str | None:
    if item.get("semver_sort_key"):
        return str(item["semver_sort_key"])
    if item.get("ami_semver"):
        return semver_sort_key(item["ami_semver"])
    return None


def first_match(pages: Iterable[Iterable[Mapping[str, Any]]],
                criteria: SelectionCriteria) -> Mapping[str, Any] | None:
    """The first matching entry of pages already ordered newest first; later pages are not read.

    ``pages`` may be a generator that fetches the next page on demand.
    """
    for page in pages:
        for item in page:
            if criteria.matches(item):
                return item
    return None


def select_ami(pages: Iterable[Iterable[Mapping[str, Any]]], criteria: SelectionCriteria) -> Mapping[str, Any]:
    """Like :func:`first_match`, but no match is a :class:`NotFound` that lists the criteria."""
    found = first_match(pages, criteria)
    if found is None:
        raise NotFound(f"no AMI matches {criteria.describe()}; relax a filter (for instance "
                       f"--lifecycle_event {SelectionEvent.AMI_WITH_OS_HARDENING}) or check the stack tag and region")
    return found
