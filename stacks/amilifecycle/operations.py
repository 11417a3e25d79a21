"""Day-to-day operations: the scheduled jobs, their reports and the alarms.

* ``TagReconcilerFn`` runs on ``amiLifecycle.dbToTagReconcilerCronExpr``:
  for every lifecycle of the stack tag it rewrites the ``AMI_LC_*`` tags of
  every copy of the lifecycle's AMI that drifted from the record (copies in
  distribution accounts through their tagger role);
* ``GarbageCollectorFn`` runs every ``ec2GarbageCollectorRateMins``: it
  terminates the stack tag's test instances older than
  ``lifecycleInstanceMaxRuntimeHours``;
* both publish their reports to the operations topic (its own KMS key,
  which CloudWatch alarms may use too); ``OperationsSinkFn`` keeps every
  message of the topic in the operations log group;
* one alarm per dead-letter queue (a receiver's, and the functions' shared
  one) and one per scheduled job's errors notify the same topic.

See docs/operations.md.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.amilifecycle.functions import FunctionFactory
from stacks.amilifecycle.logs import LifecycleLogGroups
from stacks.amilifecycle.messaging import LifecycleMessaging
from stacks.amilifecycle.storage import LifecycleTables
from stacks.settings import Settings
from stacks.tagger.stack import TAGGER_SESSION_NAME

# The tag the test-instance launch step puts on every instance (adapters/instances.py).
EVENT_INSTANCE_TAG = "AMI_LC_EVENT_INSTANCE"
STACK_TAG_TAG = "AMI_LC_STACK_TAG"
RECONCILER_TIMEOUT = cdk.Duration.minutes(15)
GARBAGE_COLLECTOR_TIMEOUT = cdk.Duration.minutes(5)


def operations_log_group_name(stack_tag: str) -> str:
    """Sink of the operations topic: reports and alarm notifications."""
    return f"/ami-lifecycles/{stack_tag}/operations-reports"


class Operations(Construct):
    """``topic``, ``log_group``, ``reconciler``, ``garbage_collector``, their ``rules`` and the ``alarms``."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, functions: FunctionFactory,
                 tables: LifecycleTables, messaging: LifecycleMessaging, log_groups: LifecycleLogGroups,
                 tagger_role_name: str, distribution_accounts: list[str]) -> None:
        super().__init__(scope, construct_id)
        tag = settings.stack_tag
        self.key = kms.Key(
            self, "OperationsKey",
            description=f"AMI lifecycle orchestrator ({tag}): operations reports and alarms",
            enable_key_rotation=True,
            pending_window=cdk.Duration.days(7),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        # CloudWatch publishes alarm notifications to the encrypted topic with the key itself.
        self.key.add_to_resource_policy(iam.PolicyStatement(
            sid="AllowCloudWatchAlarmsOfThisAccount",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
        ))
        self.topic = sns.Topic(
            self, "AmiOrchestratorReconcilerTopic",
            display_name=f"AMI lifecycle operations reports ({tag})",
            master_key=self.key,
            enforce_ssl=True,
        )
        self.log_group = log_groups.log_group("OperationsReportsLogGroup", operations_log_group_name(tag))
        self.sink = functions.function(
            "OperationsSinkFn",
            handler="notification_sink.handle",
            description="Writes every operations report and alarm notification to the operations log group",
            environment={"EVENT_LOG_GROUP_NAME": self.log_group.log_group_name},
        )
        self.log_group.grant_write(self.sink)
        self.topic.add_subscription(subscriptions.LambdaSubscription(self.sink))

        self.reconciler = self._reconciler(functions, tables, tagger_role_name, distribution_accounts)
        self.garbage_collector = self._garbage_collector(settings, functions)
        self.rules = {
            "reconciler": events.Rule(
                self, "AmiLcReconcilerEventRule",
                description="Reconciles AMI tags with the lifecycle records",
                schedule=events.Schedule.expression(settings.lifecycle.reconciler_schedule),
                targets=[targets.LambdaFunction(self.reconciler, retry_attempts=2)]),
            "garbage_collector": events.Rule(
                self, "AmiLcEc2GarbageCollectorEventRule",
                description="Terminates test instances that outlived their event",
                schedule=events.Schedule.rate(cdk.Duration.minutes(settings.lifecycle.garbage_collector_rate_mins)),
                targets=[targets.LambdaFunction(self.garbage_collector, retry_attempts=2)]),
        }
        self.alarms = self._alarms(messaging, functions)

    def _reconciler(self, functions: FunctionFactory, tables: LifecycleTables, tagger_role_name: str,
                    distribution_accounts: list[str]) -> lambda_.Function:
        function = functions.function(
            "TagReconcilerFn",
            handler="operations.reconcile_tags",
            description="Rewrites AMI_LC tags that drifted from the lifecycle records, on every AMI copy",
            timeout=RECONCILER_TIMEOUT,
            environment={
                "STATE_TABLE_NAME": tables.state.table_name,
                "OPERATIONS_TOPIC_ARN": self.topic.topic_arn,
                "TAGGER_ROLE_NAME": tagger_role_name,
                "DISTRIBUTION_ACCOUNTS": ",".join(distribution_accounts),
                "TAGGER_SESSION_NAME": TAGGER_SESSION_NAME,
            },
        )
        tables.state.grant_read_data(function)
        self.topic.grant_publish(function)
        function.add_to_role_policy(iam.PolicyStatement(
            sid="ReadImages", actions=["ec2:DescribeImages"],
            # DescribeImages supports no resource-level permissions.
            resources=["*"]))
        function.add_to_role_policy(iam.PolicyStatement(
            sid="RepairImageTags", actions=["ec2:CreateTags"],
            resources=[f"arn:{cdk.Aws.PARTITION}:ec2:*::image/*"]))
        if distribution_accounts:
            function.add_to_role_policy(iam.PolicyStatement(
                sid="TagImagesInDistributionAccounts", actions=["sts:AssumeRole"],
                resources=[f"arn:{cdk.Aws.PARTITION}:iam::{account}:role/{tagger_role_name}"
                           for account in distribution_accounts]))
        return function

    def _garbage_collector(self, settings: Settings, functions: FunctionFactory) -> lambda_.Function:
        function = functions.function(
            "GarbageCollectorFn",
            handler="operations.collect_garbage",
            description="Terminates this deployment's test instances that ran longer than allowed",
            timeout=GARBAGE_COLLECTOR_TIMEOUT,
            environment={
                "OPERATIONS_TOPIC_ARN": self.topic.topic_arn,
                "TEST_INSTANCE_MAX_RUNTIME_HOURS": str(settings.lifecycle.instance_max_runtime_hours),
            },
        )
        self.topic.grant_publish(function)
        function.add_to_role_policy(iam.PolicyStatement(
            sid="FindTestInstances", actions=["ec2:DescribeInstances"],
            # DescribeInstances supports no resource-level permissions.
            resources=["*"]))
        function.add_to_role_policy(iam.PolicyStatement(
            sid="TerminateThisDeploymentsTestInstances", actions=["ec2:TerminateInstances"],
            resources=[f"arn:{cdk.Aws.PARTITION}:ec2:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:instance/*"],
            conditions={"StringEquals": {f"aws:ResourceTag/{EVENT_INSTANCE_TAG}": "TRUE",
                                         f"aws:ResourceTag/{STACK_TAG_TAG}": settings.stack_tag}}))
        return function

    def _alarms(self, messaging: LifecycleMessaging, functions: FunctionFactory) -> dict[str, cloudwatch.Alarm]:
        action = cloudwatch_actions.SnsAction(self.topic)
        alarms: dict[str, cloudwatch.Alarm] = {}
        dead_letter_queues: dict[str, sqs.IQueue] = {
            f"{queue_id}DLQ": receiver.dead_letter_queue for queue_id, receiver in messaging.receivers.items()}
        dead_letter_queues["FunctionsDLQ"] = functions.dead_letter_queue
        for queue_id, queue in dead_letter_queues.items():
            alarms[queue_id] = cloudwatch.Alarm(
                self, f"{queue_id}MessagesAlarm",
                alarm_description=f"Messages are parked in {queue_id}: a result or an asynchronous invocation "
                                  "failed every retry (docs/operations.md#alarms)",
                metric=queue.metric_approximate_number_of_messages_visible(
                    period=cdk.Duration.minutes(5), statistic="Maximum"),
                threshold=1, evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        for job_id, function in (("TagReconcilerFn", self.reconciler), ("GarbageCollectorFn", self.garbage_collector)):
            alarms[job_id] = cloudwatch.Alarm(
                self, f"{job_id}ErrorsAlarm",
                alarm_description=f"A scheduled run of {job_id} failed (docs/operations.md#alarms)",
                metric=function.metric_errors(period=cdk.Duration.hours(1), statistic="Sum"),
                threshold=1, evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        for alarm in alarms.values():
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
        return alarms
