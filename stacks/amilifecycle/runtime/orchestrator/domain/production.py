"""Approval for production: the AMI backup, the production channel and the event's result.

Three pure pieces, each fed by an adapter:

* the backup: the S3 object tags of the store-image task and what a
  ``DescribeStoreImageTasks`` entry means (:func:`backup_outcome`: still
  running, completed, or failed with EC2's reason);
* the production channel of a stack tag and product: every approved release
  is kept in the channel's history, and the channel points at the release
  with the highest semantic version that is not revoked
  (:func:`with_release`, :func:`channel_head`). A late approval of an older
  version is recorded but never becomes the head, so the channel never goes
  back to an older version, whatever order approvals arrive in; a revoked
  head hands over to the next highest release;
* the MARK_FOR_PRODUCTION result the receiver records
  (:func:`production_result`).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Mapping, Sequence

from .errors import ValidationError, describe_value
from .fields import lifecycle_id as parse_lifecycle_id
from .results import EventResult
from .timestamps import iso_utc
from .versioning import compare_versions, parse_version
from .vocabulary import ApprovalStatus, EventName, Status, parse_event_name

BACKUP_TASK = "AMI approval for production: backup to S3 and production channel"
CHANNEL_ROOT = "/ami-lifecycle"
CHANNEL_LEAF = "production"
RELEASE_LEAF = "production-release"
# SSM parameter names allow letters, digits and . - _ (and / between levels).
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
MAX_REASON_LENGTH = 1000
APPROVAL_EVENTS = (EventName.MARK_FOR_PRODUCTION_CREATE, EventName.MARK_FOR_PRODUCTION_PATCH)


# ------------------------------------------------------------------ the backup

class BackupState:
    """``StoreTaskState`` values of ``DescribeStoreImageTasks``."""

    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"


def backup_object_tags(*, commit_ref: str, product_ver: str, product_name: str) -> list[dict[str, str]]:
    """The tags of the backup object (``S3ObjectTags``): which commit and product it is. Empty values are
    left out (S3 allows empty tag values, but they say nothing)."""
    facts = {"CommitRef": commit_ref, "ProductVer": product_ver, "ProductName": product_name}
    return [{"Key": key, "Value": str(value)[:256]} for key, value in facts.items() if value]


def backup_outcome(task: Mapping[str, Any] | None, *, ami_id: str) -> dict[str, Any]:
    """What one store-image task entry says: ``{ami_id, state, done, failed, bucket, key, progress, reason}``.

    ``state`` is upper-cased (``COMPLETED``, ``FAILED``, ``IN_PROGRESS``) for
    the record; a missing entry (EC2 lists tasks for a while after they end)
    is still in progress: the next check sees it.
    """
    task = task or {}
    raw = str(task.get("StoreTaskState") or BackupState.IN_PROGRESS)
    state = {"InProgress": "IN_PROGRESS", "Completed": "COMPLETED", "Failed": "FAILED"}.get(raw, raw.upper())
    outcome: dict[str, Any] = {
        "ami_id": ami_id, "state": state, "done": state == "COMPLETED", "failed": state == "FAILED",
        "bucket": task.get("Bucket"), "key": task.get("S3objectKey"),
        "progress": int(task.get("ProgressPercentage") or 0),
    }
    if outcome["failed"]:
        reason = str(task.get("StoreTaskFailureReason") or "EC2 gave no reason")
        outcome["reason"] = f"the backup of {ami_id} to S3 failed: {reason}"[:MAX_REASON_LENGTH]
    return {key: value for key, value in outcome.items() if value is not None}


# --------------------------------------------------------- the production channel

def _name_part(value: Any, what: str) -> str:
    part = _NAME_UNSAFE.sub("-", str(value or "")).strip("-.")
    if not part:
        raise ValidationError(f"{what}: expected a name with letters or digits for the production channel, "
                              f"got {describe_value(value)}", field=what)
    return part


def channel_id(stack_tag: str, product_name: str) -> str:
    """``<stack_tag>/<product>``: one production channel per stack tag and product."""
    return f"{_name_part(stack_tag, 'stack_tag')}/{_name_part(product_name, 'product_name')}"


def channel_parameter(stack_tag: str, product_name: str) -> str:
    """The SSM parameter consumers resolve (``resolve:ssm:`` in a launch template): the AMI id."""
    return f"{CHANNEL_ROOT}/{channel_id(stack_tag, product_name)}/{CHANNEL_LEAF}"


def release_parameter(stack_tag: str, product_name: str) -> str:
    """The sibling parameter that says which release the channel points at (JSON)."""
    return f"{CHANNEL_ROOT}/{channel_id(stack_tag, product_name)}/{RELEASE_LEAF}"


@dataclass(frozen=True)
class Release:
    """One approved AMI of a channel."""

    ami_id: str
    region: str
    semver: str
    lifecycle_id: str
    event: str
    approved_at: str
    revoked: Mapping[str, Any] | None = None

    @classmethod
    def from_dict(cls, item: Mapping[str, Any]) -> "Release":
        return cls(ami_id=str(item["ami_id"]), region=str(item.get("region") or ""), semver=str(item["semver"]),
                   lifecycle_id=str(item.get("lifecycle_id") or ""), event=str(item.get("event") or ""),
                   approved_at=str(item.get("approved_at") or ""),
                   revoked=copy.deepcopy(dict(item["revoked"])) if item.get("revoked") else None)

    def to_dict(self) -> dict[str, Any]:
        item = {"ami_id": self.ami_id, "region": self.region, "semver": self.semver,
                "lifecycle_id": self.lifecycle_id, "event": self.event, "approved_at": self.approved_at}
        if self.revoked:
            item["revoked"] = copy.deepcopy(dict(self.revoked))
        return item

    def describe(self) -> str:
        """The channel parameter's description: which version and lifecycle the AMI id is."""
        return f"v{self.semver} approved {self.approved_at} (lifecycle {self.lifecycle_id}, {self.event})"


def release_for(*, ami: Mapping[str, Any], lifecycle_id: Any, event: Any, now: datetime) -> Release:
    """The release an approval publishes (``ami``: ``{id, region, semver}`` of the execution input)."""
    ami_id = str(ami.get("id") or "")
    if not ami_id.startswith("ami-"):
        raise ValidationError(f"ami.id: expected an AMI id like ami-0123456789abcdef0, got {describe_value(ami_id)}",
                              field="ami.id")
    return Release(ami_id=ami_id, region=str(ami.get("region") or ""),
                   semver=str(parse_version(ami.get("semver"), field="ami.semver")),
                   lifecycle_id=parse_lifecycle_id(lifecycle_id),
                   event=str(parse_event_name(event, field="event", allowed=APPROVAL_EVENTS)),
                   approved_at=iso_utc(now))


@dataclass(frozen=True)
class ChannelState:
    """A channel's history as stored (``revision`` guards the conditional write)."""

    channel: str
    releases: tuple[Release, ...] = ()
    revision: int = 0

    @classmethod
    def from_item(cls, channel: str, item: Mapping[str, Any] | None) -> "ChannelState":
        if not item:
            return cls(channel=channel)
        return cls(channel=channel, releases=tuple(Release.from_dict(r) for r in item.get("releases") or []),
                   revision=int(item.get("revision") or 0))

    def to_item(self) -> dict[str, Any]:
        head = channel_head(self.releases)
        item: dict[str, Any] = {"channel": self.channel, "releases": [r.to_dict() for r in self.releases],
                                "revision": self.revision}
        if head is not None:
            item["head"] = head.to_dict()
        return item

    @property
    def head(self) -> Release | None:
        return channel_head(self.releases)


def channel_head(releases: Sequence[Release]) -> Release | None:
    """The release the channel points at: the highest semantic version not revoked (the latest
    approval among equal versions)."""
    head: Release | None = None
    for release in releases:
        if release.revoked:
            continue
        if head is None or compare_versions(release.semver, head.semver) >= 0:
            head = release
    return head


def with_release(state: ChannelState, release: Release) -> ChannelState:
    """``state`` with ``release`` in its history (an AMI already listed keeps its first approval)."""
    if any(r.ami_id == release.ami_id and r.region == release.region for r in state.releases):
        return state
    return ChannelState(channel=state.channel, releases=state.releases + (release,), revision=state.revision + 1)


def with_revocation(state: ChannelState, *, ami_id: str, region: str, reason: str, now: datetime) -> ChannelState:
    """``state`` with the release of ``ami_id`` revoked (kept in the history, never the head again); the
    head falls back to the highest release left. An AMI not in the channel, or revoked already, changes
    nothing."""
    releases = list(state.releases)
    for index, release in enumerate(releases):
        if release.ami_id == ami_id and (not region or release.region == region) and not release.revoked:
            releases[index] = replace(release, revoked={"reason": reason, "revoked_at": iso_utc(now)})
            return ChannelState(channel=state.channel, releases=tuple(releases), revision=state.revision + 1)
    return state


@dataclass(frozen=True)
class ChannelOutcome:
    """What publishing a release did to its channel."""

    parameter: str
    release: Release
    head: Release | None
    history: int = 0

    @property
    def is_head(self) -> bool:
        return self.head is not None and self.head.ami_id == self.release.ami_id

    def to_dict(self) -> dict[str, Any]:
        view: dict[str, Any] = {"parameter": self.parameter, "published": self.is_head,
                                "channel_ami_id": self.head.ami_id if self.head else None,
                                "channel_semver": self.head.semver if self.head else None,
                                "releases": self.history}
        if not self.is_head and self.head is not None:
            view["note"] = (f"v{self.release.semver} is recorded in the channel's history; the channel keeps "
                            f"v{self.head.semver} ({self.head.ami_id}), the newer approved version")
        return view


# ------------------------------------------------------------------ the result

def production_result(*, lifecycle_id: Any, event: Any, backup: Mapping[str, Any],
                      channel: Mapping[str, Any], approval_properties: Mapping[str, Any] | None,
                      now: datetime) -> EventResult:
    """The COMPLETED MARK_FOR_PRODUCTION result: the verdict, the backup's location and the channel."""
    name = parse_event_name(event, field="event", allowed=APPROVAL_EVENTS)
    approved = str(ApprovalStatus.APPROVED)
    properties = {
        **dict(approval_properties or {}),
        "task": BACKUP_TASK,
        "approval_status": approved,
        "s3_bucket": backup.get("bucket"),
        "s3_object_key": backup.get("key"),
        "ami_backup_state": backup.get("state"),
        "ami_backup_ami_id": backup.get("ami_id"),
        "production_channel": dict(channel),
    }
    return EventResult(lifecycle_id=parse_lifecycle_id(lifecycle_id), name=name, status=Status.COMPLETED,
                       status_date=iso_utc(now),
                       properties={k: v for k, v in properties.items() if v is not None},
                       attributes={"approval_status": approved})
