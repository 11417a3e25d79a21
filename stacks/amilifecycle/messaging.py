"""Notification topics and the receiver queues that carry event results.

Every receiver queue has its own dead-letter queue: a result that the
receiver fails to record five times is parked for two weeks instead of
being deleted (the original deleted whatever it did not process).
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.settings import Settings

# The receiver functions that will consume these queues are planned with a
# 2-minute timeout (recording one result is a few DynamoDB, SNS and EC2 tag
# calls). AWS asks for a visibility timeout of at least six times the
# function timeout, so a message is never redelivered while the batch that
# holds it is still being retried: 15 minutes >= 6 x 2 minutes.
RECEIVER_FUNCTION_TIMEOUT = cdk.Duration.minutes(2)
RECEIVER_VISIBILITY_TIMEOUT = cdk.Duration.minutes(15)
RECEIVER_RETENTION = cdk.Duration.days(4)
DEAD_LETTER_RETENTION = cdk.Duration.days(14)
MAX_RECEIVE_COUNT = 5

RECEIVER_QUEUE_IDS = ("AmiCreationReceiverQueue", "AmiPatchReceiverQueue", "AmiErrorReceiverQueue")


@dataclass(frozen=True)
class ReceiverQueue:
    """A receiver queue and the dead-letter queue behind it."""

    queue: sqs.Queue
    dead_letter_queue: sqs.Queue


class LifecycleMessaging(Construct):
    """Topics ``notifications`` and ``qa_notifications``; receiver queues
    ``creation_receiver``, ``patch_receiver`` and ``error_receiver``."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        tag = settings.stack_tag

        self.notifications = sns.Topic(
            self,
            "AmiOrchestratorTopic",
            display_name=f"AMI lifecycle notifications ({tag})",
            master_key=key,
            enforce_ssl=True,
        )
        self.qa_notifications = sns.Topic(
            self,
            "QANotificationTopic",
            display_name=f"AMI lifecycle QA certification requests ({tag})",
            master_key=key,
            enforce_ssl=True,
        )
        if settings.lifecycle.qa_email_address:
            self.qa_notifications.add_subscription(
                subscriptions.EmailSubscription(settings.lifecycle.qa_email_address)
            )

        # Construct id -> receiver queue, in a stable order.
        self.receivers: dict[str, ReceiverQueue] = {
            queue_id: self._receiver_queue(queue_id, key) for queue_id in RECEIVER_QUEUE_IDS
        }
        self.creation_receiver = self.receivers["AmiCreationReceiverQueue"]
        self.patch_receiver = self.receivers["AmiPatchReceiverQueue"]
        self.error_receiver = self.receivers["AmiErrorReceiverQueue"]

    def _receiver_queue(self, construct_id: str, key: kms.IKey) -> ReceiverQueue:
        dead_letters = sqs.Queue(
            self,
            f"{construct_id}DLQ",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=DEAD_LETTER_RETENTION,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        queue = sqs.Queue(
            self,
            construct_id,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            visibility_timeout=RECEIVER_VISIBILITY_TIMEOUT,
            retention_period=RECEIVER_RETENTION,
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=MAX_RECEIVE_COUNT, queue=dead_letters),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        return ReceiverQueue(queue=queue, dead_letter_queue=dead_letters)
