"""Lifecycle records and lookup entries as the deployed system writes them.

Records are produced by the domain functions the API and receivers use and
shown through ``public_view``, exactly what the status routes answer.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import amilc  # noqa: F401 - puts the orchestrator domain on sys.path
from orchestrator.domain import records
from orchestrator.domain.requests import parse_create_request, parse_update_request
from orchestrator.domain.results import EventError, EventResult
from orchestrator.domain.scans import parse_gate, scan_result, summarize_findings
from orchestrator.domain.smoke_tests import smoke_test_result
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


def event_error(record: dict[str, Any], event: str, cause: str, minutes: int = 31) -> dict[str, Any]:
    """``record`` after the workflow of ``event`` (the event in progress) reported an error."""
    error = EventError(lifecycle_id=LIFECYCLE_ID, name=EventName(event), status=Status.ERROR,
                       status_date=stamp(minutes), error_message=cause, stack_trace="States.TaskFailed")
    return records.record_event_error(record, error, NOW + timedelta(minutes=minutes))


def started(record: dict[str, Any], event: str, minutes: int = 31) -> dict[str, Any]:
    """``record`` once the orchestrator claimed ``event`` and started its state machine."""
    record = records.mark_event_in_progress(record, EventName(event), NOW + timedelta(minutes=minutes),
                                            description=f"{event} of the AMI")
    return records.attach_execution(record, EventName(event),
                                    execution_arn=f"arn:aws:states:us-east-1:123456789012:execution:{event}:x-1")


def updated(record: dict[str, Any], *enabled: str) -> dict[str, Any]:
    """``record`` after a PUT that enabled ``enabled`` (BUILD_AMI stays as it was)."""
    names = ("BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE", "QA_CERTIFICATION_REQUEST")
    request = parse_update_request({
        "lifecycle_id": LIFECYCLE_ID, "stack_tag": "main", "owner": "platform-team",
        "notifications": [{"method": "EMAIL", "target": "platform-team@example.com"}],
        "events": [{"name": n, "enabled": n in enabled} for n in names],
    })
    return records.apply_update(record, request, NOW + timedelta(minutes=40))


SUITE_LOG = {"log_group": "/ami-lifecycles/main/smoke-tests", "log_stream": LIFECYCLE_ID}


def smoke_tested(record: dict[str, Any], *failing: str, minutes: int = 35) -> dict[str, Any]:
    """``record`` after the smoke-test suite reported (all 12 passed, or ``failing`` failed)."""
    report = {"smoke_tests_status": "FAILED" if failing else "PASSED", "total": 12,
              "passed": 12 - len(failing), "failed": len(failing), "failed_tests": list(failing), **SUITE_LOG}
    outcome = {"failure": {"Error": "SmokeTestsFailed", "Cause": json.dumps(report)}} if failing else \
        {"report": report}
    result = smoke_test_result(lifecycle_id=LIFECYCLE_ID, event="SMOKE_TESTS_AMI_CREATE", outcome=outcome,
                               instance_ids=["i-0123456789abcdef0"], now=NOW + timedelta(minutes=minutes))
    return records.record_event_result(record, result, NOW + timedelta(minutes=minutes))


def scanned(record: dict[str, Any], *severities: str, gate: str = "CRITICAL=0", minutes: int = 50) -> dict[str, Any]:
    """``record`` after Inspector's scan found one finding of each of ``severities``."""
    findings = [{"title": f"CVE-2026-000{n} - openssl", "severity": severity} for n, severity in enumerate(severities)]
    result = scan_result(lifecycle_id=LIFECYCLE_ID, event="VULNERABILITY_SCANS_AMI_CREATE",
                         summary=summarize_findings(findings), gate=parse_gate(gate), report=None, sbom=None,
                         instance_id="i-0fedcba9876543210", now=NOW + timedelta(minutes=minutes))
    return records.record_event_result(record, result, NOW + timedelta(minutes=minutes))


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

