"""Builders for the build event and receiver tests (import the fixtures you use).

Builds on ``tests/runtime/conftest.py`` (the mocked deployment ``cloud``)
and adds what the build event and the receivers need: the build-waits
table (keyed as stacks/amilifecycle/build_event.py keys it), the receiver
queues, the event log group, AMIs in the mocked EC2, an Image Builder
stand-in (moto has no Image Builder), a recorder of task-token answers,
and SQS / SNS event builders shaped like the events Lambda receives.
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator, Mapping

import boto3
import pytest
from botocore.exceptions import ClientError

from stacks.amilifecycle.events.build import BUILD_WAITS_PARTITION_KEY, BUILD_WAITS_TTL_ATTRIBUTE
from tests.runtime.conftest import ACCOUNT, PIPELINE_ARN, REGION, STACK_TAG, Cloud, create_body

IMAGE_RECIPE_ARN = f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:image-recipe/ami-lifecycle-image-recipe-main/1.0.0"
COMPONENT_ARN = f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:component/ami-lifecycle-generic-component-main/1.0.0/1"
MANAGED_COMPONENT_ARN = f"arn:aws:imagebuilder:{REGION}:aws:component/aws-cli-version-2-linux/1.0.4/1"
EVENT_LOG_GROUP = "/ami-lifecycles/main/event-notifications"


def utc(text: str = "2026-11-23T10:00:00Z") -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


# ----------------------------------------------------------- mocked deployment

@pytest.fixture
def atomic_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give moto's DynamoDB the atomicity DynamoDB has.

    DynamoDB evaluates a condition and applies the write as one step; moto
    runs both as plain Python without a lock, so two threads can pass the
    same condition. Serialising moto's item operations restores the
    service's guarantee, so race tests exercise the code's protocol (read,
    then write on the condition that nothing changed), not moto's gaps.
    """
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("put_item", "get_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def serialised(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return __original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, serialised)


@dataclass
class BuildCloud:
    """The mocked deployment plus what the build event and the receivers use."""

    cloud: Cloud
    build_waits_table: str
    creation_queue_url: str
    error_queue_url: str

    def environment(self, **overrides: str) -> dict[str, str]:
        env = self.cloud.environment(
            BUILD_WAITS_TABLE_NAME=self.build_waits_table,
            CREATION_RECEIVER_QUEUE_URL=self.creation_queue_url,
            ERROR_RECEIVER_QUEUE_URL=self.error_queue_url,
            EVENT_LOG_GROUP_NAME=EVENT_LOG_GROUP,
        )
        env.update(overrides)
        return env

    def config(self, **overrides: str) -> Any:
        from orchestrator.config import RuntimeConfig

        return RuntimeConfig.from_env(self.environment(**overrides))


def create_build_waits_table(dynamodb: Any, name: str = "BuildWaitsTable") -> str:
    dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": BUILD_WAITS_PARTITION_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": BUILD_WAITS_PARTITION_KEY, "AttributeType": "S"}],
    )
    dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": BUILD_WAITS_TTL_ATTRIBUTE})
    return name


@pytest.fixture
def build_cloud(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> Iterator[BuildCloud]:
    """The mocked deployment with the build-waits table, receiver queues and event log group;
    the process environment set as the stack sets it for the build and receiver functions."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    logs = boto3.client("logs", region_name=REGION)
    waits = create_build_waits_table(dynamodb)
    creation = sqs.create_queue(QueueName="AmiCreationReceiverQueue")["QueueUrl"]
    errors = sqs.create_queue(QueueName="AmiErrorReceiverQueue")["QueueUrl"]
    logs.create_log_group(logGroupName=EVENT_LOG_GROUP)
    deployment = BuildCloud(cloud=cloud, build_waits_table=waits, creation_queue_url=creation,
                            error_queue_url=errors)
    for name, value in deployment.environment().items():
        monkeypatch.setenv(name, value)
    yield deployment


def register_ami(name: str = "AmiLifecycle-main-2026-11-23T10-00-00Z") -> str:
    """A real AMI in the mocked EC2 (registered, as Image Builder's distribution does)."""
    ec2 = boto3.client("ec2", region_name=REGION)
    return ec2.register_image(Name=name, RootDeviceName="/dev/xvda", Architecture="x86_64",
                              VirtualizationType="hvm")["ImageId"]


def ami_tags_of(ami_id: str) -> dict[str, str]:
    ec2 = boto3.client("ec2", region_name=REGION)
    image = ec2.describe_images(ImageIds=[ami_id])["Images"][0]
    return {tag["Key"]: tag["Value"] for tag in image.get("Tags", [])}


# ------------------------------------------------------- Image Builder stand-in

def image_document(arn: str, status: str, *, amis: list[dict[str, Any]] | None = None,
                   reason: str | None = None) -> dict[str, Any]:
    """An image as GetImage returns it (and as Image Builder's SNS message carries it)."""
    state: dict[str, Any] = {"status": status}
    if reason:
        state["reason"] = reason
    return {
        "arn": arn,
        "type": "AMI",
        "name": "ami-lifecycle-image-recipe-main",
        "version": "1.0.0/1",
        "platform": "Linux",
        "state": state,
        "imageRecipe": {
            "arn": IMAGE_RECIPE_ARN,
            "name": "ami-lifecycle-image-recipe-main",
            "dateCreated": "2026-11-20T08:00:00.000Z",
            "components": [{"componentArn": COMPONENT_ARN}, {"componentArn": MANAGED_COMPONENT_ARN}],
        },
        "sourcePipelineArn": PIPELINE_ARN,
        "sourcePipelineName": "ami-lifecycle-main",
        "dateCreated": "2026-11-23T10:00:00.000Z",
        "outputResources": {"amis": amis or []},
    }


class FakeImageBuilder:
    """The two Image Builder calls of the build event, over an in-memory set of images.

    ``finish`` moves a build to its end state, as Image Builder would.
    """

    def __init__(self) -> None:
        self.images: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, str] = {}
        self.starts: list[dict[str, str]] = []

    def start_image_pipeline_execution(self, *, imagePipelineArn: str, clientToken: str) -> dict[str, Any]:
        self.starts.append({"imagePipelineArn": imagePipelineArn, "clientToken": clientToken})
        if clientToken in self.tokens:
            arn = self.tokens[clientToken]
        else:
            arn = f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:image/ami-lifecycle-image-recipe-main/1.0.0/" \
                  f"{len(self.images) + 1}"
            self.tokens[clientToken] = arn
            self.images[arn] = image_document(arn, "BUILDING")
        return {"requestId": str(uuid.uuid4()), "clientToken": clientToken, "imageBuildVersionArn": arn}

    def get_image(self, *, imageBuildVersionArn: str) -> dict[str, Any]:
        if imageBuildVersionArn not in self.images:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException",
                                         "Message": f"Image {imageBuildVersionArn} not found"}}, "GetImage")
        return {"requestId": str(uuid.uuid4()), "image": copy.deepcopy(self.images[imageBuildVersionArn])}

    def finish(self, arn: str, status: str, *, amis: list[dict[str, Any]] | None = None,
               reason: str | None = None) -> dict[str, Any]:
        self.images[arn] = image_document(arn, status, amis=amis, reason=reason)
        return copy.deepcopy(self.images[arn])


def built_ami(ami_id: str, *, account: str = ACCOUNT, region: str = REGION) -> dict[str, Any]:
    """One ``outputResources.amis`` entry."""
    return {"region": region, "image": ami_id, "name": "AmiLifecycle-main-2026-11-23T10-00-00Z",
            "description": "AMI lifecycle build for stack tag main", "state": {"status": "AVAILABLE"},
            "accountId": account}


# ------------------------------------------------------------ task-token answers

@dataclass
class RecordingWorkflows:
    """Records task-token answers; ``stale`` tokens answer like an execution that moved on."""

    successes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    stale: set[str] = field(default_factory=set)

    def _check(self, token: str, operation: str) -> None:
        if token in self.stale:
            raise ClientError({"Error": {"Code": "TaskTimedOut", "Message": "Task Timed Out"}}, operation)

    def send_task_success(self, task_token: str, output: Mapping[str, Any]) -> None:
        self._check(task_token, "SendTaskSuccess")
        self.successes.append((task_token, dict(output)))

    def send_task_failure(self, task_token: str, *, error: str, cause: str) -> None:
        self._check(task_token, "SendTaskFailure")
        self.failures.append((task_token, error, cause))


# ----------------------------------------------------------------- notifications

@dataclass
class Published:
    """One notification as a subscriber receives it."""

    subject: str
    message: str
    attributes: dict[str, str]


class NotificationInbox:
    """An SQS queue subscribed to the notification topic without a filter: every message lands here."""

    def __init__(self, topic_arn: str) -> None:
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.url = self.sqs.create_queue(QueueName=f"inbox-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        boto3.client("sns", region_name=REGION).subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
        self.received: list[Published] = []

    def messages(self) -> list[Published]:
        """Everything published so far, oldest first."""
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return list(self.received)
            for message in batch:
                envelope = json.loads(message["Body"])
                attributes = {name: value["Value"] for name, value in (envelope.get("MessageAttributes") or {}).items()}
                self.received.append(Published(envelope.get("Subject") or "", envelope["Message"], attributes))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])

    def subjects(self) -> list[str]:
        return [message.subject for message in self.messages()]


@pytest.fixture
def inbox(build_cloud: BuildCloud) -> NotificationInbox:
    return NotificationInbox(build_cloud.cloud.topic_arn)


# ------------------------------------------------------------------ Lambda events

def sns_event(message: str, *, topic_arn: str, attributes: Mapping[str, str] | None = None,
              subject: str | None = None, timestamp: str | None = None) -> dict[str, Any]:
    """An SNS -> Lambda event with one record (received now, unless ``timestamp`` says otherwise)."""
    if timestamp is None:
        timestamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return {"Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": f"{topic_arn}:{uuid.uuid4()}",
        "Sns": {
            "Type": "Notification",
            "MessageId": str(uuid.uuid4()),
            "TopicArn": topic_arn,
            "Subject": subject,
            "Message": message,
            "Timestamp": timestamp,
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/cert.pem",
            "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
            "MessageAttributes": {name: {"Type": "String", "Value": value}
                                  for name, value in (attributes or {}).items()},
        },
    }]}


def sqs_record(body: Any, *, queue_name: str = "AmiCreationReceiverQueue", message_id: str | None = None,
               receive_count: int = 1) -> dict[str, Any]:
    """One SQS -> Lambda record."""
    text = body if isinstance(body, str) else json.dumps(body)
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": f"handle-{uuid.uuid4()}",
        "body": text,
        "attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": "1795428000000",
                       "SenderId": "AROAEXAMPLE:states", "ApproximateFirstReceiveTimestamp": "1795428000001"},
        "messageAttributes": {},
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_name}",
        "awsRegion": REGION,
    }


def sqs_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


# -------------------------------------------------------------- lifecycle records

def build_request(**changes: Any) -> Any:
    from orchestrator.domain.requests import parse_create_request

    return parse_create_request(create_body(**changes))


def lifecycle_building(cloud: Cloud, *, lifecycle_id: str | None = None, now: datetime | None = None,
                       execution_arn: str | None = None, **changes: Any) -> dict[str, Any]:
    """A stored lifecycle whose BUILD_AMI is in progress, as the API leaves it."""
    from orchestrator.adapters.state_repository import StateRepository
    from orchestrator.domain.records import mark_event_in_progress, new_lifecycle
    from orchestrator.domain.vocabulary import EventName

    moment = now or utc()
    record = mark_event_in_progress(new_lifecycle(build_request(**changes), lifecycle_id or str(uuid.uuid4()),
                                                  moment),
                                    EventName.BUILD_AMI, moment, description="build",
                                    execution_arn=execution_arn)
    return StateRepository(cloud.state_table).create(record)


def build_result_value(lifecycle_id: str, ami_id: str, *, status_date: str = "2026-11-23T10:30:00Z",
                       image_number: int = 1) -> dict[str, Any]:
    """A BUILD_AMI result message body (``task_details.value``) as the build state machine sends it."""
    from orchestrator.domain.builds import build_ami_result, result_message

    arn = f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:image/ami-lifecycle-image-recipe-main/1.0.0/{image_number}"
    result = build_ami_result(image_document(arn, "AVAILABLE", amis=[built_ami(ami_id)]),
                              lifecycle_id=lifecycle_id, product_ver="2.4.1", product_name="payments-service",
                              commit_ref="9fceb02d0ae598e95dc970b74767f19372d61af8", now=utc(status_date))
    return result_message(result)


__all__ = ["ACCOUNT", "REGION", "STACK_TAG", "BuildCloud", "FakeImageBuilder", "NotificationInbox", "Published", "RecordingWorkflows", "atomic_dynamodb",
           "build_cloud", "inbox",
           "build_result_value", "built_ami", "create_build_waits_table", "image_document", "lifecycle_building",
           "register_ami", "sns_event", "sqs_event", "sqs_record", "utc", "ami_tags_of"]
