"""The receivers: functions that record what the state machines report.

* ``CreationReceiverFn`` consumes the creation receiver queue: it records
  each event result in the lifecycle, assigns the semantic version of a
  built AMI, updates the lookup table and the AMI tags, notifies, answers
  the state machine's task token and moves on to the next enabled event
  (the stack's event registry grants it every state machine).
* ``PatchReceiverFn`` consumes the patch receiver queue the same way (the
  same code): a completed PATCH_AMI gets its patch version (MINOR or PATCH
  bump of the lifecycle's newest AMI, claimed so no other lifecycle of the
  stack tag holds it) and the ancestry of the patched AMI.
* ``ErrorReceiverFn`` consumes the error receiver queue: it marks the event
  in progress as ERROR with the reported cause and notifies the owner.
* ``NotificationSinkFn`` writes every notification to the event
  notifications log group, one log stream per lifecycle.

Both queue consumers take batches of ten and report partial batch failures,
so a failing message is retried alone and, after the queue's maximum
receive count, parked in its dead-letter queue.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.amilifecycle.functions import FunctionFactory
from stacks.amilifecycle.messaging import RECEIVER_FUNCTION_TIMEOUT, LifecycleMessaging, ReceiverQueue
from stacks.amilifecycle.storage import LifecycleTables
from stacks.tagger.stack import TAGGER_SESSION_NAME

RECEIVER_BATCH_SIZE = 10
# At most this many receiver invocations at once per queue: enough for bursts of results, few enough
# that concurrent writers of one lifecycle rarely need to retry their conditional writes.
RECEIVER_MAX_CONCURRENCY = 10


class Receivers(Construct):
    """``creation_receiver``, ``patch_receiver``, ``error_receiver`` and ``notification_sink`` functions."""

    def __init__(self, scope: Construct, construct_id: str, *, functions: FunctionFactory, tables: LifecycleTables,
                 messaging: LifecycleMessaging, event_log: logs.ILogGroup, tagger_role_name: str,
                 distribution_accounts: list[str], default_semver_seed: str) -> None:
        super().__init__(scope, construct_id)
        notifications = messaging.notifications
        self.creation_receiver = self._result_receiver(
            functions, "CreationReceiverFn", handler="receivers.creation_receiver", queue=messaging.creation_receiver,
            description="Records AMI creation event results: version, lookup entry, AMI tags, next event",
            tables=tables, messaging=messaging, tagger_role_name=tagger_role_name,
            distribution_accounts=distribution_accounts, default_semver_seed=default_semver_seed)
        self.patch_receiver = self._result_receiver(
            functions, "PatchReceiverFn", handler="receivers.patch_receiver", queue=messaging.patch_receiver,
            description="Records AMI patch event results: patch version, ancestry, lookup entry, AMI tags, next event",
            tables=tables, messaging=messaging, tagger_role_name=tagger_role_name,
            distribution_accounts=distribution_accounts, default_semver_seed=default_semver_seed)

        self.error_receiver = functions.function(
            "ErrorReceiverFn",
            handler="receivers.error_receiver",
            description="Records lifecycle event errors on the event in progress and notifies the owner",
            timeout=RECEIVER_FUNCTION_TIMEOUT,
            environment={"STATE_TABLE_NAME": tables.state.table_name,
                         "NOTIFICATION_TOPIC_ARN": notifications.topic_arn},
        )
        self._consume(self.error_receiver, messaging.error_receiver)
        tables.state.grant_read_write_data(self.error_receiver)
        notifications.grant_publish(self.error_receiver)

        self.notification_sink = functions.function(
            "NotificationSinkFn",
            handler="notification_sink.handle",
            description="Writes every lifecycle notification to its lifecycle's log stream",
            environment={"EVENT_LOG_GROUP_NAME": event_log.log_group_name},
        )
        event_log.grant_write(self.notification_sink)
        notifications.add_subscription(subscriptions.LambdaSubscription(self.notification_sink))

    def _result_receiver(self, functions: FunctionFactory, construct_id: str, *, handler: str, description: str,
                         queue: ReceiverQueue, tables: LifecycleTables, messaging: LifecycleMessaging,
                         tagger_role_name: str, distribution_accounts: list[str],
                         default_semver_seed: str) -> lambda_.Function:
        """A receiver of event results (creation or patch): the same code, tables and permissions."""
        notifications = messaging.notifications
        function = functions.function(
            construct_id,
            handler=handler,
            description=description,
            timeout=RECEIVER_FUNCTION_TIMEOUT,
            environment={
                "STATE_TABLE_NAME": tables.state.table_name,
                "SEMVER_SEED_TABLE_NAME": tables.semver_seed.table_name,
                "LOOKUP_TABLE_NAME": tables.lookup.table_name,
                "NOTIFICATION_TOPIC_ARN": notifications.topic_arn,
                "DEFAULT_SEMVER_SEED": default_semver_seed,
                "TAGGER_ROLE_NAME": tagger_role_name,
                "DISTRIBUTION_ACCOUNTS": ",".join(distribution_accounts),
                "TAGGER_SESSION_NAME": TAGGER_SESSION_NAME,
            },
        )
        self._consume(function, queue)
        tables.state.grant_read_write_data(function)
        tables.semver_seed.grant_read_write_data(function)
        tables.lookup.grant_read_write_data(function)
        notifications.grant_publish(function)
        function.add_to_role_policy(iam.PolicyStatement(
            sid="TagBuiltImages",
            actions=["ec2:CreateTags"],
            resources=[f"arn:{cdk.Aws.PARTITION}:ec2:*::image/*"],
        ))
        if distribution_accounts:
            function.add_to_role_policy(iam.PolicyStatement(
                sid="TagImagesInDistributionAccounts",
                actions=["sts:AssumeRole"],
                resources=[f"arn:{cdk.Aws.PARTITION}:iam::{account}:role/{tagger_role_name}"
                           for account in distribution_accounts],
            ))
        return function

    @staticmethod
    def _consume(function: lambda_.Function, receiver: ReceiverQueue) -> None:
        function.add_event_source(event_sources.SqsEventSource(
            receiver.queue,
            batch_size=RECEIVER_BATCH_SIZE,
            report_batch_item_failures=True,
            max_concurrency=RECEIVER_MAX_CONCURRENCY,
        ))
