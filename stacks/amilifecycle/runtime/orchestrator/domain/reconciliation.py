"""Reconciling AMI tags with the lifecycle records they are derived from.

The state table is the truth; the ``AMI_LC_*`` tags on an AMI are a copy of
it that anyone with EC2 access can change or delete. The reconciler
compares, for each lifecycle, the tags the record says its AMI should carry
(:func:`orchestrator.domain.tags.expected_tags`: the current patch's results
when the lifecycle was patched, else the creation's) with the tags every
copy of that AMI actually carries, and rewrites what is missing or wrong.
Tags the record does not name (other teams' tags, tags of other phases)
are left alone: the reconciler only restores, it never deletes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from .history import Record, ami_details, current_patch, phase_ami_entry
from .tags import expected_tags
from .vocabulary import LifecycleType


@dataclass(frozen=True)
class AmiCopy:
    """One copy of a lifecycle's AMI: an ``ami_details`` entry (region x account)."""

    ami_id: str
    region: str
    account_id: str
    name: str = ""

    @classmethod
    def of(cls, entry: Mapping[str, Any]) -> "AmiCopy":
        return cls(ami_id=str(entry.get("image") or ""), region=str(entry.get("region") or ""),
                   account_id=str(entry.get("accountId") or ""), name=str(entry.get("name") or ""))

    def to_dict(self) -> dict[str, str]:
        return {"ami_id": self.ami_id, "region": self.region, "account_id": self.account_id, "name": self.name}


@dataclass(frozen=True)
class TagDrift:
    """One tag that differs from the record: ``actual`` is ``None`` when the tag is missing."""

    key: str
    expected: str
    actual: str | None

    @property
    def missing(self) -> bool:
        return self.actual is None

    def to_dict(self) -> dict[str, Any]:
        return {"tag_key": self.key, "expected_tag_value": self.expected, "actual_tag_value": self.actual,
                "problem": "missing" if self.missing else "wrong value"}


@dataclass(frozen=True)
class Expectation:
    """What one lifecycle's AMI copies should carry."""

    lifecycle_id: str
    lifecycle_type: LifecycleType
    copies: tuple[AmiCopy, ...]
    tags: Mapping[str, str]


def expectation(record: Record) -> Expectation | None:
    """The phase whose AMI is current (the patch, if the lifecycle has a patched AMI, else the creation),
    its AMI copies and their expected tags; ``None`` while the lifecycle has no AMI yet."""
    lifecycle_id = str(record.get("lifecycle_id") or "")
    candidates = (LifecycleType.AMI_PATCH, LifecycleType.AMI_CREATION) if current_patch(record) else \
        (LifecycleType.AMI_CREATION,)
    for lifecycle_type in candidates:
        entry = phase_ami_entry(record, lifecycle_type)
        copies = tuple(AmiCopy.of(ami) for ami in ami_details(entry) if ami.get("image") and ami.get("region"))
        if copies:
            return Expectation(lifecycle_id, lifecycle_type, copies, expected_tags(record, lifecycle_type))
    return None


def tag_drift(expected: Mapping[str, str], actual: Mapping[str, str]) -> tuple[TagDrift, ...]:
    """Every expected tag that is absent or holds another value, in key order."""
    return tuple(TagDrift(key, value, actual.get(key)) for key, value in sorted(expected.items())
                 if actual.get(key) != value)


@dataclass(frozen=True)
class CopyOutcome:
    """What the reconciler found and did on one copy."""

    lifecycle_id: str
    copy: AmiCopy
    drift: tuple[TagDrift, ...] = ()
    repaired: bool = False
    # Why the copy could not be checked (not found, account out of reach, an AWS error); empty when it was.
    problem: str = ""

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {"lifecycle_id": self.lifecycle_id, **self.copy.to_dict()}
        if self.problem:
            document["problem"] = self.problem
        else:
            document["repaired"] = self.repaired
            document["tags"] = [drift.to_dict() for drift in self.drift]
        return document


@dataclass
class ReconciliationReport:
    """Counts and details of one run, as published to the operations topic."""

    stack_tag: str
    started: str
    lifecycles: int = 0
    lifecycles_without_ami: int = 0
    outcomes: list[CopyOutcome] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)

    def add(self, outcome: CopyOutcome) -> None:
        self.outcomes.append(outcome)

    @property
    def drifted(self) -> list[CopyOutcome]:
        return [outcome for outcome in self.outcomes if outcome.drift]

    @property
    def unchecked(self) -> list[CopyOutcome]:
        return [outcome for outcome in self.outcomes if outcome.problem]

    @property
    def clean(self) -> bool:
        return not self.drifted and not self.unchecked and not self.failures

    def subject(self) -> str:
        if self.clean:
            return f"AMI tag reconciliation ({self.stack_tag}): every tag matches"
        return (f"AMI tag reconciliation ({self.stack_tag}): {len(self.drifted)} AMI copies repaired, "
                f"{len(self.unchecked) + len(self.failures)} not checked")

    def to_dict(self) -> dict[str, Any]:
        drifted = self.drifted
        return {
            "report": "ami-tag-reconciliation",
            "stack_tag": self.stack_tag,
            "started": self.started,
            "counts": {
                "lifecycles": self.lifecycles,
                "lifecycles_without_ami": self.lifecycles_without_ami,
                "ami_copies_checked": len(self.outcomes) - len(self.unchecked),
                "ami_copies_drifted": len(drifted),
                "ami_copies_repaired": sum(1 for outcome in drifted if outcome.repaired),
                "tags_missing": sum(1 for o in drifted for d in o.drift if d.missing),
                "tags_wrong": sum(1 for o in drifted for d in o.drift if not d.missing),
                "ami_copies_not_checked": len(self.unchecked),
                "lifecycles_failed": len(self.failures),
            },
            "changed": [outcome.to_dict() for outcome in drifted],
            "not_checked": [outcome.to_dict() for outcome in self.unchecked],
            "failed": list(self.failures),
        }
