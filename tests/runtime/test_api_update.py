"""PUT /ami-creation/lifecycles on moto: new inputs, then the next enabled event's state machine."""

from __future__ import annotations

import json

import boto3

from orchestrator.adapters.state_repository import StateRepository
from orchestrator.domain.records import record_event_result
from orchestrator.domain.results import parse_event_result

from .conftest import ACCOUNT, PASS_DEFINITION, REGION, STACK_TAG, api_event, call, create_body
from .test_api_create import create

UPDATE = "/ami-creation/lifecycles"
EVENTS = ("BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE", "QA_CERTIFICATION_REQUEST")


def smoke_machine(cloud, monkeypatch, api) -> str:
    arn = boto3.client("stepfunctions", region_name=REGION).create_state_machine(
        name="smoke-tests", definition=PASS_DEFINITION,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/smoke-tests")["stateMachineArn"]
    monkeypatch.setenv("EVENT_STATE_MACHINES_JSON", json.dumps(
        {"BUILD_AMI": cloud.state_machine_arn, "SMOKE_TESTS_AMI_CREATE": arn}))
    api.reset_application()
    return arn


def built_lifecycle(api, cloud) -> str:
    """A lifecycle created with BUILD_AMI only, whose build then completed."""
    events = [{"name": name, "enabled": name == "BUILD_AMI"} for name in EVENTS]
    lifecycle_id = create(api, cloud, create_body(events=events)).json["lifecycle_id"]
    repository = StateRepository(cloud.state_table)
    result = parse_event_result({
        "lifecycle_id": lifecycle_id, "name": "BUILD_AMI", "status": "COMPLETED",
        "status_date": "2026-11-23T10:30:00Z",
        "properties": {"ami_details": [{"region": REGION, "image": "ami-0123456789abcdef0", "name": "built",
                                        "accountId": ACCOUNT, "ami_semver": "1.0.0"}]}})
    from datetime import datetime, timezone
    repository.update(lifecycle_id, lambda record: record_event_result(record, result, datetime.now(timezone.utc)))
    return lifecycle_id


def update_body(lifecycle_id: str, enabled: set[str], **changes) -> dict:
    body = {"lifecycle_id": lifecycle_id, "stack_tag": STACK_TAG, "owner": "new-owner@example.com",
            "notifications": [{"method": "EMAIL", "target": "team@example.com"}],
            "events": [{"name": name, "enabled": name in enabled} for name in EVENTS]}
    body.update(changes)
    return body


def update(api, cloud, body):
    return call(api, api_event("PUT", UPDATE, body=body,
                               headers={"x-api-key": cloud.keys["ami_creation_put_secret_name"]}))


def test_an_update_starts_the_next_enabled_event_and_answers_with_the_update_date(api, cloud, monkeypatch):
    smoke = smoke_machine(cloud, monkeypatch, api)
    lifecycle_id = built_lifecycle(api, cloud)

    answer = update(api, cloud, update_body(lifecycle_id, {"SMOKE_TESTS_AMI_CREATE"}))

    assert answer.status == 200, answer.text
    assert answer.json["lifecycle_id"] == lifecycle_id and answer.json["owner"] == "new-owner@example.com"
    [execution] = boto3.client("stepfunctions", region_name=REGION).list_executions(
        stateMachineArn=smoke)["executions"]
    assert execution["name"] == f"{lifecycle_id}-SMOKE_TESTS_AMI_CREATE-1"
    stored = StateRepository(cloud.state_table).get(lifecycle_id)
    assert stored["event_in_progress"]["name"] == "SMOKE_TESTS_AMI_CREATE"
    assert stored["event_in_progress"]["execution_arn"] == execution["executionArn"]
    assert stored["inputs_ami_creation"]["events"][1] == {"name": "SMOKE_TESTS_AMI_CREATE", "enabled": True}


def test_an_update_while_the_build_runs_is_409_and_nothing_changes(api, cloud, monkeypatch):
    smoke_machine(cloud, monkeypatch, api)
    lifecycle_id = create(api, cloud).json["lifecycle_id"]
    before = StateRepository(cloud.state_table).get(lifecycle_id)

    answer = update(api, cloud, update_body(lifecycle_id, {"SMOKE_TESTS_AMI_CREATE"}))

    assert answer.status == 409 and answer.json["code"] == "CONFLICT"
    assert "BUILD_AMI is in progress" in answer.json["error"]
    assert StateRepository(cloud.state_table).get(lifecycle_id) == before


def test_an_update_enabling_an_event_that_is_not_deployed_is_501_and_nothing_changes(api, cloud):
    lifecycle_id = built_lifecycle(api, cloud)
    before = StateRepository(cloud.state_table).get(lifecycle_id)

    answer = update(api, cloud, update_body(lifecycle_id, {"SMOKE_TESTS_AMI_CREATE"}))

    assert answer.status == 501
    assert answer.json["error"] == "SMOKE_TESTS_AMI_CREATE is not available in this deployment yet"
    assert StateRepository(cloud.state_table).get(lifecycle_id) == before


def test_an_update_of_an_unknown_lifecycle_is_404(api, cloud):
    answer = update(api, cloud, update_body("6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f", set()))
    assert answer.status == 404


def test_an_update_that_enables_the_build_again_is_400_naming_the_field(api, cloud):
    lifecycle_id = built_lifecycle(api, cloud)
    answer = update(api, cloud, update_body(lifecycle_id, {"BUILD_AMI"}))
    assert answer.status == 400 and answer.json["field"] == "events"
    assert "BUILD_AMI must be disabled in an update" in answer.json["error"]
