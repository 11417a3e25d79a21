"""EventBridge on the local cloud delivers what PutEvents puts to the
targets of every matching rule: Lambda functions (through the Lambda
runtime), Step Functions, SNS and SQS, with Input, InputPath and
InputTransformer honoured."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any

import pytest

from tests.local.polling import eventually

RECORDER = """import json, os
import boto3

def handler(event, context):
    boto3.client("sqs").send_message(QueueUrl=os.environ["RECORD_QUEUE_URL"], MessageBody=json.dumps(event))
    return {"recorded": True}
"""


@pytest.fixture(scope="module")
def events(local_cloud: Any) -> Any:
    return local_cloud.boto3_client("events")


@pytest.fixture(scope="module")
def sqs(local_cloud: Any) -> Any:
    return local_cloud.boto3_client("sqs")


def new_queue(sqs: Any) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=f"events-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def drain(sqs: Any, url: str) -> list[Any]:
    """Every message in the queue now (SQS targets are filled inside PutEvents)."""
    bodies = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def rule_to(events: Any, pattern: dict[str, Any], *targets: dict[str, Any], state: str = "ENABLED") -> str:
    name = f"rule-{uuid.uuid4().hex[:10]}"
    events.put_rule(Name=name, EventPattern=json.dumps(pattern), State=state)
    events.put_targets(Rule=name, Targets=[{"Id": f"t{i}", **target} for i, target in enumerate(targets)])
    return name


def put(events: Any, source: str, detail: dict[str, Any], detail_type: str = "Order Placed",
        resources: list[str] | None = None) -> None:
    entries = events.put_events(Entries=[{"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail),
                                          "Resources": resources or []}])
    assert entries["FailedEntryCount"] == 0


def recorder_function(local_cloud: Any, queue_url: str) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", RECORDER)
    iam = local_cloud.boto3_client("iam")
    role = iam.create_role(RoleName=f"recorder-{uuid.uuid4().hex[:8]}",
                           AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    return local_cloud.boto3_client("lambda").create_function(
        FunctionName=f"recorder-{uuid.uuid4().hex[:10]}", Runtime="python3.11", Role=role["Role"]["Arn"],
        Handler="index.handler", Code={"ZipFile": buffer.getvalue()}, Timeout=10,
        Environment={"Variables": {"RECORD_QUEUE_URL": queue_url}})["FunctionArn"]


def received(sqs: Any, url: str) -> list[Any]:
    return eventually(lambda: drain(sqs, url), what="a delivery to the queue")


def test_a_lambda_target_receives_the_event_as_eventbridge_sends_it(local_cloud, events, sqs):
    url, _ = new_queue(sqs)
    source = f"shop.{uuid.uuid4().hex[:6]}"
    rule_to(events, {"source": [source]}, {"Arn": recorder_function(local_cloud, url)})

    put(events, source, {"order": 42}, resources=["arn:aws:shop:::order/42"])

    [event] = received(sqs, url)
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources",
                          "detail"}
    assert (event["source"], event["detail-type"], event["detail"]) == (source, "Order Placed", {"order": 42})
    assert (event["account"], event["region"]) == (local_cloud.account_id, local_cloud.region)
    assert event["resources"] == ["arn:aws:shop:::order/42"]
    assert event["time"].endswith("Z") and "T" in event["time"]


@pytest.mark.parametrize(("pattern_detail", "matching", "other"), [
    ({"status": ["PAID"]}, {"status": "PAID"}, {"status": "OPEN"}),
    ({"sku": [{"prefix": "AMI-"}]}, {"sku": "AMI-7"}, {"sku": "VM-7"}),
    ({"status": [{"anything-but": ["CANCELLED"]}]}, {"status": "PAID"}, {"status": "CANCELLED"}),
    ({"total": [{"numeric": [">", 100, "<=", 500]}]}, {"total": 250}, {"total": 50}),
    ({"coupon": [{"exists": False}]}, {"total": 1}, {"coupon": "X"}),
])
def test_only_events_matching_the_pattern_are_delivered(events, sqs, pattern_detail, matching, other):
    url, arn = new_queue(sqs)
    source = f"shop.{uuid.uuid4().hex[:6]}"
    rule_to(events, {"source": [source], "detail": pattern_detail}, {"Arn": arn})

    put(events, source, other)
    put(events, source, matching)

    assert [body["detail"] for body in drain(sqs, url)] == [matching]


def test_a_disabled_rule_delivers_nothing(events, sqs):
    url, arn = new_queue(sqs)
    source = f"shop.{uuid.uuid4().hex[:6]}"
    rule_to(events, {"source": [source]}, {"Arn": arn}, state="DISABLED")

    put(events, source, {"order": 1})

    assert drain(sqs, url) == []


def test_input_replaces_the_event_with_a_constant(events, sqs):
    url, arn = new_queue(sqs)
    source = f"shop.{uuid.uuid4().hex[:6]}"
    rule_to(events, {"source": [source]}, {"Arn": arn, "Input": json.dumps({"fixed": True})})

    put(events, source, {"order": 1})

    assert drain(sqs, url) == [{"fixed": True}]


def test_input_path_selects_part_of_the_event(events, sqs):
    url, arn = new_queue(sqs)
    source = f"shop.{uuid.uuid4().hex[:6]}"
    rule_to(events, {"source": [source]}, {"Arn": arn, "InputPath": "$.detail.order"})

    put(events, source, {"order": {"id": 7, "lines": 2}})

    assert drain(sqs, url) == [{"id": 7, "lines": 2}]


def test_input_transformer_fills_its_template(events, sqs):
    url, arn = new_queue(sqs)
    source = f"shop.{uuid.uuid4().hex[:6]}"
    rule_to(events, {"source": [source]}, {"Arn": arn, "InputTransformer": {
        "InputPathsMap": {"instance": "$.detail.instance-id", "counts": "$.detail.counts"},
        "InputTemplate": '{"instance_id": "<instance>", "counts": <counts>, "about": "scan of <instance>"}'}})

    put(events, source, {"instance-id": "i-0abc", "counts": {"HIGH": 2}})

    assert drain(sqs, url) == [{"instance_id": "i-0abc", "counts": {"HIGH": 2}, "about": "scan of i-0abc"}]


def test_a_step_functions_target_starts_an_execution_with_the_event(local_cloud, events):
    sfn = local_cloud.boto3_client("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"events-{uuid.uuid4().hex[:10]}", roleArn="arn:aws:iam::123456789012:role/events",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}))
    source = f"shop.{uuid.uuid4().hex[:6]}"
    rule_to(events, {"source": [source]}, {"Arn": machine["stateMachineArn"], "RoleArn": "arn:aws:iam::123456789012:role/events"})

    put(events, source, {"order": 9})

    [execution] = sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
    described = eventually(lambda: (lambda d: d if d["status"] == "SUCCEEDED" else None)(
        sfn.describe_execution(executionArn=execution["executionArn"])), what="the execution's end")
    assert json.loads(described["output"])["detail"] == {"order": 9}


def test_an_sns_target_publishes_the_event(local_cloud, events, sqs):
    sns = local_cloud.boto3_client("sns")
    topic = sns.create_topic(Name=f"events-{uuid.uuid4().hex[:10]}")["TopicArn"]
    url, arn = new_queue(sqs)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    source = f"shop.{uuid.uuid4().hex[:6]}"
    rule_to(events, {"source": [source]}, {"Arn": topic})

    put(events, source, {"order": 3})

    assert [body["detail"] for body in drain(sqs, url)] == [{"order": 3}]
