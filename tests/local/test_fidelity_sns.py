"""SNS deliveries on the local cloud carry what was published, as on AWS:
message attributes reach Lambda subscribers (``Sns.MessageAttributes``),
raw SQS deliveries (as SQS message attributes) and non-raw ones (in the
notification envelope), and filter policies select on them."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from functools import partial
from typing import Any

import pytest

from tests.local.polling import eventually


# Polling with this module's own pace.
eventually = partial(eventually, interval=0.1)

# Forwards each event it receives to the queue named in its environment.
FORWARDER = """\
import json
import os

import boto3


def handler(event, context):
    boto3.client("sqs").send_message(QueueUrl=os.environ["OUT_QUEUE_URL"], MessageBody=json.dumps(event))
"""

PUBLISHED_ATTRIBUTES = {
    "kind": {"DataType": "String", "StringValue": "image-build"},
    "attempt": {"DataType": "Number", "StringValue": "3"},
    "regions": {"DataType": "String.Array", "StringValue": '["us-east-1", "eu-west-1"]'},
    "digest": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe\xff"},
}
DIGEST_BASE64 = "AAH+/w=="


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def sns(local_cloud: Any) -> Any:
    return local_cloud.boto3_client("sns")


@pytest.fixture(scope="module")
def sqs(local_cloud: Any) -> Any:
    return local_cloud.boto3_client("sqs")


@pytest.fixture
def topic(sns: Any) -> str:
    return sns.create_topic(Name=unique("fidelity-topic"))["TopicArn"]


def new_queue(sqs: Any) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=unique("fidelity-queue"))["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def subscribed_queue(sns: Any, sqs: Any, topic: str, **attributes: str) -> str:
    url, arn = new_queue(sqs)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes=attributes)
    return url


def received(sqs: Any, queue_url: str) -> dict[str, Any]:
    messages = eventually(lambda: sqs.receive_message(QueueUrl=queue_url, MessageAttributeNames=["All"],
                                                      WaitTimeSeconds=1).get("Messages"),
                          what=f"a message in {queue_url}")
    return messages[0]


def nothing_in(sqs: Any, queue_url: str, seconds: float = 1.0) -> bool:
    return not sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=int(seconds)).get("Messages")


# -- Lambda subscribers ---------------------------------------------------------


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def forwarder(local_cloud: Any, sqs: Any) -> dict[str, str]:
    """A Lambda function that forwards its SNS events to a queue."""
    out_url, _ = new_queue(sqs)
    name = unique("fidelity-forwarder")
    role = local_cloud.boto3_client("iam").create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
    )["Role"]["Arn"]
    arn = local_cloud.boto3_client("lambda").create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="index.handler", Timeout=30,
        Code={"ZipFile": _zip({"index.py": FORWARDER})}, Environment={"Variables": {"OUT_QUEUE_URL": out_url}},
    )["FunctionArn"]
    return {"arn": arn, "out_queue_url": out_url}


def lambda_record(sns: Any, sqs: Any, topic: str, forwarder: dict[str, str], **publish: Any) -> tuple[dict, str]:
    """(the Sns part of the record the function received, the MessageId Publish returned)."""
    subscription = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=forwarder["arn"])["SubscriptionArn"]
    try:
        message_id = sns.publish(TopicArn=topic, **publish)["MessageId"]
        while True:
            message = received(sqs, forwarder["out_queue_url"])
            sqs.delete_message(QueueUrl=forwarder["out_queue_url"], ReceiptHandle=message["ReceiptHandle"])
            record = json.loads(message["Body"])["Records"][0]
            if record["Sns"]["TopicArn"] == topic:
                return record, message_id
    finally:
        sns.unsubscribe(SubscriptionArn=subscription)


def test_lambda_subscriber_receives_the_message_attributes_as_type_and_value(sns, sqs, topic, forwarder):
    record, _ = lambda_record(sns, sqs, topic, forwarder, Message="built", MessageAttributes=PUBLISHED_ATTRIBUTES)

    assert record["Sns"]["MessageAttributes"] == {
        "kind": {"Type": "String", "Value": "image-build"},
        "attempt": {"Type": "Number", "Value": "3"},
        "regions": {"Type": "String.Array", "Value": '["us-east-1", "eu-west-1"]'},
        "digest": {"Type": "Binary", "Value": DIGEST_BASE64},
    }


def test_lambda_subscriber_receives_no_attributes_when_none_were_published(sns, sqs, topic, forwarder):
    record, _ = lambda_record(sns, sqs, topic, forwarder, Message="plain")

    assert record["Sns"]["MessageAttributes"] == {}


def test_lambda_record_carries_the_message_id_publish_returned(sns, sqs, topic, forwarder):
    record, message_id = lambda_record(sns, sqs, topic, forwarder, Message="built", Subject="Build")

    assert record["Sns"]["MessageId"] == message_id
    assert record["Sns"]["Message"] == "built"
    assert record["Sns"]["Subject"] == "Build"
    assert record["EventSubscriptionArn"].startswith(topic + ":")


# -- SQS subscribers -------------------------------------------------------------


def test_raw_sqs_delivery_keeps_the_attributes_as_sqs_message_attributes(sns, sqs, topic):
    queue = subscribed_queue(sns, sqs, topic, RawMessageDelivery="true")

    sns.publish(TopicArn=topic, Message="built", MessageAttributes=PUBLISHED_ATTRIBUTES)

    message = received(sqs, queue)
    assert message["Body"] == "built"
    assert message["MessageAttributes"] == {
        "kind": {"DataType": "String", "StringValue": "image-build"},
        "attempt": {"DataType": "Number", "StringValue": "3"},
        "regions": {"DataType": "String.Array", "StringValue": '["us-east-1", "eu-west-1"]'},
        "digest": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe\xff"},
    }


def test_non_raw_sqs_delivery_carries_the_attributes_in_the_envelope(sns, sqs, topic):
    queue = subscribed_queue(sns, sqs, topic)

    message_id = sns.publish(TopicArn=topic, Message="built", MessageAttributes=PUBLISHED_ATTRIBUTES)["MessageId"]

    message = received(sqs, queue)
    envelope = json.loads(message["Body"])
    assert "MessageAttributes" not in message
    assert (envelope["Type"], envelope["MessageId"], envelope["Message"]) == ("Notification", message_id, "built")
    assert envelope["MessageAttributes"] == {
        "kind": {"Type": "String", "Value": "image-build"},
        "attempt": {"Type": "Number", "Value": "3"},
        "regions": {"Type": "String.Array", "Value": '["us-east-1", "eu-west-1"]'},
        "digest": {"Type": "Binary", "Value": DIGEST_BASE64},
    }


def test_raw_delivery_turned_off_delivers_the_envelope(sns, sqs, topic):
    queue = subscribed_queue(sns, sqs, topic, RawMessageDelivery="false")

    sns.publish(TopicArn=topic, Message="built")

    assert json.loads(received(sqs, queue)["Body"])["Message"] == "built"


# -- filter policies ---------------------------------------------------------------


def test_filter_policy_on_message_attributes_delivers_only_matching_messages(sns, sqs, topic):
    queue = subscribed_queue(sns, sqs, topic, RawMessageDelivery="true", FilterPolicyScope="MessageAttributes",
                             FilterPolicy=json.dumps({"kind": ["image-build"], "attempt": [{"numeric": [">", 2]}]}))

    sns.publish(TopicArn=topic, Message="other kind",
                MessageAttributes={"kind": {"DataType": "String", "StringValue": "patch"},
                                   "attempt": {"DataType": "Number", "StringValue": "5"}})
    sns.publish(TopicArn=topic, Message="too early",
                MessageAttributes={"kind": {"DataType": "String", "StringValue": "image-build"},
                                   "attempt": {"DataType": "Number", "StringValue": "1"}})
    sns.publish(TopicArn=topic, Message="no attributes")
    sns.publish(TopicArn=topic, Message="wanted", MessageAttributes=PUBLISHED_ATTRIBUTES)

    message = received(sqs, queue)
    assert message["Body"] == "wanted"
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert nothing_in(sqs, queue)


def test_filter_policy_on_a_string_array_attribute_matches_any_of_its_values(sns, sqs, topic):
    queue = subscribed_queue(sns, sqs, topic, RawMessageDelivery="true",
                             FilterPolicy=json.dumps({"regions": ["eu-west-1"]}))

    sns.publish(TopicArn=topic, Message="elsewhere",
                MessageAttributes={"regions": {"DataType": "String.Array", "StringValue": '["ap-south-1"]'}})
    sns.publish(TopicArn=topic, Message="wanted", MessageAttributes=PUBLISHED_ATTRIBUTES)

    message = received(sqs, queue)
    assert message["Body"] == "wanted"
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert nothing_in(sqs, queue)


def test_filter_policy_on_message_attributes_selects_lambda_deliveries_too(sns, sqs, topic, forwarder):
    subscription = sns.subscribe(
        TopicArn=topic, Protocol="lambda", Endpoint=forwarder["arn"],
        Attributes={"FilterPolicyScope": "MessageAttributes", "FilterPolicy": json.dumps({"kind": ["image-build"]})},
    )["SubscriptionArn"]
    try:
        sns.publish(TopicArn=topic, Message="skipped",
                    MessageAttributes={"kind": {"DataType": "String", "StringValue": "patch"}})
        sns.publish(TopicArn=topic, Message="wanted", MessageAttributes=PUBLISHED_ATTRIBUTES)
        message = received(sqs, forwarder["out_queue_url"])
        sqs.delete_message(QueueUrl=forwarder["out_queue_url"], ReceiptHandle=message["ReceiptHandle"])
    finally:
        sns.unsubscribe(SubscriptionArn=subscription)

    record = json.loads(message["Body"])["Records"][0]
    assert record["Sns"]["Message"] == "wanted"
    assert record["Sns"]["MessageAttributes"]["kind"] == {"Type": "String", "Value": "image-build"}
    assert nothing_in(sqs, forwarder["out_queue_url"])


# -- subscriptions from a template ---------------------------------------------------


def test_template_subscription_with_raw_delivery_false_delivers_the_envelope(local_cloud, sns, sqs):
    stack_name = unique("fidelity-sns")
    template = {"Resources": {
        "Topic": {"Type": "AWS::SNS::Topic"},
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Subscription": {"Type": "AWS::SNS::Subscription", "Properties": {
            "TopicArn": {"Ref": "Topic"}, "Protocol": "sqs", "Endpoint": {"Fn::GetAtt": ["Queue", "Arn"]},
            "RawMessageDelivery": False}},
    }, "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}}, "QueueUrl": {"Value": {"Ref": "Queue"}}}}
    cloudformation = local_cloud.boto3_client("cloudformation")
    cloudformation.create_stack(StackName=stack_name, TemplateBody=json.dumps(template))
    stack = eventually(lambda: (lambda s: s if not s["StackStatus"].endswith("IN_PROGRESS") else None)(
        cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]), what="the stack's creation")
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}

    sns.publish(TopicArn=outputs["TopicArn"], Message="built",
                MessageAttributes={"kind": {"DataType": "String", "StringValue": "image-build"}})

    envelope = json.loads(received(sqs, outputs["QueueUrl"])["Body"])
    assert envelope["Message"] == "built"
    assert envelope["MessageAttributes"] == {"kind": {"Type": "String", "Value": "image-build"}}
    cloudformation.delete_stack(StackName=stack_name)
