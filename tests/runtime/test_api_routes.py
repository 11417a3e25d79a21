"""The routes: every documented operation is served behind its own key through the action of its
operationId, later capabilities answer 501, timeline pages are HTML, and unexpected failures
answer a bare 500."""

from __future__ import annotations

import json

import boto3
import pytest

from orchestrator.handlers.api import ACTIONS, RouteDeclarationError, build_resolver
from stacks.amilifecycle.api import load_openapi, operations

from .conftest import REGION, STACK_TAG, api_event, call, create_body

LIFECYCLE_ID = "3f0c2a56-8a47-4c1e-9d5b-2f4e8c7a1b90"


def event(method, resource, **kwargs):
    parameters = {"lifecycle-id": LIFECYCLE_ID} if "{lifecycle-id}" in resource else None
    return api_event(method, resource, path_parameters=parameters, **kwargs)


def create(api, cloud) -> str:
    answer = call(api, api_event("POST", "/ami-creation/lifecycles", body=create_body(),
                                 headers={"x-api-key": cloud.keys["ami_creation_post_secret_name"]}))
    return answer.json["lifecycle_id"]


# ------------------------------------------------------------ the declaration

OPERATIONS = list(operations(load_openapi()))


def test_every_operation_id_has_an_action_and_every_action_an_operation_id():
    assert set(ACTIONS) == {op.operation_id for op in OPERATIONS}
    assert len(OPERATIONS) == len(ACTIONS)


def test_an_operation_without_an_action_stops_the_function_from_starting():
    actions = {name: action for name, action in ACTIONS.items() if name != "certify_ami_lifecycle"}
    with pytest.raises(RouteDeclarationError, match=r"\(certify_ami_lifecycle\): no action"):
        build_resolver(OPERATIONS, actions)


def test_an_action_without_an_operation_stops_the_function_from_starting():
    actions = {**ACTIONS, "retire_ami_lifecycle": ACTIONS["get_ami_creation_lifecycle_status"]}
    with pytest.raises(RouteDeclarationError, match="action retire_ami_lifecycle: no operation has this operationId"):
        build_resolver(OPERATIONS, actions)


def test_an_operation_naming_an_unknown_operator_stops_the_function_from_starting():
    [first, *others] = OPERATIONS
    renamed = type(first)(first.method, first.path, first.operation_id, first.api_key_setting, "AMI_CREATION_GET")
    with pytest.raises(RouteDeclarationError, match="x-ami-lifecycle-operator 'AMI_CREATION_GET' is not one of"):
        build_resolver([renamed, *others], ACTIONS)


@pytest.mark.parametrize("lifecycle_id", ['a"b', "a\\b", "a`b", "abc"], ids=["quote", "backslash", "backtick", "word"])
def test_a_path_parameter_is_any_one_segment_as_api_gateway_matched_it(api, cloud, lifecycle_id):
    answer = call(api, api_event("GET", "/ami-creation/lifecycles/{lifecycle-id}/status",
                                 path_parameters={"lifecycle-id": lifecycle_id},
                                 headers={"x-api-key": cloud.keys["ami_creation_status_secret_name"]}))
    assert answer.status == 400
    assert answer.json["field"] == "lifecycle-id"


def test_a_path_parameter_never_spans_segments(api, cloud):
    answer = call(api, api_event("GET", "/ami-creation/lifecycles/{lifecycle-id}/status",
                                 path_parameters={"lifecycle-id": "a/b"},
                                 headers={"x-api-key": cloud.keys["ami_creation_status_secret_name"]}))
    assert answer.status == 404
    assert answer.json["error"].startswith("no route GET")


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.operation_id for op in OPERATIONS])
def test_every_documented_operation_is_served_behind_its_own_key(api, cloud, operation):
    other_setting = next(setting for setting in cloud.keys if setting != operation.api_key_setting)
    assert call(api, event(operation.method, operation.path, body={})).status == 401
    assert call(api, event(operation.method, operation.path, body={},
                           headers={"x-api-key": cloud.keys[other_setting]})).status == 403
    answer = call(api, event(operation.method, operation.path, body={},
                             headers={"x-api-key": cloud.keys[operation.api_key_setting]}))
    assert answer.status not in (401, 403)
    assert not answer.text.startswith('{"error": "no route')


def test_every_key_setting_of_the_document_is_a_configured_key(settings):
    assert {op.api_key_setting for op in OPERATIONS} <= set(settings.lifecycle.api.all_key_names)


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
