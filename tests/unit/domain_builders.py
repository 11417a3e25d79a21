"""Small builders for domain tests: valid inputs with one thing changed at a time."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any

from orchestrator.domain import records
from orchestrator.domain.requests import parse_create_request, parse_patch_request
from orchestrator.domain.results import EventResult
from orchestrator.domain.vocabulary import EventName, Status

NOW = datetime(2026, 11, 23, 10, 0, 0, tzinfo=timezone.utc)
LIFECYCLE_ID = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
REGION = "eu-west-1"
BUILT_AMI = "ami-0aaaaaaaaaaaaaaa1"
PATCHED_AMI = "ami-0bbbbbbbbbbbbbbb2"
SECOND_PATCHED_AMI = "ami-0ccccccccccccccc3"

CREATION_EVENTS = ("BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE", "QA_CERTIFICATION_REQUEST")
PATCH_EVENTS = ("PATCH_AMI", "SMOKE_TESTS_AMI_PATCH", "VULNERABILITY_SCANS_AMI_PATCH")


def later(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def toggles(names: tuple[str, ...], enabled: set[str]) -> list[dict[str, Any]]:
    return [{"name": name, "enabled": name in enabled} for name in names]


def create_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "stack_tag": "main",
        "owner": "platform-team",
        "notifications": [{"method": "EMAIL", "target": "owner@example.com"}],
        "events": toggles(CREATION_EVENTS, set(CREATION_EVENTS)),
        "product_ver": "1.4.2",
        "product_name": "billing-service",
        "commit_ref": "3f9c2ab",
        "properties": {"team": "billing"},
    }
    body.update(overrides)
    return body


def update_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "lifecycle_id": LIFECYCLE_ID,
        "stack_tag": "main",
        "owner": "platform-team",
        "notifications": [{"method": "EMAIL", "target": "owner@example.com"}],
        "events": toggles(CREATION_EVENTS, {"SMOKE_TESTS_AMI_CREATE"}),
    }
    body.update(overrides)
    return body


def patch_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "lifecycle_id": LIFECYCLE_ID,
        "stack_tag": "main",
        "owner": "platform-team",
        "notifications": [{"method": "EMAIL", "target": "owner@example.com"}],
        "events": toggles(PATCH_EVENTS, set(PATCH_EVENTS)),
        "commit_ref": "77aa01c",
        "properties": {
            "patch_component_url": "s3://patch-bucket/lc/openssl.yml",
            "patch_change_description": "Update openssl",
            "semver_bump_type": "MINOR",
        },
    }
    body.update(overrides)
    return body


def new_record(**overrides: Any) -> dict[str, Any]:
    return records.new_lifecycle(parse_create_request(create_body(**overrides)), LIFECYCLE_ID, NOW)


def ami(image: str, semver: str | None = None) -> dict[str, Any]:
    details: dict[str, Any] = {"region": REGION, "image": image, "name": f"AmiLifecycle-{image}",
                               "description": "built by Image Builder", "accountId": "123456789012"}
    if semver:
        details["ami_semver"] = semver
    return details


def result(name: str | EventName, status: Status | str = Status.COMPLETED, *, minutes: int = 1,
           properties: dict[str, Any] | None = None, **attributes: str) -> EventResult:
    return EventResult(lifecycle_id=LIFECYCLE_ID, name=EventName(name), status=Status(status),
                       status_date=(NOW + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                       properties=copy.deepcopy(properties or {}), attributes=attributes)


def build_result(semver: str = "1.0.0", image: str = BUILT_AMI, minutes: int = 1) -> EventResult:
    return result(EventName.BUILD_AMI, minutes=minutes, properties={
        "ami_details": [ami(image, semver)],
        "imagebuilder_image_arn": "arn:aws:imagebuilder:eu-west-1:123456789012:image/recipe/1.0.0/1",
        "imagebuilder_recipe_components": [
            {"componentArn": "arn:aws:imagebuilder:eu-west-1:aws:component/amazon-cloudwatch-agent-linux/1.0.1/1"},
            {"componentArn": "arn:aws:imagebuilder:eu-west-1:123456789012:component/generic/1.0.0/1"},
        ],
    }, commit_ref="3f9c2ab")


def patch_result(semver: str = "1.1.0", image: str = PATCHED_AMI, minutes: int = 100) -> EventResult:
    return result(EventName.PATCH_AMI, minutes=minutes, properties={"ami_details": [ami(image, semver)]},
                  semver_bump_type="MINOR", commit_ref="77aa01c")


def completed(record: dict[str, Any], *names: str | EventName, start: int = 1) -> dict[str, Any]:
    """``record`` after each named event produced a COMPLETED result, in order."""
    for offset, name in enumerate(names):
        event = EventName(name)
        if event is EventName.BUILD_AMI:
            outcome = build_result(minutes=start + offset)
        elif event is EventName.PATCH_AMI:
            outcome = patch_result(minutes=start + offset)
        elif event is EventName.QA_CERTIFICATION_RESPONSE:
            outcome = result(event, minutes=start + offset, certification_status="CERTIFIED")
        elif event in (EventName.MARK_FOR_PRODUCTION_CREATE, EventName.MARK_FOR_PRODUCTION_PATCH):
            outcome = result(event, minutes=start + offset, properties={"approval_status": "APPROVED"})
        else:
            outcome = result(event, minutes=start + offset)
        record = records.record_event_result(record, outcome, later(start + offset))
    return record


def fully_approved_record() -> dict[str, Any]:
    return completed(new_record(), "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE",
                     "QA_CERTIFICATION_REQUEST", "QA_CERTIFICATION_RESPONSE", "MARK_FOR_PRODUCTION_CREATE")


def patched_record() -> dict[str, Any]:
    record = fully_approved_record()
    record = records.apply_patch_request(record, parse_patch_request(patch_body()), later(50))
    return completed(record, "PATCH_AMI", start=100)
