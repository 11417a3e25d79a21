"""POST /ami-creation|ami-patch/lifecycles/{id}/approve on moto: APPROVED starts the approval's state
machine, NOT_APPROVED records the refusal; the rule's conflicts are 409 and write nothing."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import boto3

from orchestrator.adapters.state_repository import StateRepository
from orchestrator.domain.history import event_entry
from orchestrator.domain.records import record_event_result
from orchestrator.domain.results import parse_event_result

from .conftest import ACCOUNT, PASS_DEFINITION, REGION, STACK_TAG, api_event, call
from .test_api_update import built_lifecycle

APPROVE = "/ami-creation/lifecycles/{lifecycle-id}/approve"
APPROVE_PATCH = "/ami-patch/lifecycles/{lifecycle-id}/approve"


def approval_machine(cloud, monkeypatch, api) -> str:
    arn = boto3.client("stepfunctions", region_name=REGION).create_state_machine(
        name="mark-for-production", definition=PASS_DEFINITION,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/mark-for-production")["stateMachineArn"]
    monkeypatch.setenv("EVENT_STATE_MACHINES_JSON", json.dumps(
        {"BUILD_AMI": cloud.state_machine_arn, "MARK_FOR_PRODUCTION_CREATE": arn, "MARK_FOR_PRODUCTION_PATCH": arn}))
    api.reset_application()
    return arn


def approve(api, cloud, lifecycle_id: str, status: str, *, resource: str = APPROVE, **body):
    setting = "ami_creation_mark_for_production_secret_name" if resource == APPROVE \
        else "ami_patch_mark_for_production_secret_name"
    return call(api, api_event("POST", resource, path_parameters={"lifecycle-id": lifecycle_id},
                               body={"stack_tag": STACK_TAG, "approval_status": status, **body},
                               headers={"x-api-key": cloud.keys[setting]}))


def executions(arn: str) -> list[dict]:
    return boto3.client("stepfunctions", region_name=REGION).list_executions(stateMachineArn=arn)["executions"]


def test_approved_starts_the_approval_state_machine_for_the_built_ami(api, cloud, monkeypatch):
    machine = approval_machine(cloud, monkeypatch, api)
    lifecycle_id = built_lifecycle(api, cloud)

    answer = approve(api, cloud, lifecycle_id, "APPROVED", properties={"change_ref": "CHG-42"})

    assert answer.status == 200, answer.text
    assert answer.json["lifecycle_id"] == lifecycle_id
    [execution] = executions(machine)
    assert execution["name"] == f"{lifecycle_id}-MARK_FOR_PRODUCTION_CREATE-1"
    described = boto3.client("stepfunctions", region_name=REGION).describe_execution(
        executionArn=execution["executionArn"])
    value = json.loads(described["input"])
    assert value["ami"]["id"] == "ami-0123456789abcdef0" and value["approval"]["approval_status"] == "APPROVED"
    stored = StateRepository(cloud.state_table).get(lifecycle_id)
    assert stored["event_in_progress"]["name"] == "MARK_FOR_PRODUCTION_CREATE"


def test_approving_twice_is_409_and_starts_nothing_more(api, cloud, monkeypatch):
    machine = approval_machine(cloud, monkeypatch, api)
    lifecycle_id = built_lifecycle(api, cloud)
    assert approve(api, cloud, lifecycle_id, "APPROVED").status == 200

    again = approve(api, cloud, lifecycle_id, "APPROVED")

    assert again.status == 409 and again.json["code"] == "CONFLICT"
    assert "MARK_FOR_PRODUCTION_CREATE is in progress" in again.json["error"]
    assert len(executions(machine)) == 1


def test_an_approved_ami_cannot_be_approved_again(api, cloud, monkeypatch):
    approval_machine(cloud, monkeypatch, api)
    lifecycle_id = built_lifecycle(api, cloud)
    repository = StateRepository(cloud.state_table)
    done = parse_event_result({"lifecycle_id": lifecycle_id, "name": "MARK_FOR_PRODUCTION_CREATE",
                               "status": "COMPLETED", "status_date": "2026-11-23T11:00:00Z",
                               "approval_status": "APPROVED", "properties": {"approval_status": "APPROVED"}})
    repository.update(lifecycle_id, lambda record: record_event_result(record, done, datetime.now(timezone.utc)))

    answer = approve(api, cloud, lifecycle_id, "APPROVED")

    assert answer.status == 409 and "already COMPLETED" in answer.json["error"]


def test_not_approved_records_the_refusal_and_starts_nothing(api, cloud, monkeypatch):
    machine = approval_machine(cloud, monkeypatch, api)
    lifecycle_id = built_lifecycle(api, cloud)

    answer = approve(api, cloud, lifecycle_id, "NOT_APPROVED", properties={"reason": "pending review"})

    assert answer.status == 200, answer.text
    assert executions(machine) == []
    entry = event_entry(StateRepository(cloud.state_table).get(lifecycle_id), "MARK_FOR_PRODUCTION_CREATE")
    assert entry["status"] == "FAILED" and entry["approval_status"] == "NOT_APPROVED"
    assert entry["properties"]["reason"] == "pending review"


def test_an_approval_before_the_build_completed_is_409_and_writes_nothing(api, cloud, monkeypatch):
    approval_machine(cloud, monkeypatch, api)
    from .test_api_create import create
    lifecycle_id = create(api, cloud).json["lifecycle_id"]
    before = StateRepository(cloud.state_table).get(lifecycle_id)

    answer = approve(api, cloud, lifecycle_id, "NOT_APPROVED")

    assert answer.status == 409 and "BUILD_AMI is in progress" in answer.json["error"]
    assert StateRepository(cloud.state_table).get(lifecycle_id) == before


def test_a_verdict_outside_the_vocabulary_is_400_naming_the_allowed_values(api, cloud, monkeypatch):
    approval_machine(cloud, monkeypatch, api)
    lifecycle_id = built_lifecycle(api, cloud)

    answer = approve(api, cloud, lifecycle_id, "MAYBE")

    assert answer.status == 400
    assert answer.json["error"] == "approval_status: expected one of APPROVED, NOT_APPROVED, got 'MAYBE'"


def test_the_approve_route_needs_its_own_key(api, cloud, monkeypatch):
    approval_machine(cloud, monkeypatch, api)
    lifecycle_id = built_lifecycle(api, cloud)
    answer = call(api, api_event("POST", APPROVE, path_parameters={"lifecycle-id": lifecycle_id},
                                 body={"stack_tag": STACK_TAG, "approval_status": "APPROVED"},
                                 headers={"x-api-key": cloud.keys["ami_creation_post_secret_name"]}))
    assert answer.status == 403


def test_the_patch_approval_of_a_lifecycle_without_a_patch_is_409(api, cloud, monkeypatch):
    approval_machine(cloud, monkeypatch, api)
    lifecycle_id = built_lifecycle(api, cloud)

    answer = approve(api, cloud, lifecycle_id, "APPROVED", resource=APPROVE_PATCH)

    assert answer.status == 409 and "PATCH_AMI (NOT_STARTED)" in answer.json["error"]


def test_the_patch_approval_starts_the_state_machine_on_the_patched_ami(api, cloud, monkeypatch):
    machine = approval_machine(cloud, monkeypatch, api)
    lifecycle_id = built_lifecycle(api, cloud)
    repository = StateRepository(cloud.state_table)
    now = datetime.now(timezone.utc)

    def patched(record: dict) -> dict:
        record = dict(record, inputs_ami_patch={"events": [{"name": "PATCH_AMI", "enabled": True},
                                                           {"name": "SMOKE_TESTS_AMI_PATCH", "enabled": False},
                                                           {"name": "VULNERABILITY_SCANS_AMI_PATCH", "enabled": False}],
                                                "commit_ref": "77aa01c"})
        patch = parse_event_result({
            "lifecycle_id": lifecycle_id, "name": "PATCH_AMI", "status": "COMPLETED",
            "status_date": "2026-11-23T12:00:00Z", "commit_ref": "77aa01c",
            "properties": {"ami_details": [{"region": REGION, "image": "ami-0fedcba9876543210", "name": "patched",
                                            "accountId": ACCOUNT, "ami_semver": "1.1.0"}]}})
        return record_event_result(record, patch, now)

    repository.update(lifecycle_id, patched)

    answer = approve(api, cloud, lifecycle_id, "APPROVED", resource=APPROVE_PATCH)

    assert answer.status == 200, answer.text
    [execution] = executions(machine)
    assert execution["name"] == f"{lifecycle_id}-MARK_FOR_PRODUCTION_PATCH-1"
    value = json.loads(boto3.client("stepfunctions", region_name=REGION).describe_execution(
        executionArn=execution["executionArn"])["input"])
    assert value["operation_type"] == "ami-patch" and value["ami"]["id"] == "ami-0fedcba9876543210"
    assert value["commit_ref"] == "77aa01c"
