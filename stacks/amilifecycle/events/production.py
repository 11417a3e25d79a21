"""MARK_FOR_PRODUCTION_CREATE / _PATCH: one state machine, ``operation_type`` in its input.

Started by the approve routes when the verdict is APPROVED (a refusal is
recorded by the route itself and starts nothing). Flow (docs/events.md):

1. back the AMI up to the backup bucket (``CreateStoreImageTask``; the
   object tagged ``CommitRef``, ``ProductVer``, ``ProductName``);
2. wait, then read the task once (``DescribeStoreImageTasks``): completed
   -> 3; failed -> the error report with EC2's reason; else wait again.
   A store task takes minutes, so the check runs at a slow pace (few
   transitions) and a stuck task ends with the execution's timeout;
3. publish the approved AMI to its production channel (the channel record,
   then the SSM parameters) and shape the result: verdict, backup location
   and state, channel;
4. hand the result to the creation or patch receiver, which records it,
   raises the lookup entry to PRODUCTION_APPROVED and tags the AMI.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.amilifecycle.events.base import EventProps, LifecycleEvent
from stacks.amilifecycle.storage import lifecycle_table
from stacks.vocabulary import EventName

CHANNEL_TABLE_PARTITION_KEY = "channel"
# A store-image task copies every snapshot block to S3: minutes for a small AMI.
BACKUP_CHECK_INTERVAL = cdk.Duration.seconds(60)
AMI_BACKUP_FAILED = "AmiBackupFailed"
EVENT_FAILED = "MarkForProductionEventFailed"
CHANNEL_ROOT = "ami-lifecycle"


def channel_parameter_arn(scope: Construct, stack_tag: str) -> str:
    """Every production channel parameter of this stack tag (``/ami-lifecycle/<tag>/*``)."""
    return cdk.Arn.format(cdk.ArnComponents(service="ssm", resource="parameter",
                                            resource_name=f"{CHANNEL_ROOT}/{stack_tag}/*"), cdk.Stack.of(scope))


class ProductionEvent(LifecycleEvent):
    """``channels`` (the production channel table) besides what every event has."""

    events = (EventName.MARK_FOR_PRODUCTION_CREATE, EventName.MARK_FOR_PRODUCTION_PATCH)
    summary = "back the approved AMI up to S3 and publish it to the production channel"
    log_name = "mark-for-production"
    state_machine_id = "LifeCycleMarkForProductionStateMachineName"
    output_key = "lifeCycleMarkForProductionStateMachineName"
    failure_error = EVENT_FAILED

    def __init__(self, scope: Construct, construct_id: str, *, props: EventProps, timeout: cdk.Duration,
                 backup_bucket: s3.IBucket, key: kms.IKey) -> None:
        super().__init__(scope, construct_id, props=props, timeout=timeout)
        self.channels = lifecycle_table(self, "ProductionChannelTable", partition_key=CHANNEL_TABLE_PARTITION_KEY,
                                        key=key)
        self.parameter_arn = channel_parameter_arn(self, props.stack_tag)
        self._declare_functions(backup_bucket)
        self.finish(self._definition())

    def grant_revocation(self, function: lambda_.Function, *, lookup_table: dynamodb.ITable, tagger_role_name: str,
                         distribution_accounts: list[str]) -> None:
        """``function`` (the API) revokes approved AMIs: it changes the channel and its parameters, flags
        lookup entries, tags and deprecates images (distribution copies through the tagger role)."""
        stack = cdk.Stack.of(self)
        function.add_environment("PRODUCTION_CHANNEL_TABLE_NAME", self.channels.table_name)
        function.add_environment("TAGGER_ROLE_NAME", tagger_role_name)
        function.add_environment("DISTRIBUTION_ACCOUNTS", ",".join(distribution_accounts))
        self.channels.grant(function, "dynamodb:GetItem", "dynamodb:PutItem")
        lookup_table.grant(function, "dynamodb:GetItem", "dynamodb:PutItem")
        function.add_to_role_policy(iam.PolicyStatement(
            actions=["ssm:PutParameter", "ssm:DeleteParameter"], resources=[self.parameter_arn]))
        function.add_to_role_policy(iam.PolicyStatement(
            actions=["ec2:CreateTags", "ec2:EnableImageDeprecation"],
            resources=[f"arn:{cdk.Aws.PARTITION}:ec2:*::image/*"]))
        if distribution_accounts:
            function.add_to_role_policy(iam.PolicyStatement(
                actions=["sts:AssumeRole"],
                resources=[f"arn:{stack.partition}:iam::{account}:role/{tagger_role_name}"
                           for account in distribution_accounts]))

    def _declare_functions(self, bucket: s3.IBucket) -> None:
        stack = cdk.Stack.of(self)
        start = self.function("BackupStartFn", handler="production.start_backup",
                              environment={"BACKUP_BUCKET_NAME": bucket.bucket_name},
                              description="Approval: starts the AMI's store-image task into the backup bucket")
        check = self.function("BackupCheckFn", handler="production.check_backup",
                              description="Approval: reads the AMI's store-image task")
        publish = self.function(
            "ProductionPublishFn", handler="production.publish_release",
            environment={"PRODUCTION_CHANNEL_TABLE_NAME": self.channels.table_name},
            description="Approval: publishes the approved AMI to its production channel and shapes the result")
        images = cdk.Arn.format(cdk.ArnComponents(service="ec2", account="", resource="image", resource_name="*"),
                                stack)
        snapshots = cdk.Arn.format(cdk.ArnComponents(service="ec2", account="", resource="snapshot",
                                                     resource_name="*"), stack)
        start.add_to_role_policy(iam.PolicyStatement(actions=["ec2:CreateStoreImageTask"], resources=[images]))
        # EC2 reads the snapshots' blocks and writes the object with the caller's permissions.
        start.add_to_role_policy(iam.PolicyStatement(
            actions=["ebs:GetSnapshotBlock", "ebs:ListSnapshotBlocks", "ebs:ListChangedBlocks"],
            resources=[snapshots]))
        start.add_to_role_policy(iam.PolicyStatement(
            actions=["s3:PutObject", "s3:PutObjectTagging", "s3:AbortMultipartUpload"],
            resources=[bucket.arn_for_objects("*")]))
        start.add_to_role_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn]))
        # DescribeStoreImageTasks has no resource-level permissions.
        check.add_to_role_policy(iam.PolicyStatement(actions=["ec2:DescribeStoreImageTasks"], resources=["*"]))
        self.channels.grant(publish, "dynamodb:GetItem", "dynamodb:PutItem")
        publish.add_to_role_policy(iam.PolicyStatement(
            actions=["ssm:PutParameter", "ssm:DeleteParameter"], resources=[self.parameter_arn]))

    def _definition(self) -> sfn.IChainable:
        fns = self.functions
        start = self.invoke(
            "Back the AMI up to S3", fns["BackupStartFn"],
            payload={"lifecycle_id": sfn.JsonPath.string_at("$.lifecycle_id"),
                     "ami": sfn.JsonPath.object_at("$.ami"),
                     "commit_ref": sfn.JsonPath.string_at("$.commit_ref"),
                     "product_ver": sfn.JsonPath.string_at("$.product_ver"),
                     "product_name": sfn.JsonPath.string_at("$.product_name")},
            result_path="$.backup")
        pause = sfn.Wait(self, "Let EC2 store the AMI", time=sfn.WaitTime.duration(BACKUP_CHECK_INTERVAL))
        check = self.invoke("Check the AMI backup", fns["BackupCheckFn"],
                            payload={"ami_id": sfn.JsonPath.string_at("$.backup.ami_id"),
                                     "bucket": sfn.JsonPath.string_at("$.backup.bucket"),
                                     "key": sfn.JsonPath.string_at("$.backup.key")},
                            result_path="$.backup")
        failed = sfn.Pass(self, "AMI backup failed",
                          parameters={"Error": AMI_BACKUP_FAILED, "Cause": sfn.JsonPath.string_at("$.backup.reason")},
                          result_path="$.error")
        failed.next(self.report_error)
        publish = self.invoke(
            "Publish the AMI to the production channel", fns["ProductionPublishFn"],
            payload={"lifecycle_id": sfn.JsonPath.string_at("$.lifecycle_id"),
                     "stack_tag": sfn.JsonPath.string_at("$.stack_tag"),
                     "event": sfn.JsonPath.string_at("$.event"),
                     "product_name": sfn.JsonPath.string_at("$.product_name"),
                     "ami": sfn.JsonPath.object_at("$.ami"),
                     "backup": sfn.JsonPath.object_at("$.backup"),
                     "approval": sfn.JsonPath.object_at("$.approval")},
            result_path="$.result")
        start.next(pause)
        pause.next(check)
        check.next(sfn.Choice(self, "Did the backup end?")
                   .when(sfn.Condition.boolean_equals("$.backup.done", True), publish)
                   .when(sfn.Condition.boolean_equals("$.backup.failed", True), failed)
                   .otherwise(pause))
        publish.next(self.send_result("$.result"))
        return start
