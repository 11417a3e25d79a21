"""Lifecycle records and lookup entries as the deployed system writes them.

Records are produced by the domain functions the API and receivers use and
shown through ``public_view``, exactly what the status routes answer.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import amilc  # noqa: F401 - puts the orchestrator domain on sys.path
from orchestrator.domain import records
from orchestrator.domain.requests import parse_create_request
from orchestrator.domain.results import EventError, EventResult
from orchestrator.domain.versioning import semver_sort_key
from orchestrator.domain.vocabulary import EventName, Status

NOW = datetime(2026, 11, 23, 10, 0, 0, tzinfo=timezone.utc)
LIFECYCLE_ID = "3f0c2a56-8a47-4c1e-9d5b-2f4e8c7a1b90"
BUILT_AMI = "ami-0abcdef1234567890"


def stamp(minutes: int) -> str:
    return (NOW + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def created(*enabled: str) -> dict[str, Any]:
    """A lifecycle just created, BUILD_AMI claimed (what the API stores before answering)."""
    names = ("BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE", "QA_CERTIFICATION_REQUEST")
    request = parse_create_request({
        "stack_tag": "main", "owner": "platform-team",
        "notifications": [{"method": "EMAIL", "target": "platform-team@example.com"}],
        "events": [{"name": n, "enabled": n == "BUILD_AMI" or n in enabled} for n in names],
        "product_ver": "2.4.1", "product_name": "payments-service",
        "commit_ref": "9fceb02d0ae598e95dc970b74767f19372d61af8",
    })
    record = records.new_lifecycle(request, LIFECYCLE_ID, NOW)
    record = records.mark_event_in_progress(record, EventName.BUILD_AMI, NOW, description="Build the AMI")
    return records.attach_execution(record, EventName.BUILD_AMI,
                                    execution_arn="arn:aws:states:us-east-1:123456789012:execution:build:x-1")


def built(record: dict[str, Any], semver: str = "1.0.0") -> dict[str, Any]:
    """``record`` after the build result arrived."""
    result = EventResult(lifecycle_id=LIFECYCLE_ID, name=EventName.BUILD_AMI, status=Status.COMPLETED,
                         status_date=stamp(30), properties={"ami_details": [
                             {"region": "us-east-1", "image": BUILT_AMI, "name": "payments-service-2.4.1",
                              "accountId": "123456789012", "ami_semver": semver}]},
                         attributes={"commit_ref": "9fceb02d0ae598e95dc970b74767f19372d61af8"})
    return records.record_event_result(record, result, NOW + timedelta(minutes=30))


def build_error(record: dict[str, Any], cause: str) -> dict[str, Any]:
    """``record`` after the build workflow reported an error."""
    error = EventError(lifecycle_id=LIFECYCLE_ID, name=EventName.BUILD_AMI, status=Status.ERROR,
                       status_date=stamp(12), error_message=cause, stack_trace="States.TaskFailed",
                       execution_arn="arn:aws:states:us-east-1:123456789012:execution:build:x-1")
    return records.record_event_error(record, error, NOW + timedelta(minutes=12))


def view(record: dict[str, Any]) -> dict[str, Any]:
    """What the status route answers."""
    return records.public_view(record)


def accepted(record: dict[str, Any]) -> dict[str, Any]:
    """What a mutating route answers."""
    return records.lifecycle_response(record)


def lookup_entry(*, stack_tag: str = "main", semver: str, score: int = 1, region: str = "us-east-1",
                 product_name: str = "payments-service", product_ver: str = "2.4.1",
                 lifecycle_type: str = "ami-creation", commit_ref: str = "9fceb02",
                 event: str = "BUILD_AMI") -> dict[str, Any]:
    """One lookup table item, shaped like the receivers write it."""
    ami_id = "ami-" + uuid.uuid4().hex[:17]
    return {
        "lookup_id": f"{region}#{ami_id}", "stack_tag": stack_tag, "ami_id": ami_id, "aws_region": region,
        "ami_semver": semver, "semver_sort_key": semver_sort_key(semver), "product_ver": product_ver,
        "product_name": product_name, "commit_ref": commit_ref, "lifecycle_type": lifecycle_type,
        "lifecycle_id": str(uuid.uuid4()), "lifecycle_event": event, "lifecycle_score": score,
        "last_event": event, "last_event_status": "COMPLETED", "last_modified": stamp(0),
    }

