"""Exporting an AMI to a VMDK disk image: where it goes, how long to wait, what it produced.

EC2's VM Import/Export (``ExportImage``) copies an available AMI into an S3
bucket as ``<prefix><export task id>.vmdk``; ``DescribeExportImageTasks``
shows the task ``active`` (with a progress percentage), then ``completed``,
or ``deleting``/``deleted`` with AWS's ``StatusMessage`` when it failed or
was cancelled. One AMI has at most one active export at a time.

Both users of an export (the QA certification request and the standalone
export pipeline) share these rules; nothing here calls AWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from .errors import ValidationError, describe_value
from .timestamps import iso_utc

DISK_FORMAT = "VMDK"
EXPORTS_ROOT = "exports"
ACTIVE_STATES = ("active", "deleting")
FAILED_STATES = ("deleting", "deleted")
COMPLETED = "completed"
# Waiting for an export: a first look soon, then less often as it goes on (exports take tens of minutes).
FIRST_CHECK_SECONDS = 60
MAX_CHECK_SECONDS = 600
# Waiting for an AMI to become available or for another export of it to end.
IMAGE_CHECK_SECONDS = 180


class VmdkExportFailed(Exception):
    """The AMI cannot be exported (missing, failed); the message says why."""


class VmdkExportTimedOut(Exception):
    """The export is still running when its waiting budget is spent (it is cancelled)."""


def export_prefix(scope: str, ami_id: str) -> str:
    """``exports/<scope>/<ami>/``: each lifecycle (or pipeline run) exports each AMI under its own prefix."""
    for name, value in (("scope", scope), ("ami_id", ami_id)):
        if not isinstance(value, str) or not value.strip() or "/" in value:
            raise ValidationError(f"{name}: expected a non-empty name without '/', got {describe_value(value)}",
                                  field=name)
    return f"{EXPORTS_ROOT}/{scope}/{ami_id}/"


def export_object_key(prefix: str, task_id: str, disk_format: str = DISK_FORMAT) -> str:
    """Where ExportImage writes the disk: ``<prefix><task id>.<format>``."""
    return f"{prefix}{task_id}.{disk_format.lower()}"


def next_check_seconds(checks_so_far: int) -> int:
    """The wait before the next look at an export: 60 s, doubling, at most 10 minutes.

    An export of an 8 GiB AMI takes 20-60 minutes; this looks about ten
    times in an hour instead of hundreds, and never lets more than ten
    minutes pass unseen.
    """
    checks = max(0, int(checks_so_far))
    return min(MAX_CHECK_SECONDS, FIRST_CHECK_SECONDS * 2 ** min(checks, 10))


def waited_seconds(checks: int) -> int:
    """How long the waits before ``checks`` looks lasted together (simulated time on the local cloud)."""
    return sum(next_check_seconds(index) for index in range(max(0, int(checks))))


def check_budget(status: "ExportStatus", checks: int, max_wait_seconds: int) -> None:
    """An export still running after ``max_wait_seconds`` of waiting is given up (:class:`VmdkExportTimedOut`)."""
    waited = waited_seconds(checks)
    if not status.done and not status.failed and waited >= max_wait_seconds:
        progress = f", {status.progress}% done" if status.progress is not None else ""
        raise VmdkExportTimedOut(f"the export {status.task_id} is still {status.status}{progress} after {waited} s "
                                 f"of waiting (at most {max_wait_seconds} s); it was cancelled")


@dataclass(frozen=True)
class ImageReadiness:
    """Can the AMI be exported now?"""

    ami_id: str
    state: str
    active_exports: tuple[str, ...]

    @property
    def ready(self) -> bool:
        return self.state == "available" and not self.active_exports

    def to_dict(self) -> dict[str, Any]:
        return {"ami_id": self.ami_id, "state": self.state, "active_exports": list(self.active_exports),
                "ready": self.ready, "wait_seconds": IMAGE_CHECK_SECONDS}


def image_readiness(ami_id: str, image: Mapping[str, Any] | None, tasks: list[Mapping[str, Any]]) -> ImageReadiness:
    """``image`` (DescribeImages) and the AMI's export tasks; a missing or failed AMI is an error."""
    if image is None:
        raise VmdkExportFailed(f"{ami_id} does not exist (or is not visible to this account); nothing to export")
    state = str(image.get("State") or "unknown")
    if state in ("failed", "deregistered", "invalid", "error"):
        raise VmdkExportFailed(f"{ami_id} is {state}: {(image.get('StateReason') or {}).get('Message') or 'no reason given'}")
    active = tuple(str(t.get("ExportImageTaskId")) for t in tasks
                   if t.get("ImageId") == ami_id and t.get("Status") in ACTIVE_STATES)
    return ImageReadiness(ami_id=ami_id, state=state, active_exports=active)


@dataclass(frozen=True)
class ExportStatus:
    """One look at an export task."""

    task_id: str
    status: str
    progress: int | None
    message: str | None
    bucket: str
    prefix: str

    @property
    def done(self) -> bool:
        return self.status == COMPLETED

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATES

    def to_dict(self, checks_so_far: int) -> dict[str, Any]:
        return {"task_id": self.task_id, "status": self.status, "progress": self.progress,
                "status_message": self.message, "done": self.done, "failed": self.failed,
                "bucket": self.bucket, "prefix": self.prefix, "checks": checks_so_far + 1,
                "wait_seconds": next_check_seconds(checks_so_far)}


def export_status(task: Mapping[str, Any]) -> ExportStatus:
    """A DescribeExportImageTasks entry as the steps read it."""
    location = task.get("S3ExportLocation") or {}
    progress = task.get("Progress")
    return ExportStatus(task_id=str(task.get("ExportImageTaskId")), status=str(task.get("Status") or "unknown"),
                        progress=int(progress) if str(progress or "").isdigit() else None,
                        message=task.get("StatusMessage") or None, bucket=str(location.get("S3Bucket") or ""),
                        prefix=str(location.get("S3Prefix") or ""))


def failure_message(status: Mapping[str, Any]) -> str:
    """What the owner reads when an export ended without a disk: AWS's own words."""
    return (f"the export {status.get('task_id')} ended {status.get('status')}: "
            f"{status.get('status_message') or 'EC2 gave no status message'}")


@dataclass(frozen=True)
class ExportedImage:
    """A finished export: where the disk is, and the link to download it."""

    ami_id: str
    task_id: str
    bucket: str
    prefix: str
    key: str
    link_expiry_secs: int
    link_expires_at: str

    @property
    def path(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def file_name(self) -> str:
        return self.key.rsplit("/", 1)[-1]


def lifetime_text(seconds: int) -> str:
    """``604800`` -> ``7 days``, ``86400`` -> ``1 day``, ``5400`` -> ``1.5 hours``, ``90`` -> ``90 seconds``."""
    for unit, size in (("day", 86400), ("hour", 3600)):
        if seconds >= size:
            count = seconds / size
            return f"{count:g} {unit}" + ("" if count == 1 else "s")
    return f"{seconds} seconds"


def exported_image(*, ami_id: str, task_id: str, bucket: str, prefix: str, expiry_secs: int,
                   now: datetime) -> ExportedImage:
    """The export of ``ami_id`` by ``task_id``, with a link valid ``expiry_secs`` from ``now``."""
    return ExportedImage(ami_id=ami_id, task_id=task_id, bucket=bucket, prefix=prefix,
                         key=export_object_key(prefix, task_id), link_expiry_secs=int(expiry_secs),
                         link_expires_at=iso_utc(now + timedelta(seconds=int(expiry_secs))))
