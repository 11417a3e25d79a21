"""Revoking an approved AMI: what may be revoked, the record of it, and what it means downstream.

An AMI approved for production (the built AMI after MARK_FOR_PRODUCTION_CREATE,
a patched AMI after its patch's MARK_FOR_PRODUCTION_PATCH) may be revoked
once, with a reason. The revocation is kept in the record (``revocations``);
the AMI is tagged and deprecated, dropped from the production channel (the
channel falls back to the previous approved release) and never selected
again. A patched AMI is built from its ancestors, so revoking an ancestor is
reported on every AMI patched from it (:func:`revocation_report`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from functools import cmp_to_key
from typing import Any, Mapping

from . import fields
from .errors import Conflict, ValidationError, describe_value
from .history import Record, ami_details, current_patch, historical_patches, phase_ami_entry
from .lookup import AMI_ID_PATTERN
from .tags import tag_key, tag_value
from .timestamps import iso_utc
from .versioning import compare_versions
from .vocabulary import EventName, LifecycleType, Status

REVOCATIONS_FIELD = "revocations"
MAX_REASON_LENGTH = 1024
_REVOKE_FIELDS = ("api_key", "lifecycle_id", "stack_tag", "reason", "ami_id")


@dataclass(frozen=True)
class RevokeRequest:
    """POST /lifecycles/{id}/revoke: which approved AMI (default: the newest) and why."""

    lifecycle_id: str
    stack_tag: str
    reason: str
    ami_id: str | None


def parse_revoke_request(body: Any, path_lifecycle_id: Any) -> RevokeRequest:
    body = fields.require_object(body)
    fields.reject_unknown_fields(body, _REVOKE_FIELDS)
    lifecycle_id = fields.lifecycle_id(path_lifecycle_id, field="lifecycle-id")
    if body.get("lifecycle_id") is not None and fields.lifecycle_id(body.get("lifecycle_id")) != lifecycle_id:
        raise ValidationError(f"lifecycle_id: the body names {body.get('lifecycle_id')} but the path names "
                              f"{lifecycle_id}; send the same id (or leave lifecycle_id out of the body)",
                              field="lifecycle_id")
    reason = fields.text(body, "reason", max_length=MAX_REASON_LENGTH,
                         expected="why the AMI must no longer be used (for instance a CVE or incident id)")
    ami_id = body.get("ami_id")
    if ami_id is not None and (not isinstance(ami_id, str) or not AMI_ID_PATTERN.match(ami_id)):
        raise ValidationError(f"ami_id: expected an AMI id like ami-0123456789abcdef0, got {describe_value(ami_id)}",
                              field="ami_id")
    return RevokeRequest(lifecycle_id=lifecycle_id, stack_tag=fields.stack_tag(body), reason=str(reason),
                         ami_id=ami_id)


def _approved(cycle_events: list[Mapping[str, Any]], approval: EventName) -> bool:
    return any(e.get("name") == approval and e.get("status") == Status.COMPLETED for e in cycle_events)


def ami_chain(record: Record) -> list[dict[str, Any]]:
    """The lifecycle's AMIs, oldest first: the built AMI, then each completed patch's AMI (each patched
    from the one before). Each item: ``{ami, event, approved}`` (``event``: the approval that applies)."""
    chain: list[dict[str, Any]] = []
    built = phase_ami_entry(record, LifecycleType.AMI_CREATION)
    if built and ami_details(built):
        creation = list((record.get("outputs_ami_creation") or {}).get("events") or [])
        chain.append({"ami": ami_details(built)[0], "event": EventName.MARK_FOR_PRODUCTION_CREATE,
                      "approved": _approved(creation, EventName.MARK_FOR_PRODUCTION_CREATE)})
    current = current_patch(record)
    for cycle in historical_patches(record) + ([current] if current else []):
        events = list(cycle.get("events") or [])
        patch = next((e for e in events if e.get("name") == EventName.PATCH_AMI
                      and e.get("status") == Status.COMPLETED), None)
        if patch and ami_details(patch):
            chain.append({"ami": ami_details(patch)[0], "event": EventName.MARK_FOR_PRODUCTION_PATCH,
                          "approved": _approved(events, EventName.MARK_FOR_PRODUCTION_PATCH)})
    return chain


def patch_base(record: Record) -> dict[str, Any] | None:
    """The AMI a new patch starts from: the newest AMI of the chain approved for production and not
    revoked (``ami_details`` entry), or ``None`` when there is none."""
    for item in reversed(ami_chain(record)):
        if item["approved"] and revocation_of(record, str(item["ami"].get("image"))) is None:
            return dict(item["ami"])
    return None


def revocations(record: Record) -> list[dict[str, Any]]:
    return [dict(item) for item in record.get(REVOCATIONS_FIELD) or []]


def revocation_of(record: Record, ami_id: str) -> dict[str, Any] | None:
    return next((item for item in revocations(record) if item.get("ami_id") == ami_id), None)


def revocation_target(record: Record, ami_id: str | None) -> dict[str, Any]:
    """The chain item to revoke: ``ami_id``'s, or the newest approved AMI not revoked yet."""
    approved = [item for item in ami_chain(record) if item["approved"]]
    if not approved:
        raise Conflict(f"lifecycle {record.get('lifecycle_id')} has no AMI approved for production; only an "
                       f"approved AMI can be revoked", field="lifecycle_id")
    if ami_id is None:
        open_ = [item for item in approved if revocation_of(record, str(item["ami"].get("image"))) is None]
        if not open_:
            return approved[-1]
        return max(open_, key=cmp_to_key(lambda a, b: compare_versions(_semver(a), _semver(b))))
    for item in approved:
        if item["ami"].get("image") == ami_id:
            return item
    listed = ", ".join(str(item["ami"].get("image")) for item in approved)
    raise Conflict(f"{ami_id} is not an approved AMI of lifecycle {record.get('lifecycle_id')}; approved: {listed}",
                   field="ami_id")


def _semver(item: Mapping[str, Any]) -> str:
    return str(item["ami"].get("ami_semver") or "0.0.0")


def record_revocation(record: Record, target: Mapping[str, Any], reason: str, now: datetime) -> dict[str, Any]:
    """The record with ``target``'s revocation kept; an AMI already revoked keeps its first revocation."""
    ami = target["ami"]
    updated = copy.deepcopy(dict(record))
    if revocation_of(record, str(ami.get("image"))) is not None:
        return updated
    entry = {"ami_id": str(ami.get("image")), "region": str(ami.get("region") or ""),
             "ami_semver": str(ami.get("ami_semver") or ""), "event": str(target["event"]),
             "reason": reason, "revoked_at": iso_utc(now)}
    updated[REVOCATIONS_FIELD] = revocations(record) + [entry]
    updated["last_modified"] = iso_utc(now)
    return updated


def revocation_report(record: Record) -> list[dict[str, Any]]:
    """Every revocation with the AMIs patched from the revoked one (``descendants``), for the status."""
    chain = [str(item["ami"].get("image")) for item in ami_chain(record)]
    report = []
    for item in revocations(record):
        index = chain.index(item["ami_id"]) if item["ami_id"] in chain else len(chain)
        report.append({**item, "descendants": chain[index + 1:]})
    return report


def revoked_ancestors(record: Record, ami_id: str) -> list[dict[str, Any]]:
    """The revocations of ``ami_id``'s ancestors (the AMIs it was patched from)."""
    return [item for item in revocation_report(record) if ami_id in item["descendants"]]


def with_revocation_report(view: dict[str, Any], record: Record) -> dict[str, Any]:
    """A status view with ``revocations`` reported: each with its descendants, and on each AMI."""
    report = revocation_report(record)
    if not report:
        return view
    view[REVOCATIONS_FIELD] = report
    view["revoked_ancestry"] = {ami: [r["ami_id"] for r in revoked_ancestors(record, ami)]
                                for r in report for ami in r["descendants"]}
    return view


def revocation_tags(reason: str, now: datetime, *, ancestor: str | None = None) -> dict[str, str]:
    """The tags a revoked AMI (or, with ``ancestor``, an AMI patched from a revoked one) gets."""
    if ancestor is not None:
        return {tag_key("ANCESTOR_REVOKED"): tag_value(f"{ancestor} revoked {iso_utc(now)}: {reason}")}
    return {tag_key("REVOKED"): iso_utc(now), tag_key("REVOKED_REASON"): tag_value(reason)}
