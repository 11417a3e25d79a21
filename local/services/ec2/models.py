"""EC2 operations moto lacks: image export tasks, store-image tasks (AMI
backups to S3) and image deprecation.

Tasks run on timers over ``clock.scaled(config.export_task_seconds)``; their
progress is computed from elapsed time when described, and at the end the
task writes its object to the target bucket in moto's S3. A fault on
``ec2``/``ExportImage`` or ``ec2``/``CreateStoreImageTask`` at creation
decides the task's course: ``fail`` ends it failed with the fault's message,
``delay`` adds the fault's seconds, ``hang`` keeps it in progress.
An export that fails or is cancelled (``CancelExportTask``) ends ``deleted``
with a ``StatusMessage``, as EC2 shows it: export image tasks have no
``failed`` state.

Deprecation is written onto moto's own image object
(``Ami.deprecation_time``), which moto's ``DescribeImages`` serializer
renders as ``DeprecationTime``; so describe_images shows it.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from moto.ec2.models import ec2_backends
from moto.iam.models import iam_backends
from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends

from local import clock, faults
from local.config import load_config

from . import artifacts
from .exceptions import (
    IncorrectState,
    InvalidAMIIDMalformed,
    InvalidAMIIDNotFound,
    InvalidExportImageTaskIdNotFound,
    InvalidExportTaskIdNotFound,
    InvalidParameter,
    InvalidParameterValue,
)

log = logging.getLogger(__name__)

lock = threading.RLock()
DISK_FORMATS = ("VMDK", "RAW", "VHD")
DEFAULT_ROLE = "vmimport"
# How EC2 names an export image task's state (DescribeExportImageTasks ``Status``).
EXPORT_STATUS = {"active": "active", "completed": "completed", "failed": "deleted", "cancelled": "deleted"}
CANCELLED_MESSAGE = "The export was cancelled (CancelExportTask)"


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Task:
    """An export or store task; ``started``/``due`` are wall-clock seconds."""

    kind: str  # "export" | "store"
    task_id: str
    account_id: str
    region: str
    image_id: str
    bucket: str
    key: str
    started: float
    due: float | None  # None: never completes (hang)
    fail_reason: str | None = None
    state: str = "active"  # active | completed | failed | cancelled
    params: dict[str, Any] = field(default_factory=dict)

    def progress(self, now: float) -> int:
        if self.state != "active":
            return 100 if self.state == "completed" else 0
        if self.due is None:
            return 10
        span = max(self.due - self.started, 1e-9)
        return max(1, min(99, int(100 * (now - self.started) / span)))


@dataclass
class EC2ExtrasBackend:
    account_id: str
    region: str
    tasks: dict[str, Task] = field(default_factory=dict)


_backends: dict[tuple[str, str], EC2ExtrasBackend] = {}
_timers: dict[str, threading.Timer] = {}


def backend(account_id: str, region: str) -> EC2ExtrasBackend:
    with lock:
        return _backends.setdefault((account_id, region), EC2ExtrasBackend(account_id, region))


def moto_image(account_id: str, region: str, image_id: str) -> Any:
    if not image_id or not image_id.startswith("ami-"):
        raise InvalidAMIIDMalformed(image_id)
    image = ec2_backends[account_id][region].amis.get(image_id)
    if image is None:
        raise InvalidAMIIDNotFound(image_id)
    return image


def _require_bucket(account_id: str, bucket: str) -> None:
    try:
        s3_backends[account_id]["aws"].get_bucket(bucket)
    except MissingBucket:
        raise InvalidParameterValue(f"The S3 bucket '{bucket}' does not exist; create it first.") from None


def _plan(operation: str) -> tuple[float, float | None, str | None]:
    """(started, due, failure reason) for a task created now."""
    fault = faults.use("ec2", operation)
    extra = fault.seconds if fault is not None and fault.kind == "delay" else 0.0
    started = time.time()
    due = started + clock.scaled(load_config().export_task_seconds + extra)
    if fault is not None and fault.kind == "hang":
        return started, None, None
    if fault is not None and fault.kind == "fail":
        return started, due, f"{fault.message} (fault injected into {operation})"
    return started, due, None


# ---- export image ----------------------------------------------------
def export_image(account_id: str, region: str, params: dict[str, Any]) -> Task:
    image = moto_image(account_id, region, params.get("ImageId"))
    disk_format = (params.get("DiskImageFormat") or "").upper()
    if disk_format not in DISK_FORMATS:
        raise InvalidParameterValue(
            f"DiskImageFormat '{params.get('DiskImageFormat')}' is not valid: use one of {', '.join(DISK_FORMATS)}."
        )
    location = params.get("S3ExportLocation") or {}
    bucket, prefix = location.get("S3Bucket"), location.get("S3Prefix") or ""
    if not bucket:
        raise InvalidParameterValue("S3ExportLocation.S3Bucket is required: name the bucket to export to.")
    _require_bucket(account_id, bucket)
    role = params.get("RoleName") or DEFAULT_ROLE
    if not any(r.name == role for r in iam_backends[account_id]["aws"].get_roles()):
        raise InvalidParameter(
            f"The service role {role} provided does not exist or does not have sufficient permissions; "
            "create it (trusting vmie.amazonaws.com) or pass RoleName."
        )
    started, due, reason = _plan("ExportImage")
    task_id = "export-ami-" + secrets.token_hex(9)[:17]
    task = Task("export", task_id, account_id, region, image.id, bucket,
                f"{prefix}{task_id}.{disk_format.lower()}", started, due, reason,
                params={"DiskImageFormat": disk_format, "RoleName": role, "S3Prefix": prefix,
                        "Description": params.get("Description"), "Tags": _tags(params), "ImageName": image.name})
    _add(task)
    return task


def _tags(params: dict[str, Any]) -> list[dict[str, str]]:
    return [tag for spec in params.get("TagSpecifications") or [] for tag in spec.get("Tags") or []]


def export_task_view(task: Task, now: float) -> dict[str, Any]:
    """The task as ``ExportImage`` / ``DescribeExportImageTasks`` return it."""
    view: dict[str, Any] = {
        "ExportImageTaskId": task.task_id, "ImageId": task.image_id,
        "Description": task.params.get("Description"),
        "S3ExportLocation": {"S3Bucket": task.bucket, "S3Prefix": task.params["S3Prefix"]},
        "Status": EXPORT_STATUS[task.state], "Tags": task.params.get("Tags") or [],
        "DiskImageFormat": task.params["DiskImageFormat"], "RoleName": task.params["RoleName"],
    }
    if task.state == "active":
        progress = task.progress(now)
        view["Progress"] = str(progress)
        view["StatusMessage"] = "validating" if progress < 20 else "converting"
    elif task.state in ("failed", "cancelled"):
        view["StatusMessage"] = task.fail_reason
    return view


def describe_export_tasks(account_id: str, region: str, task_ids: list[str]) -> list[Task]:
    tasks = [t for t in backend(account_id, region).tasks.values() if t.kind == "export"]
    if task_ids:
        known = {t.task_id for t in tasks}
        missing = [task_id for task_id in task_ids if task_id not in known]
        if missing:
            raise InvalidExportImageTaskIdNotFound(missing[0])
        tasks = [t for t in tasks if t.task_id in task_ids]
    return sorted(tasks, key=lambda t: t.started)


def cancel_export_task(account_id: str, region: str, task_id: str) -> None:
    """Cancel an active export: it ends ``deleted``, and no object is left in the bucket."""
    task = backend(account_id, region).tasks.get(task_id or "")
    if task is None or task.kind != "export":
        raise InvalidExportTaskIdNotFound(task_id)
    if task.state != "active":
        raise IncorrectState(f"The export task {task_id} is not active (it is {EXPORT_STATUS[task.state]}); "
                             "only an active export can be cancelled.")
    timer = _timers.pop(task_id, None)
    if timer is not None:
        timer.cancel()
    task.state, task.fail_reason = "cancelled", CANCELLED_MESSAGE


# ---- store image (AMI backup) -----------------------------------------
def create_store_image_task(account_id: str, region: str, params: dict[str, Any]) -> Task:
    image = moto_image(account_id, region, params.get("ImageId"))
    bucket = params.get("Bucket")
    if not bucket:
        raise InvalidParameterValue("Bucket is required: name the bucket to store the AMI in.")
    _require_bucket(account_id, bucket)
    active = [t for t in backend(account_id, region).tasks.values()
              if t.kind == "store" and t.image_id == image.id and t.state == "active"]
    if active:
        raise InvalidParameterValue(f"A store task for {image.id} is already in progress; wait for it to finish.")
    started, due, reason = _plan("CreateStoreImageTask")
    task = Task("store", f"store-{secrets.token_hex(8)}", account_id, region, image.id, bucket,
                f"{image.id}.bin", started, due, reason,
                params={"S3ObjectTags": params.get("S3ObjectTags") or []})
    _add(task)
    return task


def store_task_view(task: Task, now: float) -> dict[str, Any]:
    state = {"active": "InProgress", "completed": "Completed", "failed": "Failed"}[task.state]
    view: dict[str, Any] = {
        "AmiId": task.image_id, "TaskStartTime": datetime.fromtimestamp(task.started, timezone.utc),
        "Bucket": task.bucket, "S3objectKey": task.key, "ProgressPercentage": task.progress(now),
        "StoreTaskState": state,
    }
    if task.state == "failed":
        view["StoreTaskFailureReason"] = task.fail_reason
    return view


def describe_store_tasks(account_id: str, region: str, image_ids: list[str]) -> list[Task]:
    for image_id in image_ids:
        moto_image(account_id, region, image_id)
    tasks = [t for t in backend(account_id, region).tasks.values() if t.kind == "store"]
    if image_ids:
        tasks = [t for t in tasks if t.image_id in image_ids]
    return sorted(tasks, key=lambda t: t.started)


# ---- deprecation ------------------------------------------------------
def enable_image_deprecation(account_id: str, region: str, image_id: str, deprecate_at: datetime) -> None:
    image = moto_image(account_id, region, image_id)
    if image.owner_id != account_id:
        raise InvalidParameterValue(f"You can only deprecate images you own; {image_id} belongs to {image.owner_id}.")
    if deprecate_at.tzinfo is None:
        deprecate_at = deprecate_at.replace(tzinfo=timezone.utc)
    # EC2 rounds the time up to the next whole minute.
    seconds = deprecate_at.timestamp()
    rounded = -(-seconds // 60) * 60
    image.deprecation_time = iso(rounded)


def disable_image_deprecation(account_id: str, region: str, image_id: str) -> None:
    image = moto_image(account_id, region, image_id)
    image.deprecation_time = None


# ---- task lifecycle -------------------------------------------------
def _add(task: Task) -> None:
    with lock:
        backend(task.account_id, task.region).tasks[task.task_id] = task
        _arm(task)


def _arm(task: Task) -> None:
    if task.state != "active" or task.due is None:
        return
    timer = threading.Timer(max(0.0, task.due - time.time()), _finish,
                            args=(task.account_id, task.region, task.task_id))
    timer.daemon = True
    _timers[task.task_id] = timer
    timer.start()


def _finish(account_id: str, region: str, task_id: str) -> None:
    """End a task. The object is written outside the lock: an S3 event it
    triggers may run a Lambda that calls back into this service."""
    with lock:
        _timers.pop(task_id, None)
        task = backend(account_id, region).tasks.get(task_id)
        if task is None or task.state != "active":
            return
        if task.fail_reason:
            task.state = "failed"
            return
    try:
        _write_object(task)
        outcome, reason = "completed", None
    except Exception as error:  # noqa: BLE001 - the task fails, as on AWS, with the reason
        log.exception("%s could not write s3://%s/%s", task.task_id, task.bucket, task.key)
        outcome, reason = "failed", f"Could not write s3://{task.bucket}/{task.key}: {error}"
    with lock:
        task.state, task.fail_reason = outcome, reason


def _write_object(task: Task) -> None:
    s3 = s3_backends[task.account_id]["aws"]
    if task.kind == "export":
        body = artifacts.disk_image(task.params["DiskImageFormat"], task.key.rsplit("/", 1)[-1], _size_gib(task))
    else:
        body = artifacts.stored_ami(_image_metadata(task))
    s3.put_object(task.bucket, task.key, body)
    tags = {t["Key"]: t["Value"] for t in task.params.get("S3ObjectTags") or []}
    if tags:
        s3.put_object_tagging(s3.get_object(task.bucket, task.key), tags)


def _size_gib(task: Task) -> int:
    image = ec2_backends[task.account_id][task.region].amis.get(task.image_id)
    mappings = image.block_device_mappings if image is not None else []
    return max([m["Ebs"]["VolumeSize"] for m in mappings if "Ebs" in m] or [8])


def _image_metadata(task: Task) -> dict[str, Any]:
    image = ec2_backends[task.account_id][task.region].amis.get(task.image_id)
    if image is None:
        raise InvalidAMIIDNotFound(task.image_id)
    return {
        "ImageId": image.id, "Name": image.name, "Description": image.description,
        "Architecture": image.architecture, "RootDeviceName": image.root_device_name,
        "BlockDeviceMappings": image.block_device_mappings, "OwnerId": image.owner_id,
        "CreationDate": str(image.creation_date), "Tags": ec2_backends[task.account_id][task.region].tags.get(image.id, {}),
    }


# ---- persistence ------------------------------------------------------
def get_state() -> object:
    with lock:
        return {"backends": dict(_backends)}


def set_state(state: object) -> None:
    if not isinstance(state, dict) or not isinstance(state.get("backends"), dict):
        raise ValueError("ec2 extras state must be a dict with a 'backends' mapping, as get_state() returns")
    with lock:
        _stop_timers()
        _backends.clear()
        _backends.update(state["backends"])
        for extras in _backends.values():
            for task in extras.tasks.values():
                _arm(task)


def reset() -> None:
    with lock:
        _stop_timers()
        _backends.clear()


def _stop_timers() -> None:
    for timer in _timers.values():
        timer.cancel()
    _timers.clear()
