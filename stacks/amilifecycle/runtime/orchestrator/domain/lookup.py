"""The AMI lookup table: one entry per AMI, with the standing it has earned.

An AMI's *standing* (``lifecycle_score``) is the score of the furthest event
it passed (vocabulary table: build/patch 1 ... approval 6). Only a
successful result raises it: COMPLETED, and for the QA response also
CERTIFIED, for an approval also APPROVED. A FAILED result (QA refused,
approval refused) never raises it, so a refused AMI is never selectable as
"QA certified" or "production approved". Neither does any result lower a
standing already earned: results may arrive out of order, and a later
refusal does not undo a test that passed. The entry still records the
latest event and its status (``last_event``, ``last_event_status``) so the
refusal is visible.

A revoked AMI's entry is flagged ``revoked`` with standing 0
(:func:`revoked_lookup_entry`): it meets no selection, and no later result
raises it again.

Entries are keyed by region and AMI id (``lookup_id``), so writing the same
entry twice is harmless, and carry ``semver_sort_key`` for the
``stack_tag`` + semver index that selection queries.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Mapping

from .errors import ValidationError, describe_value
from .history import Record, ami_details, phase_ami_entry
from .results import EventResult
from .timestamps import iso_utc
from .versioning import semver_sort_key
from .vocabulary import ApprovalStatus, CertificationStatus, EventName, LifecycleType, Status, score_of

AMI_ID_PATTERN = re.compile(r"^ami-[0-9a-f]{8,17}$")
REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
LOOKUP_ID_SEPARATOR = "#"

# The verdict a result must carry, besides COMPLETED, to raise standing.
_REQUIRED_OUTCOME: Mapping[EventName, str] = {
    EventName.QA_CERTIFICATION_RESPONSE: str(CertificationStatus.CERTIFIED),
    EventName.MARK_FOR_PRODUCTION_CREATE: str(ApprovalStatus.APPROVED),
    EventName.MARK_FOR_PRODUCTION_PATCH: str(ApprovalStatus.APPROVED),
}


def lookup_id(region: str, ami_id: str) -> str:
    """The entry key of an AMI: ``<region>#<ami id>`` (AMI ids are unique within a region)."""
    if not isinstance(region, str) or not REGION_PATTERN.match(region):
        raise ValidationError(f"aws_region: expected an AWS region like eu-west-1, got {describe_value(region)}",
                              field="aws_region")
    if not isinstance(ami_id, str) or not AMI_ID_PATTERN.match(ami_id):
        raise ValidationError(f"ami_id: expected an AMI id like ami-0123456789abcdef0, got {describe_value(ami_id)}",
                              field="ami_id")
    return f"{region}{LOOKUP_ID_SEPARATOR}{ami_id}"


def score_for(event: EventName, status: Status, outcome: str | None = None) -> int | None:
    """The standing a result earns, or ``None`` when it must not raise standing.

    ``outcome`` is the verdict of a QA response (certification status) or an
    approval (approval status); other events ignore it.
    """
    if Status(status) is not Status.COMPLETED:
        return None
    required = _REQUIRED_OUTCOME.get(EventName(event))
    if required is not None and (outcome or "").upper() != required:
        return None
    return score_of(event)


def outcome_of(result: EventResult) -> str | None:
    """The verdict a QA response or approval result carries (top level first, then properties)."""
    for key in ("certification_status", "approval_status"):
        value = result.attributes.get(key) or result.properties.get(key)
        if isinstance(value, str):
            return value
    return None


def result_score(result: EventResult) -> int | None:
    """:func:`score_for` applied to a received result."""
    return score_for(result.name, result.status, outcome_of(result))


def amis_for_result(record: Record, result: EventResult) -> list[dict[str, Any]]:
    """The AMIs a result is about: the built AMI for creation events, the current patched AMI for patch events.

    Read from the record *after* the result was merged, so a PATCH_AMI
    result names the AMIs it just produced.
    """
    return ami_details(phase_ami_entry(record, result.lifecycle_type))


def _commit_ref(record: Record, lifecycle_type: LifecycleType) -> str | None:
    """Creation AMIs carry the lifecycle's commit; patched AMIs the commit of their patch."""
    if lifecycle_type is LifecycleType.AMI_PATCH:
        patch = phase_ami_entry(record, LifecycleType.AMI_PATCH) or {}
        return patch.get("commit_ref") or (record.get("inputs_ami_patch") or {}).get("commit_ref") \
            or record.get("commit_ref")
    return record.get("commit_ref")


def updated_lookup_entry(existing: Mapping[str, Any] | None, *, record: Record, ami: Mapping[str, Any],
                         result: EventResult, now: datetime) -> dict[str, Any] | None:
    """The lookup entry of ``ami`` after ``result``, or ``None`` when there is nothing to write.

    A new entry is created only by a result that earns standing; an
    unsuccessful result updates ``last_event``/``last_event_status`` of an
    existing entry and leaves its standing as it was.
    """
    score = result_score(result)
    if existing is None and score is None:
        return None
    lifecycle_type = result.lifecycle_type
    region, ami_id = str(ami.get("region")), str(ami.get("image"))
    entry: dict[str, Any] = dict(existing or {})
    entry.update(
        lookup_id=lookup_id(region, ami_id),
        stack_tag=record["stack_tag"],
        ami_id=ami_id,
        aws_region=region,
        lifecycle_id=record["lifecycle_id"],
        lifecycle_type=str(lifecycle_type),
        product_ver=record.get("product_ver"),
        product_name=record.get("product_name"),
        commit_ref=_commit_ref(record, lifecycle_type),
        last_event=str(result.name),
        last_event_status=str(result.status),
        last_modified=iso_utc(now),
    )
    if ami.get("name"):
        entry["ami_name"] = str(ami["name"])
    if ami.get("ami_semver"):
        entry["ami_semver"] = str(ami["ami_semver"])
        entry["semver_sort_key"] = semver_sort_key(ami["ami_semver"])
    standing = int(existing["lifecycle_score"]) if existing and "lifecycle_score" in existing else None
    if existing and existing.get("revoked"):
        score = None  # a revoked AMI never earns standing again
    if score is not None and (standing is None or score > standing):
        entry["lifecycle_score"] = score
        entry["lifecycle_event"] = str(result.name)
    elif standing is not None:
        entry["lifecycle_score"] = standing
    return entry



def revoked_lookup_entry(existing: Mapping[str, Any] | None, *, reason: str, now: datetime) -> dict[str, Any] | None:
    """The entry of a revoked AMI: flagged ``revoked`` (selection never returns it), its standing kept
    as history. ``None`` when there is no entry, or it is flagged already."""
    if existing is None or existing.get("revoked"):
        return None
    entry = dict(existing)
    # Standing 0 meets no --lifecycle_event, also for clients that read only the legacy index's attributes;
    # the standing it had is kept with the revocation.
    entry["revoked"] = {"reason": reason, "revoked_at": iso_utc(now),
                        "lifecycle_score": int(existing.get("lifecycle_score") or 0)}
    entry["lifecycle_score"] = 0
    entry["last_modified"] = iso_utc(now)
    return entry
