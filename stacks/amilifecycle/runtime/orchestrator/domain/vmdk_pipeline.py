"""The standalone VMDK export pipeline: which builds are exported, and what their requester is told.

``execute-pipeline.sh`` starts the Image Builder pipeline with the image tag
``AMI_LC_VMDK_EXPORT=TRUE``. When Image Builder reports such a build
AVAILABLE, its AMI is exported to VMDK (the same export steps as the QA
certification request) under ``exports/<build>/<ami>/`` and the link to the
disk is emailed. Builds without the tag (the lifecycles' own builds) are
not exported here: their QA certification request exports them.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any, Mapping

from .builds import build_outcome, built_amis
from .notifications import NotificationKind, NotificationMessage, subject_line
from .timestamps import iso_utc
from .vmdk_exports import ExportedImage, lifetime_text
from .vocabulary import Operator

EXPORT_TAG = "AMI_LC_VMDK_EXPORT"
EXPORT_TAG_VALUE = "TRUE"
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
MAX_EXECUTION_NAME = 80


def export_scope(image_build_version_arn: str) -> str:
    """A name for one build: ``<recipe>-<version>-<build>`` made safe for S3 prefixes and execution names."""
    tail = image_build_version_arn.split(":image/", 1)[-1]
    name = _NAME_UNSAFE.sub("-", tail.replace("/", "-").replace(".", "_")).strip("-")
    if len(name) > MAX_EXECUTION_NAME - 10:
        name = f"{name[:MAX_EXECUTION_NAME - 47]}-{uuid.uuid5(uuid.NAMESPACE_URL, image_build_version_arn)}"
    return name or str(uuid.uuid5(uuid.NAMESPACE_URL, image_build_version_arn))


def export_request(image: Mapping[str, Any], region: str) -> dict[str, Any] | None:
    """The export pipeline's input for a finished build, or ``None`` when it is not to be exported.

    Exported: a build tagged ``AMI_LC_VMDK_EXPORT=TRUE`` that ended AVAILABLE, with an AMI in ``region``.
    """
    outcome = build_outcome(image)
    tags = image.get("tags") or {}
    if not outcome.succeeded or str(tags.get(EXPORT_TAG, "")).upper() != EXPORT_TAG_VALUE:
        return None
    amis = [ami for ami in built_amis(image) if ami.get("region") == region]
    if not amis:
        return None
    ami = amis[0]
    scope = export_scope(outcome.image_build_version_arn)
    return {"image_build_version_arn": outcome.image_build_version_arn, "export_scope": scope,
            "execution_name": scope[:MAX_EXECUTION_NAME],
            "ami": {"id": ami["image"], "name": ami.get("name"), "region": ami["region"],
                    "owner": ami.get("accountId")}}


def export_ready_message(*, stack_tag: str, ami: Mapping[str, Any], image_build_version_arn: str,
                         export: ExportedImage, download_url: str, now: datetime) -> NotificationMessage:
    """The email of a finished export: the AMI, where its disk is and the link to download it."""
    return NotificationMessage(
        kind=NotificationKind.INFO, operator=Operator.ORCHESTRATOR_SERVICE, stack_tag=stack_tag, lifecycle_id=None,
        subject=subject_line(f"VMDK export of AMI {export.ami_id} is ready ({stack_tag})"), sent_at=iso_utc(now),
        body={"vmdk_export": True,
              "ami": {"id": export.ami_id, "name": ami.get("name"), "region": ami.get("region")},
              "image_build_version_arn": image_build_version_arn,
              "export": {"path": export.path, "task_id": export.task_id, "format": "VMDK"},
              "download": {"url": download_url, "expires_at": export.link_expires_at,
                           "expiry_text": lifetime_text(export.link_expiry_secs)}})


def export_failed_message(*, stack_tag: str, ami_id: str, image_build_version_arn: str, error: Mapping[str, Any],
                          now: datetime) -> NotificationMessage:
    """The email of an export that ended without a disk (the error as the state machine caught it)."""
    return NotificationMessage(
        kind=NotificationKind.ERROR, operator=Operator.ORCHESTRATOR_SERVICE, stack_tag=stack_tag, lifecycle_id=None,
        subject=subject_line(f"ERROR: VMDK export of AMI {ami_id} failed ({stack_tag})"), sent_at=iso_utc(now),
        body={"error": {"error": f"{error.get('Error') or 'Error'}: {error.get('Cause') or 'no cause given'}",
                        "ami_id": ami_id, "image_build_version_arn": image_build_version_arn}})
