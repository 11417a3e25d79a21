"""POST /ami-creation/lifecycles: the record, the build execution, subscriptions and notification."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest

from orchestrator.adapters.notifier import filter_policy
from orchestrator.adapters.state_repository import StateRepository

from .conftest import PIPELINE_ARN, REGION, STACK_TAG, api_event, call, create_body

CREATE = "/ami-creation/lifecycles"


def create(api, cloud, body=None, **headers):
    key = cloud.keys["ami_creation_post_secret_name"]
    return call(api, api_event("POST", CREATE, body=create_body() if body is None else body,
                               headers={"x-api-key": key, **headers}))


def stored_records(cloud) -> list[dict]:
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=cloud.state_table)["Items"]
    return [StateRepository(cloud.state_table).get(item["lifecycle_id"]["S"]) for item in items]


def executions(cloud) -> list[dict]:
    return boto3.client("stepfunctions", region_name=REGION).list_executions(
        stateMachineArn=cloud.state_machine_arn)["executions"]


def email_subscriptions(cloud) -> list[dict]:
    sns = boto3.client("sns", region_name=REGION)
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=cloud.topic_arn)["Subscriptions"]
    return [dict(s, **sns.get_subscription_attributes(SubscriptionArn=s["SubscriptionArn"])["Attributes"])
            for s in subscriptions if s["Protocol"] == "email"]


def queue_for(cloud, address: str) -> str:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=REGION).subscribe(
        TopicArn=cloud.topic_arn, Protocol="sqs", Endpoint=arn,
        Attributes={"FilterPolicy": json.dumps(filter_policy(address)), "FilterPolicyScope": "MessageAttributes"})
    return url


# --------------------------------------------------------------------- success

def test_a_valid_request_answers_the_lifecycle_response(api, cloud):
    answer = create(api, cloud)
    assert answer.status == 200, answer.text
    assert answer.headers["Content-Type"] == "application/json"
    body = answer.json
    assert set(body) == {"lifecycle_id", "owner", "creation_date", "notification_channels"}
    assert str(uuid.UUID(body["lifecycle_id"])) == body["lifecycle_id"]
    assert body["owner"] == "platform-team"
    assert body["creation_date"].endswith("Z")
    assert body["notification_channels"] == [{"method": "EMAIL", "target": "team@example.com"}]


def test_the_record_holds_the_request_and_build_ami_in_progress_with_its_execution(api, cloud):
    lifecycle_id = create(api, cloud).json["lifecycle_id"]
    [record] = stored_records(cloud)
    [execution] = executions(cloud)
    assert record["lifecycle_id"] == lifecycle_id
    assert record["stack_tag"] == STACK_TAG
    assert record["product_name"] == "payments-service"
    assert record["inputs_ami_creation"]["events"][2] == {"name": "VULNERABILITY_SCANS_AMI_CREATE", "enabled": True}
    in_progress = record["event_in_progress"]
    assert in_progress["name"] == "BUILD_AMI"
    assert in_progress["status"] == "IN_PROGRESS"
    assert in_progress["execution_arn"] == execution["executionArn"]
    assert in_progress["statemachine_arn"] == cloud.state_machine_arn
    assert "api_key" not in json.dumps(record)


def test_the_build_execution_has_a_deterministic_name_and_a_plain_json_input(api, cloud):
    lifecycle_id = create(api, cloud).json["lifecycle_id"]
    [execution] = executions(cloud)
    assert execution["name"] == f"{lifecycle_id}-BUILD_AMI-1"
    described = boto3.client("stepfunctions", region_name=REGION).describe_execution(
        executionArn=execution["executionArn"])
    assert json.loads(described["input"]) == {
        "lifecycle_id": lifecycle_id, "stack_tag": STACK_TAG, "imagebuilder_pipeline_arn": PIPELINE_ARN,
        "product_ver": "2.4.1", "product_name": "payments-service",
        "commit_ref": "9fceb02d0ae598e95dc970b74767f19372d61af8",
        "event": "BUILD_AMI", "operation_type": "ami-creation", "attempt": 1, "properties": {},
    }


def test_the_misspelt_vulnerability_scan_name_is_accepted_and_stored_correctly(api, cloud):
    body = create_body()
    body["events"][2]["name"] = "VULNERABILIY_SCANS_AMI_CREATE"
    assert create(api, cloud, body).status == 200
    [record] = stored_records(cloud)
    assert record["inputs_ami_creation"]["events"][2]["name"] == "VULNERABILITY_SCANS_AMI_CREATE"


def test_each_email_address_gets_one_subscription_with_its_fixed_filter(api, cloud):
    body = create_body(notifications=[{"method": "EMAIL", "target": "team@example.com"},
                                      {"method": "EMAIL", "target": "ops@example.com"},
                                      {"method": "HTTP", "target": "https://hooks.example.com/ami"}])
    create(api, cloud, body)
    subscriptions = {s["Endpoint"]: json.loads(s["FilterPolicy"]) for s in email_subscriptions(cloud)}
    assert subscriptions == {"team@example.com": {"recipients": ["team@example.com"]},
                             "ops@example.com": {"recipients": ["ops@example.com"]}}


def test_a_second_lifecycle_for_the_same_address_adds_no_subscription_and_no_policy_entry(api, cloud):
    create(api, cloud)
    [before] = email_subscriptions(cloud)
    create(api, cloud)
    [after] = email_subscriptions(cloud)
    assert after["SubscriptionArn"] == before["SubscriptionArn"]
    assert json.loads(after["FilterPolicy"]) == {"recipients": ["team@example.com"]}
    assert len(stored_records(cloud)) == 2


def test_the_owner_is_notified_of_the_new_lifecycle(api, cloud):
    inbox = queue_for(cloud, "team@example.com")
    lifecycle_id = create(api, cloud).json["lifecycle_id"]
    messages = boto3.client("sqs", region_name=REGION).receive_message(QueueUrl=inbox, MaxNumberOfMessages=10)
    [notification] = [json.loads(m["Body"]) for m in messages["Messages"]]
    assert notification["Subject"] == f"AMI_CREATION_POST event for {STACK_TAG}"
    assert notification["MessageAttributes"]["lifecycle_id"]["Value"] == lifecycle_id
    assert lifecycle_id in notification["Message"]


# ------------------------------------------------------------------ validation

@pytest.mark.parametrize("changes,field", [
    ({"owner": None}, "owner"),
    ({"stack_tag": "Feature/Login"}, "stack_tag"),
    ({"commit_ref": "main branch"}, "commit_ref"),
    ({"notifications": []}, "notifications"),
    ({"color": "blue"}, "color"),
    ({"product_ver": "v" * 129}, "product_ver"),
], ids=["missing-owner", "bad-stack-tag", "commit-ref-with-space", "no-notification", "unknown-field",
        "product-ver-too-long"])
def test_an_invalid_field_is_400_naming_it_and_nothing_happens(api, cloud, changes, field):
    answer = create(api, cloud, create_body(**changes))
    assert answer.status == 400
    assert answer.json["code"] == "VALIDATION_ERROR"
    assert answer.json["field"] == field
    assert field in answer.json["error"]
    assert stored_records(cloud) == [] and executions(cloud) == [] and email_subscriptions(cloud) == []


def test_an_event_selection_with_a_hole_is_400_listing_the_valid_selections(api, cloud):
    body = create_body()
    body["events"][1]["enabled"] = False
    answer = create(api, cloud, body)
    assert answer.status == 400
    assert answer.json["field"] == "events"
    assert "BUILD_AMI -> SMOKE_TESTS_AMI_CREATE" in " ".join(answer.json["allowed"])


def test_an_unknown_event_name_is_400_with_the_allowed_names(api, cloud):
    body = create_body()
    body["events"][0]["name"] = "AMI_BUILD"
    answer = create(api, cloud, body)
    assert answer.status == 400
    assert answer.json["field"] == "events[0].name"
    assert "BUILD_AMI" in answer.json["allowed"]


def test_a_body_that_is_not_json_is_400(api, cloud):
    answer = create(api, cloud, "{not json")
    assert answer.status == 400
    assert answer.json["code"] == "VALIDATION_ERROR"
    assert "request body" in answer.json["error"]


def test_a_body_that_is_not_an_object_is_400(api, cloud):
    assert create(api, cloud, [1, 2]).status == 400


def test_a_missing_body_is_400(api, cloud):
    key = cloud.keys["ami_creation_post_secret_name"]
    assert call(api, api_event("POST", CREATE, headers={"x-api-key": key})).status == 400


def test_a_base64_encoded_body_is_decoded(api, cloud):
    import base64

    event = api_event("POST", CREATE, headers={"x-api-key": cloud.keys["ami_creation_post_secret_name"]})
    event["body"] = base64.b64encode(json.dumps(create_body()).encode()).decode()
    event["isBase64Encoded"] = True
    assert call(api, event).status == 200


# ---------------------------------------------------------------- capabilities

def test_without_a_build_state_machine_creation_is_501_and_nothing_is_written(api, cloud, monkeypatch):
    monkeypatch.setenv("EVENT_STATE_MACHINES_JSON", "{}")
    api.reset_application()
    answer = create(api, cloud)
    assert answer.status == 501
    assert answer.json == {"error": "BUILD_AMI is not available in this deployment yet", "code": "NOT_IMPLEMENTED"}
    assert stored_records(cloud) == [] and email_subscriptions(cloud) == []


def test_a_build_that_cannot_start_is_500_and_the_lifecycle_shows_why(api, cloud, monkeypatch):
    missing = cloud.state_machine_arn.rsplit(":", 1)[0] + ":does-not-exist"
    monkeypatch.setenv("EVENT_STATE_MACHINES_JSON", json.dumps({"BUILD_AMI": missing}))
    api.reset_application()
    inbox = queue_for(cloud, "team@example.com")

    answer = create(api, cloud)

    assert answer.status == 500
    assert answer.json["code"] == "INTERNAL_ERROR"
    [record] = stored_records(cloud)
    assert record["lifecycle_id"] in answer.json["error"]
    assert record["event_in_progress"]["status"] == "ERROR"
    assert "StateMachineDoesNotExist" in record["event_in_progress"]["error_message"]
    messages = boto3.client("sqs", region_name=REGION).receive_message(QueueUrl=inbox, MaxNumberOfMessages=10)
    subjects = [json.loads(m["Body"])["Subject"] for m in messages["Messages"]]
    assert subjects == [f"ERROR in AMI_CREATION_POST event for {STACK_TAG}"]
