"""Status routes: one lifecycle, pages of a stack tag, timeout flags, timeline links."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from orchestrator.adapters.notifier import filter_policy
from orchestrator.adapters.state_repository import StateRepository

from .conftest import API_HOST, REGION, STACK_TAG, api_event, call, create_body

STATUS = "/ami-creation/lifecycles/{lifecycle-id}/status"
PATCH_STATUS = "/ami-patch/lifecycles/{lifecycle-id}/status"
LIST = "/ami-creation/lifecycles/status"
UNKNOWN_ID = "3f0c2a56-8a47-4c1e-9d5b-2f4e8c7a1b90"


def create(api, cloud, **changes) -> str:
    answer = call(api, api_event("POST", "/ami-creation/lifecycles", body=create_body(**changes),
                                 headers={"x-api-key": cloud.keys["ami_creation_post_secret_name"]}))
    assert answer.status == 200, answer.text
    return answer.json["lifecycle_id"]


def status(api, cloud, lifecycle_id: str, resource: str = STATUS, **kwargs):
    headers = {"x-api-key": cloud.keys["ami_creation_status_secret_name"], **kwargs.pop("headers", {})}
    return call(api, api_event("GET", resource, path_parameters={"lifecycle-id": lifecycle_id}, headers=headers,
                               **kwargs))


def listing(api, cloud, resource: str = LIST, **query):
    return call(api, api_event("GET", resource, query=query,
                               headers={"x-api-key": cloud.keys["ami_creation_status_secret_name"]}))


def set_started(cloud, lifecycle_id: str, when: datetime) -> None:
    repository = StateRepository(cloud.state_table)

    def backdate(record):
        record["event_in_progress"]["execution_startdate"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        return record

    repository.update(lifecycle_id, backdate)


def inbox(cloud, address: str = "team@example.com") -> str:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="status-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=REGION).subscribe(
        TopicArn=cloud.topic_arn, Protocol="sqs", Endpoint=arn,
        Attributes={"FilterPolicy": json.dumps(filter_policy(address)), "FilterPolicyScope": "MessageAttributes"})
    return url


def subjects(queue_url: str) -> list[str]:
    messages = boto3.client("sqs", region_name=REGION).receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"])["Subject"] for m in messages.get("Messages", [])]


# ---------------------------------------------------------------- one lifecycle

def test_the_status_of_a_lifecycle_is_its_public_record(api, cloud):
    lifecycle_id = create(api, cloud)
    answer = status(api, cloud, lifecycle_id)
    assert answer.status == 200
    body = answer.json
    assert body["lifecycle_id"] == lifecycle_id
    assert body["event_in_progress"]["name"] == "BUILD_AMI"
    assert body["inputs_ami_creation"]["events"][0] == {"name": "BUILD_AMI", "enabled": True}
    assert "version" not in body


def test_an_unknown_lifecycle_is_404_never_500(api, cloud):
    answer = status(api, cloud, UNKNOWN_ID)
    assert answer.status == 404
    assert answer.json == {"error": f"lifecycle {UNKNOWN_ID}: not found", "code": "NOT_FOUND",
                           "field": "lifecycle_id"}


def test_a_lifecycle_id_that_is_not_a_uuid_is_400_naming_the_path_parameter(api, cloud):
    answer = status(api, cloud, "not-a-uuid")
    assert answer.status == 400
    assert answer.json["field"] == "lifecycle-id"


def test_the_status_links_the_timeline_pages_from_the_requests_own_address(api, cloud):
    lifecycle_id = create(api, cloud)
    body = status(api, cloud, lifecycle_id).json
    expected = f"https://{API_HOST}/dev/ami-creation/lifecycles/{lifecycle_id}/timeline"
    assert body["timeline_url"] == expected
    assert body["timeline"] == {"ami_creation": expected}


def test_the_patch_status_route_links_the_patch_timeline(api, cloud):
    lifecycle_id = create(api, cloud)
    body = status(api, cloud, lifecycle_id, PATCH_STATUS).json
    assert body["timeline_url"] == f"https://{API_HOST}/dev/ami-patch/lifecycles/{lifecycle_id}/timeline"


def test_timeline_links_follow_a_custom_domain_base_path(api, cloud):
    lifecycle_id = create(api, cloud)
    event = api_event("GET", STATUS, path_parameters={"lifecycle-id": lifecycle_id}, host="ami.example.com",
                      headers={"x-api-key": cloud.keys["ami_creation_status_secret_name"]})
    event["requestContext"]["path"] = f"/v1/ami-creation/lifecycles/{lifecycle_id}/status"
    body = call(api, event).json
    assert body["timeline_url"] == f"https://ami.example.com/v1/ami-creation/lifecycles/{lifecycle_id}/timeline"


def test_timeline_links_on_the_local_cloud_keep_its_scheme_and_port(api, cloud):
    lifecycle_id = create(api, cloud)
    body = status(api, cloud, lifecycle_id, host="127.0.0.1:4566", headers={"X-Forwarded-Proto": "http"}).json
    assert body["timeline_url"] == f"http://127.0.0.1:4566/dev/ami-creation/lifecycles/{lifecycle_id}/timeline"


def test_a_status_never_shows_a_key_even_when_the_record_holds_one(api, cloud):
    lifecycle_id = create(api, cloud)
    secret = cloud.keys["ami_creation_receiver_secret_name"]

    def legacy_contents(record):
        record["timeline"] = {"ami_creation": f"https://old.example.com/timeline?api_key={secret}"}
        record["outputs_ami_creation"] = {"events": [{"name": "BUILD_AMI", "status": "COMPLETED",
                                                      "status_date": "2026-11-23T10:00:00Z", "api_key": secret,
                                                      "properties": {"task_token": secret}}]}
        record["event_in_progress"]["statemachine_input"] = json.dumps({"api_key": secret, "lifecycle_id": "x"})
        return record

    StateRepository(cloud.state_table).update(lifecycle_id, legacy_contents)
    answer = status(api, cloud, lifecycle_id)
    assert answer.status == 200
    assert all(value not in answer.text for value in cloud.keys.values())


# ------------------------------------------------------------------- timeouts

def test_an_event_running_past_the_maximum_wait_is_flagged_and_the_flag_is_persisted(api, cloud):
    lifecycle_id = create(api, cloud)
    set_started(cloud, lifecycle_id, datetime.now(timezone.utc) - timedelta(hours=5))
    version_before = StateRepository(cloud.state_table).get(lifecycle_id)["version"]

    body = status(api, cloud, lifecycle_id).json

    assert body["event_in_progress"]["status"] == "ERROR_EVENT_TIMEOUT"
    assert "240 minutes" in body["event_in_progress"]["error_message"]
    stored = StateRepository(cloud.state_table).get(lifecycle_id)
    assert stored["event_in_progress"]["status"] == "ERROR_EVENT_TIMEOUT"
    assert stored["version"] == version_before + 1


def test_the_owner_is_told_about_a_timeout_once(api, cloud):
    lifecycle_id = create(api, cloud)
    set_started(cloud, lifecycle_id, datetime.now(timezone.utc) - timedelta(hours=5))
    queue = inbox(cloud)
    status(api, cloud, lifecycle_id)
    status(api, cloud, lifecycle_id)
    assert subjects(queue) == [f"ERROR in AMI_LIFECYCLE_STATUS_BY_LIFECYCLE_ID event for {STACK_TAG}"]


def test_an_event_within_the_maximum_wait_is_left_alone(api, cloud):
    lifecycle_id = create(api, cloud)
    version_before = StateRepository(cloud.state_table).get(lifecycle_id)["version"]
    assert status(api, cloud, lifecycle_id).json["event_in_progress"]["status"] == "IN_PROGRESS"
    assert StateRepository(cloud.state_table).get(lifecycle_id)["version"] == version_before


def test_flagging_a_timeout_never_overwrites_a_concurrent_update(api, cloud):
    lifecycle_id = create(api, cloud)
    set_started(cloud, lifecycle_id, datetime.now(timezone.utc) - timedelta(hours=5))
    repository = api.application().lifecycles.repository
    real_save = repository.save
    raced = []

    def save_after_a_receiver(record, *, expected_version):
        if not raced:  # a receiver writes between the status read and its write
            raced.append(True)
            other = StateRepository(cloud.state_table)
            current = other.get(lifecycle_id)
            other.save({**current, "properties": {"receiver": "was here"}}, expected_version=current["version"])
        return real_save(record, expected_version=expected_version)

    repository.save = save_after_a_receiver
    body = status(api, cloud, lifecycle_id).json
    stored = StateRepository(cloud.state_table).get(lifecycle_id)
    assert stored["properties"] == {"receiver": "was here"}
    assert stored["event_in_progress"]["status"] == "ERROR_EVENT_TIMEOUT"
    assert body["properties"] == {"receiver": "was here"}


# ----------------------------------------------------------------------- lists

def test_a_stack_tags_lifecycles_are_listed_newest_first_in_pages(api, cloud, monkeypatch):
    service = api.application().lifecycles
    moments = iter(datetime(2026, 11, 23, 10, minute, tzinfo=timezone.utc) for minute in range(3))
    monkeypatch.setattr(service, "clock", lambda: next(moments))
    ids = [create(api, cloud) for _ in range(3)]
    monkeypatch.setattr(service, "clock", lambda: datetime(2026, 11, 23, 11, 0, tzinfo=timezone.utc))

    first = listing(api, cloud, stack_tag=STACK_TAG, limit="2").json
    second = listing(api, cloud, stack_tag=STACK_TAG, limit="2", next_token=first["next_token"]).json

    assert [item["lifecycle_id"] for item in first["items"]] == [ids[2], ids[1]]
    assert [item["lifecycle_id"] for item in second["items"]] == [ids[0]]
    assert "next_token" not in second or listing(
        api, cloud, stack_tag=STACK_TAG, next_token=second["next_token"]).json["items"] == []
    assert first["items"][0]["timeline_url"].endswith(f"/ami-creation/lifecycles/{ids[2]}/timeline")


def test_a_list_holds_only_the_requested_stack_tag(api, cloud):
    create(api, cloud)
    other = create(api, cloud, stack_tag="feature-x")
    items = listing(api, cloud, stack_tag="feature-x").json["items"]
    assert [item["lifecycle_id"] for item in items] == [other]


def test_the_patch_list_route_lists_the_same_lifecycles(api, cloud):
    lifecycle_id = create(api, cloud)
    body = listing(api, cloud, "/ami-patch/lifecycles/status", stack_tag=STACK_TAG).json
    assert [item["lifecycle_id"] for item in body["items"]] == [lifecycle_id]
    assert body["items"][0]["timeline_url"].endswith(f"/ami-patch/lifecycles/{lifecycle_id}/timeline")


def test_an_empty_stack_tag_answers_an_empty_last_page(api, cloud):
    assert listing(api, cloud, stack_tag="nothing-here").json == {"items": []}


def test_without_a_stack_tag_every_lifecycle_is_listed_newest_first_in_pages(api, cloud, monkeypatch):
    service = api.application().lifecycles
    moments = iter(datetime(2026, 11, 23, 10, minute, tzinfo=timezone.utc) for minute in range(3))
    monkeypatch.setattr(service, "clock", lambda: next(moments))
    ids = [create(api, cloud, stack_tag=tag) for tag in ("main", "feature-x", "main")]
    monkeypatch.setattr(service, "clock", lambda: datetime(2026, 11, 23, 11, 0, tzinfo=timezone.utc))

    first = listing(api, cloud, limit="2")
    second = listing(api, cloud, "/ami-patch/lifecycles/status", limit="2", next_token=first.json["next_token"])

    assert first.status == 200, first.text
    assert [item["lifecycle_id"] for item in first.json["items"]] == [ids[2], ids[1]]
    assert [item["lifecycle_id"] for item in second.json["items"]] == [ids[0]]
    assert "next_token" not in second.json or listing(
        api, cloud, next_token=second.json["next_token"]).json["items"] == []


def test_the_original_clients_list_request_with_only_the_legacy_key_is_answered(api, cloud):
    lifecycle_id = create(api, cloud)
    answer = call(api, api_event("GET", LIST, query={"api_key": cloud.keys["ami_creation_status_secret_name"]}))
    assert answer.status == 200, answer.text
    assert [item["lifecycle_id"] for item in answer.json["items"]] == [lifecycle_id]


def test_a_page_token_of_a_stack_tag_listing_is_400_without_the_stack_tag(api, cloud):
    for _ in range(2):
        create(api, cloud)
    token = listing(api, cloud, stack_tag=STACK_TAG, limit="1").json["next_token"]
    answer = listing(api, cloud, next_token=token)
    assert answer.status == 400
    assert answer.json["field"] == "next_token"


@pytest.mark.parametrize("query,field", [
    ({"stack_tag": "Main Branch"}, "stack_tag"),
    ({"stack_tag": STACK_TAG, "limit": "0"}, "limit"),
    ({"stack_tag": STACK_TAG, "limit": "101"}, "limit"),
    ({"stack_tag": STACK_TAG, "next_token": "garbage!"}, "next_token"),
], ids=["bad-stack-tag", "limit-zero", "limit-too-high", "bad-token"])
def test_an_invalid_list_query_is_400_naming_the_parameter(api, cloud, query, field):
    answer = listing(api, cloud, **query)
    assert answer.status == 400
    assert answer.json["field"] == field


def test_a_page_token_of_another_stack_tag_is_400(api, cloud):
    for _ in range(2):
        create(api, cloud, stack_tag="feature-x")
    token = listing(api, cloud, stack_tag="feature-x", limit="1").json["next_token"]
    answer = listing(api, cloud, stack_tag=STACK_TAG, next_token=token)
    assert answer.status == 400
    assert answer.json["field"] == "next_token"


def test_a_timed_out_event_is_flagged_in_lists_too(api, cloud):
    lifecycle_id = create(api, cloud)
    set_started(cloud, lifecycle_id, datetime.now(timezone.utc) - timedelta(hours=5))
    [item] = listing(api, cloud, stack_tag=STACK_TAG).json["items"]
    assert item["event_in_progress"]["status"] == "ERROR_EVENT_TIMEOUT"
    assert StateRepository(cloud.state_table).get(lifecycle_id)["event_in_progress"]["status"] == \
        "ERROR_EVENT_TIMEOUT"
