"""The route table: every documented route is served, later capabilities answer 501,
timeline pages are HTML, and unexpected failures answer a bare 500."""

from __future__ import annotations

import json

import boto3
import pytest

from orchestrator.handlers.api import ROUTES
from stacks.amilifecycle.api import load_openapi, operations

from .conftest import REGION, STACK_TAG, api_event, call, create_body

LIFECYCLE_ID = "3f0c2a56-8a47-4c1e-9d5b-2f4e8c7a1b90"
NOT_YET = [
    ("POST", "/ami-creation/lifecycles/{lifecycle-id}/certify", "ami_creation_qa_certification_secret_name"),
    ("POST", "/ami-creation/lifecycles/{lifecycle-id}/approve", "ami_creation_mark_for_production_secret_name"),
    ("POST", "/ami-patch/lifecycles", "ami_patch_post_secret_name"),
    ("PUT", "/ami-patch/lifecycles", "ami_patch_put_secret_name"),
    ("POST", "/ami-patch/lifecycles/{lifecycle-id}/approve", "ami_patch_mark_for_production_secret_name"),
]


def event(method, resource, **kwargs):
    parameters = {"lifecycle-id": LIFECYCLE_ID} if "{lifecycle-id}" in resource else None
    return api_event(method, resource, path_parameters=parameters, **kwargs)


def create(api, cloud) -> str:
    answer = call(api, api_event("POST", "/ami-creation/lifecycles", body=create_body(),
                                 headers={"x-api-key": cloud.keys["ami_creation_post_secret_name"]}))
    return answer.json["lifecycle_id"]


# ------------------------------------------------------------------ the table

def test_the_handler_serves_exactly_the_documented_operations_with_their_keys():
    documented = {(op.method, op.path): (op.operation_id, op.api_key_setting) for op in operations(load_openapi())}
    served = {key: (route.operation_id, route.key_setting) for key, route in ROUTES.items()}
    assert served == documented


def test_every_key_setting_of_the_table_is_a_configured_key(settings):
    assert {route.key_setting for route in ROUTES.values()} <= set(settings.lifecycle.api.all_key_names)


# ----------------------------------------------------------------- later routes

@pytest.mark.parametrize("method,resource,setting", NOT_YET, ids=[f"{m} {r}" for m, r, _ in NOT_YET])
def test_routes_of_later_capabilities_answer_501_once_authenticated(api, cloud, method, resource, setting):
    answer = call(api, event(method, resource, body={"stack_tag": STACK_TAG},
                             headers={"x-api-key": cloud.keys[setting]}))
    assert answer.status == 501
    assert answer.json["code"] == "NOT_IMPLEMENTED"
    assert answer.json["error"].endswith("is not available yet")


@pytest.mark.parametrize("method,resource,setting", NOT_YET, ids=[f"{m} {r}" for m, r, _ in NOT_YET])
def test_routes_of_later_capabilities_still_require_their_key(api, method, resource, setting):
    assert call(api, event(method, resource, body={})).status == 401
    assert call(api, event(method, resource, body={}, headers={"x-api-key": "wrong"})).status == 403


def test_an_undocumented_route_is_404(api, cloud):
    answer = call(api, api_event("DELETE", "/ami-creation/lifecycles",
                                 headers={"x-api-key": cloud.keys["ami_creation_post_secret_name"]}))
    assert answer.status == 404
    assert answer.json["code"] == "NOT_FOUND"


# ------------------------------------------------------------------- timeline

@pytest.mark.parametrize("resource,setting,title", [
    ("/ami-creation/lifecycles/{lifecycle-id}/timeline", "ami_creation_timeline_secret_name", "AMI Creation Timeline"),
    ("/ami-patch/lifecycles/{lifecycle-id}/timeline", "ami_patch_timeline_secret_name", "AMI Patch Timeline"),
], ids=["creation", "patch"])
def test_the_timeline_is_an_html_page_of_the_lifecycle(api, cloud, resource, setting, title):
    lifecycle_id = create(api, cloud)
    answer = call(api, api_event("GET", resource, path_parameters={"lifecycle-id": lifecycle_id},
                                 query={"api_key": cloud.keys[setting]}))
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert f"{title} - {lifecycle_id}" in answer.text
    assert cloud.keys[setting] not in answer.text


def test_the_timeline_of_an_unknown_lifecycle_is_a_json_404(api, cloud):
    answer = call(api, event("GET", "/ami-creation/lifecycles/{lifecycle-id}/timeline",
                             headers={"x-api-key": cloud.keys["ami_creation_timeline_secret_name"]}))
    assert answer.status == 404
    assert answer.headers["Content-Type"] == "application/json"


def test_the_timeline_shows_the_stack_tags_newest_version(api, cloud):
    lifecycle_id = create(api, cloud)
    boto3.client("dynamodb", region_name=REGION).put_item(TableName=cloud.lookup_table, Item={
        "lookup_id": {"S": "us-east-1#ami-0123456789abcdef0"}, "stack_tag": {"S": STACK_TAG},
        "ami_semver": {"S": "7.0.0"}, "semver_sort_key": {"S": "000007.000000.000000~"}})
    answer = call(api, api_event("GET", "/ami-creation/lifecycles/{lifecycle-id}/timeline",
                                 path_parameters={"lifecycle-id": lifecycle_id},
                                 headers={"x-api-key": cloud.keys["ami_creation_timeline_secret_name"]}))
    assert "7.0.0" in answer.text


# ---------------------------------------------------------------- the unexpected

def test_an_unexpected_failure_is_a_bare_500_with_the_request_id_and_an_error_notification(api, cloud, monkeypatch):
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="everything")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=REGION).subscribe(TopicArn=cloud.topic_arn, Protocol="sqs", Endpoint=arn)
    service = api.application().lifecycles

    def broken(*_args, **_kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(service.repository, "get", broken)
    answer = call(api, event("GET", "/ami-creation/lifecycles/{lifecycle-id}/status",
                             headers={"x-api-key": cloud.keys["ami_creation_status_secret_name"]},
                             request_id="req-1234"))

    assert answer.status == 500
    assert answer.json == {"error": "an internal error occurred; request id req-1234", "code": "INTERNAL_ERROR"}
    [notification] = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=queue)["Messages"]]
    assert notification["Subject"] == f"ERROR in AMI_LIFECYCLE_STATUS_BY_LIFECYCLE_ID event for {STACK_TAG}"
    assert "hunter2" not in notification["Message"]
    assert "RuntimeError" in notification["Message"]
