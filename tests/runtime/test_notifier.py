"""Notifications: one fixed-filter subscription per address, recipients on every message."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import boto3
import pytest

from orchestrator.adapters.notifier import Notifier, email_recipients, filter_policy
from orchestrator.domain.notifications import NotificationKind, NotificationMessage
from orchestrator.domain.vocabulary import Operator

from .conftest import REGION

NOW = datetime(2026, 11, 23, 10, 0, 0, tzinfo=timezone.utc)
LIFECYCLE_ID = "3f0c2a56-8a47-4c1e-9d5b-2f4e8c7a1b90"


def message(subject: str = "AMI_CREATION_POST event for main", lifecycle_id: str | None = LIFECYCLE_ID
            ) -> NotificationMessage:
    return NotificationMessage(kind=NotificationKind.EVENT, operator=Operator.AMI_CREATION_POST, stack_tag="main",
                               lifecycle_id=lifecycle_id, subject=subject, sent_at="2026-11-23T10:00:00Z",
                               body={"record": {"lifecycle_id": lifecycle_id}})


def rendered(msg: NotificationMessage) -> str:
    return f"body of {msg.subject}"


@pytest.fixture
def sns():
    return boto3.client("sns", region_name=REGION)


@pytest.fixture
def notifier(cloud) -> Notifier:
    return Notifier(cloud.topic_arn, render=rendered)


def email_subscriptions(sns, topic_arn: str) -> list[dict]:
    found = []
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        found += [s for s in page["Subscriptions"] if s["Protocol"] == "email"]
    return found


def queue_subscribed_as(cloud, address: str) -> str:
    """An SQS queue subscribed with the same filter policy an email address gets: what that address would receive."""
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName=address.replace("@", "-at-").replace(".", "-"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=REGION).subscribe(
        TopicArn=cloud.topic_arn, Protocol="sqs", Endpoint=arn,
        Attributes={"FilterPolicy": json.dumps(filter_policy(address)), "FilterPolicyScope": "MessageAttributes"})
    return url


def received(queue_url: str) -> list[dict]:
    sqs = boto3.client("sqs", region_name=REGION)
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_an_address_is_subscribed_once_with_a_filter_on_its_own_address(cloud, sns, notifier):
    assert notifier.subscribe_emails(["team@example.com"]) == ["team@example.com"]
    [subscription] = email_subscriptions(sns, cloud.topic_arn)
    attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])["Attributes"]
    assert subscription["Endpoint"] == "team@example.com"
    assert json.loads(attributes["FilterPolicy"]) == {"recipients": ["team@example.com"]}
    assert attributes["FilterPolicyScope"] == "MessageAttributes"


def test_subscribing_an_address_again_adds_no_subscription_and_keeps_the_policy(cloud, sns, notifier):
    notifier.subscribe_emails(["team@example.com"])
    assert notifier.subscribe_emails(["team@example.com", "Team@Example.com"]) == []
    [subscription] = email_subscriptions(sns, cloud.topic_arn)
    attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])["Attributes"]
    assert json.loads(attributes["FilterPolicy"]) == {"recipients": ["team@example.com"]}


def test_an_existing_subscription_beyond_the_first_page_is_found(cloud, sns, notifier):
    for index in range(120):
        sns.subscribe(TopicArn=cloud.topic_arn, Protocol="email", Endpoint=f"user{index:03d}@example.com")
    assert notifier.subscribe_emails(["user119@example.com", "new@example.com"]) == ["new@example.com"]
    assert len(email_subscriptions(sns, cloud.topic_arn)) == 121


def test_several_addresses_get_one_subscription_each(cloud, sns, notifier):
    notifier.subscribe_emails(["a@example.com", "b@example.com", "a@example.com"])
    assert sorted(s["Endpoint"] for s in email_subscriptions(sns, cloud.topic_arn)) == ["a@example.com",
                                                                                        "b@example.com"]


def test_no_address_means_no_call_and_no_subscription(cloud, sns, notifier):
    assert notifier.subscribe_emails([]) == []
    assert email_subscriptions(sns, cloud.topic_arn) == []


def test_a_message_reaches_the_subscribers_of_its_recipients_only(cloud, notifier):
    team = queue_subscribed_as(cloud, "team@example.com")
    other = queue_subscribed_as(cloud, "other@example.com")

    notifier.publish(message(), ["Team@Example.com"])

    [delivered] = received(team)
    assert received(other) == []
    assert delivered["Subject"] == "AMI_CREATION_POST event for main"
    assert delivered["Message"] == "body of AMI_CREATION_POST event for main"
    attributes = delivered["MessageAttributes"]
    assert attributes["lifecycle_id"] == {"Type": "String", "Value": LIFECYCLE_ID}
    assert attributes["recipients"]["Type"] == "String.Array"
    assert json.loads(attributes["recipients"]["Value"]) == ["team@example.com"]


def test_a_message_without_recipients_reaches_no_filtered_subscriber(cloud, notifier):
    team = queue_subscribed_as(cloud, "team@example.com")
    notifier.publish(message(), [])
    assert received(team) == []


def test_the_subject_is_cut_to_the_sns_limit(cloud):
    calls = []

    class RecordingSns:
        def publish(self, **kwargs):
            calls.append(kwargs)
            return {"MessageId": "m-1"}

    Notifier(cloud.topic_arn, sns=RecordingSns(), render=rendered).publish(message(subject="x" * 150), [])
    assert len(calls[0]["Subject"]) == 100


def test_the_default_renderer_is_the_plain_text_notification_template(cloud):
    calls = []

    class RecordingSns:
        def publish(self, **kwargs):
            calls.append(kwargs)
            return {"MessageId": "m-1"}

    Notifier(cloud.topic_arn, sns=RecordingSns()).publish(message(), [])
    assert LIFECYCLE_ID in calls[0]["Message"]
    assert "<html" not in calls[0]["Message"].lower()


def test_email_recipients_are_the_email_targets_in_canonical_form():
    channels = [{"method": "EMAIL", "target": "Team@Example.com "}, {"method": "HTTP", "target": "https://h.example"},
                {"method": "EMAIL", "target": "team@example.com"}, {"method": "EMAIL", "target": "ops@example.com"}]
    assert email_recipients(channels) == ["team@example.com", "ops@example.com"]
    assert email_recipients(None) == []
