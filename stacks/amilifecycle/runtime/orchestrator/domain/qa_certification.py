"""QA certification: the request (the AMI exported for the QA team) and the QA team's verdict.

``QA_CERTIFICATION_REQUEST`` exports the AMI as a VMDK disk image, gives the
QA team a download link valid ``exportLinkExpiry`` seconds and tells them
how to answer. Its result records where the disk is and when the link
expires, never the link itself: a presigned URL is a bearer credential, so
it travels only in the message to the QA team.

``QA_CERTIFICATION_RESPONSE`` is the QA team's verdict (route 5): CERTIFIED
(COMPLETED) or FAILED, with an optional reason. It is recorded once, after
the request COMPLETED; a second verdict is refused. Only CERTIFIED raises the
AMI's standing in the lookup table (score 5).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Mapping

from .errors import Conflict
from .history import Record, event_entry, event_status
from .notifications import NotificationKind, NotificationMessage, subject_line
from .records import ensure_stack_tag, record_event_result
from .requests import CertificationRequest
from .results import EventResult, qa_certification_result
from .rules import check_nothing_running
from .timestamps import iso_utc
from .vmdk_exports import ExportedImage, lifetime_text
from .vocabulary import CertificationStatus, EventName, LifecycleType, Operator, Status

QA_TASK = "QA_CERTIFICATION_REQUEST"
REASON_PROPERTY = "reason"
CERTIFY_PATH = "/ami-creation/lifecycles/{lifecycle_id}/certify"


def request_result(*, lifecycle_id: str, ami: Mapping[str, Any], export: ExportedImage,
                   now: datetime) -> EventResult:
    """The QA_CERTIFICATION_REQUEST result: the AMI, where its VMDK is and until when the link works."""
    properties = {
        "task": QA_TASK,
        "ami_id": export.ami_id,
        "ami_name": ami.get("name"),
        "ami_region": ami.get("region"),
        "ami_owner": ami.get("owner"),
        "export_image_id": export.file_name,
        "export_bucket": export.bucket,
        "export_bucket_prefix": export.prefix,
        "export_image_path": export.path,
        "export_image_task_id": export.task_id,
        "export_link_expiry_secs": export.link_expiry_secs,
        "export_link_expires_at": export.link_expires_at,
    }
    return EventResult(lifecycle_id=lifecycle_id, name=EventName.QA_CERTIFICATION_REQUEST, status=Status.COMPLETED,
                       status_date=iso_utc(now),
                       properties={key: value for key, value in properties.items() if value not in (None, "")},
                       attributes={"operation_type": str(LifecycleType.AMI_CREATION)})


def certify_request_example(stack_tag: str) -> dict[str, Any]:
    """The body of a verdict, as the QA team sends it."""
    return {"stack_tag": stack_tag, "certification_status": "CERTIFIED|FAILED",
            "properties": {REASON_PROPERTY: "why, when FAILED (optional)"}}


def qa_request_message(*, lifecycle_id: str, stack_tag: str, ami: Mapping[str, Any], export: ExportedImage,
                       download_url: str, api_url: str | None, key_secret_name: str, now: datetime,
                       product: Mapping[str, Any] | None = None) -> NotificationMessage:
    """The message to the QA team: the AMI, its disk, the download link and how to answer.

    The download link is the only credential in it (it must be); the QA key
    is not: the message names the Secrets Manager secret an authorised
    person reads it from.
    """
    path = CERTIFY_PATH.format(lifecycle_id=lifecycle_id)
    body = certify_request_example(stack_tag)
    return NotificationMessage(
        kind=NotificationKind.INFO, operator=Operator.AMI_CREATE_QA_CERTIFICATION_REQUEST, stack_tag=stack_tag,
        lifecycle_id=lifecycle_id,
        subject=subject_line(f"QA certification request for AMI {export.ami_id} ({stack_tag})"),
        sent_at=iso_utc(now),
        body={
            "qa_request": True,
            "ami": {"id": export.ami_id, "name": ami.get("name"), "region": ami.get("region"),
                    "owner": ami.get("owner"), "semver": ami.get("semver")},
            "product": {"name": (product or {}).get("name"), "version": (product or {}).get("version")},
            "export": {"path": export.path, "task_id": export.task_id, "file_name": export.file_name,
                       "format": "VMDK"},
            "download": {"url": download_url, "expires_at": export.link_expires_at,
                         "expiry_secs": export.link_expiry_secs,
                         "expiry_text": lifetime_text(export.link_expiry_secs)},
            "certify": {"method": "POST", "path": path, "target": f"{api_url.rstrip('/')}{path}" if api_url else path,
                        "body": json.dumps(body, indent=2),
                        "cli": (f"python client/api-cli.py --mode BATCH --operation AMI_QA_CERTIFICATION "
                                f"--lifecycleId {lifecycle_id} --stackTag {stack_tag} "
                                f"--certificationStatus CERTIFIED|FAILED [--reason TEXT]")},
            "key": {"header": "x-api-key", "secret_name": key_secret_name},
        },
    )


# ------------------------------------------------------------------ the verdict

def check_verdict_allowed(record: Record) -> None:
    """A verdict comes after the request COMPLETED, once, while nothing else runs."""
    check_nothing_running(record)
    request = event_status(record, EventName.QA_CERTIFICATION_REQUEST)
    if request is not Status.COMPLETED:
        raise Conflict(f"{EventName.QA_CERTIFICATION_RESPONSE} cannot be recorded: "
                       f"{EventName.QA_CERTIFICATION_REQUEST} must be COMPLETED first (it is {request}); the QA "
                       f"team answers the request they were sent", field="lifecycle_id")
    earlier = event_entry(record, EventName.QA_CERTIFICATION_RESPONSE)
    if earlier is not None:
        verdict = earlier.get("certification_status") or (earlier.get("properties") or {}).get("certification_status")
        raise Conflict(f"{EventName.QA_CERTIFICATION_RESPONSE} is already recorded for lifecycle "
                       f"{record.get('lifecycle_id')}: {verdict} at {earlier.get('status_date')}; a verdict is "
                       f"given once (create a new lifecycle to certify another build)", field="lifecycle_id")


def verdict_result(request: CertificationRequest, now: datetime) -> EventResult:
    """The QA_CERTIFICATION_RESPONSE result of a verdict; a FAILED verdict's reason is its failure reason."""
    result = qa_certification_result(request.lifecycle_id, request.certification_status, request.properties, now)
    reason = request.properties.get(REASON_PROPERTY)
    if request.certification_status is CertificationStatus.FAILED and reason:
        result = result.with_properties(failure_reason=reason)
    return result


def record_verdict(record: Record, request: CertificationRequest, now: datetime) -> dict[str, Any]:
    """The record with the verdict recorded (pure; the caller writes it conditionally)."""
    ensure_stack_tag(record, request.stack_tag)
    check_verdict_allowed(record)
    return record_event_result(record, verdict_result(request, now), now)
