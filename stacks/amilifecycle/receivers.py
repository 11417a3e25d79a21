"""The receivers: functions that record what the state machines report.

* ``CreationReceiverFn`` consumes the creation receiver queue: it records
  each event result in the lifecycle, assigns the semantic version of a
  built AMI, updates the lookup table and the AMI tags, notifies, answers
  the state machine's task token and moves on to the next enabled event.
* ``ErrorReceiverFn`` consumes the error receiver queue: it marks the event
  in progress as ERROR with the reported cause and notifies the owner.
* ``NotificationSinkFn`` writes every notification to the event
  notifications log group, one log stream per lifecycle.

Both queue consumers take batches of ten and report partial batch failures,
so a failing message is retried alone and, after the queue's maximum
receive count, parked in its dead-letter queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.amilifecycle.messaging import RECEIVER_FUNCTION_TIMEOUT, ReceiverQueue
from stacks.tagger.stack import TAGGER_SESSION_NAME

if TYPE_CHECKING:  # the stack imports this module
    from stacks.amilifecycle.stack import AmiLifecycleStack

RECEIVER_BATCH_SIZE = 10
# At most this many receiver invocations at once per queue: enough for bursts of results, few enough
# that concurrent writers of one lifecycle rarely need to retry their conditional writes.
RECEIVER_MAX_CONCURRENCY = 10


class Receivers(Construct):
    """``creation_receiver``, ``error_receiver`` and ``notification_sink`` functions."""

    def __init__(self, scope: Construct, construct_id: str, *, stack: "AmiLifecycleStack") -> None:
        super().__init__(scope, construct_id)
        self._stack = stack
        tables, messaging = stack.tables, stack.messaging
        distribution_accounts = list(stack.settings.image_builder.ami_publishing_target_ids)

        self.creation_receiver = stack.functions.function(
            "CreationReceiverFn",
            handler="receivers.creation_receiver",
            description="Records AMI creation event results: version, lookup entry, AMI tags, next event",
            timeout=RECEIVER_FUNCTION_TIMEOUT,
            environment={
                "DISTRIBUTION_ACCOUNTS": ",".join(distribution_accounts),
                "TAGGER_SESSION_NAME": TAGGER_SESSION_NAME,
            },
        )
        self._consume(self.creation_receiver, messaging.creation_receiver)
        tables.state.grant_read_write_data(self.creation_receiver)
        tables.semver_seed.grant_read_write_data(self.creation_receiver)
        tables.lookup.grant_read_write_data(self.creation_receiver)
        messaging.notifications.grant_publish(self.creation_receiver)
        self.creation_receiver.add_to_role_policy(iam.PolicyStatement(
            sid="TagBuiltImages",
            actions=["ec2:CreateTags"],
            resources=[f"arn:{cdk.Aws.PARTITION}:ec2:*::image/*"],
        ))
        # Results arrive with the task token of the state machine that sent them.
        stack.build_event.state_machine.grant_task_response(self.creation_receiver)
        if distribution_accounts:
            self.creation_receiver.add_to_role_policy(iam.PolicyStatement(
                sid="TagImagesInDistributionAccounts",
                actions=["sts:AssumeRole"],
                resources=[f"arn:{cdk.Aws.PARTITION}:iam::{account}:role/{stack.tagger.role.role_name}"
                           for account in distribution_accounts],
            ))

        self.error_receiver = stack.functions.function(
            "ErrorReceiverFn",
            handler="receivers.error_receiver",
            description="Records lifecycle event errors on the event in progress and notifies the owner",
            timeout=RECEIVER_FUNCTION_TIMEOUT,
        )
        self._consume(self.error_receiver, messaging.error_receiver)
        tables.state.grant_read_write_data(self.error_receiver)
        messaging.notifications.grant_publish(self.error_receiver)

        event_log = stack.log_groups.event_notifications
        self.notification_sink = stack.functions.function(
            "NotificationSinkFn",
            handler="notification_sink.handle",
            description="Writes every lifecycle notification to its lifecycle's log stream",
        )
        event_log.grant_write(self.notification_sink)
        messaging.notifications.add_subscription(subscriptions.LambdaSubscription(self.notification_sink))

    @staticmethod
    def _consume(function: lambda_.Function, receiver: ReceiverQueue) -> None:
        function.add_event_source(event_sources.SqsEventSource(
            receiver.queue,
            batch_size=RECEIVER_BATCH_SIZE,
            report_batch_item_failures=True,
            max_concurrency=RECEIVER_MAX_CONCURRENCY,
        ))
