"""Exporting an AMI to a VMDK disk image in S3: Lambda steps and states any state machine can chain.

:class:`VmdkExportSteps` declares three functions through the function
factory it is given, with the export bucket and the VM Import/Export role
passed explicitly, and builds the states that use them
(:meth:`VmdkExportSteps.chain`) inside the state machine that asks:

1. *Check the AMI to export* (``vmdk_export.check_image``): the AMI is
   ``available`` and no other export of it is active; else wait
   (``IMAGE_CHECK_SECONDS``) and look again. A missing or failed AMI is an
   error (``VmdkExportFailed``).
2. *Export the AMI to VMDK* (``vmdk_export.start_export``): ``ExportImage``
   into ``exports/<scope>/<ami>/`` of the bucket, with the role's name; the
   client token comes from the execution name, so a retried step starts one
   export.
3. *Wait for the export* / *Check the export* (``vmdk_export.check_export``):
   the wait doubles from 60 s to at most 10 minutes (``SecondsPath`` from
   the check), so an hour-long export costs about ten transitions; an
   export still running when the waits add up to the caller's ``max_wait``
   is cancelled and reported (``VmdkExportTimedOut``).
   ``completed`` goes on; ``deleting``/``deleted`` (a failed or cancelled
   export) go to *Export failed*, which hands ``VmdkExportFailed`` with AWS's
   ``StatusMessage`` to the state machine's failure handling at once.

The link to the disk is presigned by the step that sends it
(:meth:`grant_download_links`), so a bearer URL never sits in an
execution's history. The QA certification request and the standalone
export pipeline chain these same states.
"""

from __future__ import annotations

from typing import Callable

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.amilifecycle.functions import FunctionFactory

EXPORT_FAILED = "VmdkExportFailed"
EXPORTS_PREFIX = "exports/"

# ``invoke(name, function, payload=..., result_path=...)``: a Lambda step with the caller's retries and catches.
Invoke = Callable[..., sfn.TaskStateBase]


class VmdkExportSteps(Construct):
    """``check_image``, ``start_export``, ``check_export`` (functions); ``bucket``, ``vmimport_role``."""

    def __init__(self, scope: Construct, construct_id: str, *, functions: FunctionFactory, bucket: s3.IBucket,
                 vmimport_role: iam.IRole, function_prefix: str) -> None:
        super().__init__(scope, construct_id)
        self.bucket = bucket
        self.vmimport_role = vmimport_role
        export_env = {"EXPORT_BUCKET_NAME": bucket.bucket_name, "VMIMPORT_ROLE_NAME": vmimport_role.role_name}
        self.check_image = functions.function(
            f"{function_prefix}CheckImageFn", handler="vmdk_export.check_image",
            description="VMDK export: is the AMI available, with no other export of it active?")
        self.start_export = functions.function(
            f"{function_prefix}StartExportFn", handler="vmdk_export.start_export", environment=export_env,
            description="VMDK export: exports the AMI to VMDK into the export bucket (ExportImage)")
        self.check_export = functions.function(
            f"{function_prefix}CheckExportFn", handler="vmdk_export.check_export",
            description="VMDK export: reads the export task's status (completed, active, or deleted with a reason)")
        self._grant()

    def _grant(self) -> None:
        stack = cdk.Stack.of(self)
        images = f"arn:{cdk.Aws.PARTITION}:ec2:{cdk.Aws.REGION}::image/*"
        tasks = cdk.Arn.format(cdk.ArnComponents(service="ec2", resource="export-image-task", resource_name="*"),
                               stack)
        # Describe calls have no resource-level permissions.
        self.check_image.add_to_role_policy(iam.PolicyStatement(
            sid="ReadImagesAndExports", actions=["ec2:DescribeImages", "ec2:DescribeExportImageTasks"],
            resources=["*"]))
        self.start_export.add_to_role_policy(iam.PolicyStatement(
            sid="ExportImages", actions=["ec2:ExportImage"], resources=[images, tasks]))
        self.start_export.add_to_role_policy(iam.PolicyStatement(
            sid="TagExportTasksAtCreation", actions=["ec2:CreateTags"], resources=[tasks],
            conditions={"StringEquals": {"ec2:CreateAction": "ExportImage"}}))
        self.vmimport_role.grant_pass_role(self.start_export)
        self.check_export.add_to_role_policy(iam.PolicyStatement(
            sid="ReadExports", actions=["ec2:DescribeExportImageTasks"], resources=["*"]))
        self.check_export.add_to_role_policy(iam.PolicyStatement(
            sid="CancelExportsOutOfTime", actions=["ec2:CancelExportTask"], resources=[tasks]))

    @property
    def functions(self) -> tuple[lambda_.Function, ...]:
        return self.check_image, self.start_export, self.check_export

    def grant_download_links(self, function: lambda_.Function, *, expiry_secs: int) -> None:
        """``function`` presigns GET links to exported disks (``vmdk_export.download_link``): it reads objects
        under ``exports/`` of the bucket, and knows the bucket and the links' lifetime."""
        self.bucket.grant_read(function, f"{EXPORTS_PREFIX}*")
        function.add_environment("EXPORT_BUCKET_NAME", self.bucket.bucket_name)
        function.add_environment("EXPORT_LINK_EXPIRY_SECS", str(expiry_secs))

    def chain(self, scope: Construct, invoke: Invoke, *, ami_id: str, export_scope: str, description: str,
              max_wait: cdk.Duration, on_failure: sfn.IChainable, then: sfn.IChainable) -> sfn.IChainable:
        """The export states in ``scope`` (the state machine's construct); returns the first one.

        ``ami_id`` and ``export_scope`` are JSONPaths of the execution input. A completed export goes on to
        ``then`` with ``$.export`` holding ``task_id``, ``bucket`` and ``prefix``; ``on_failure`` receives
        ``$.error`` = ``{Error: VmdkExportFailed, Cause: <AWS's StatusMessage>}``. An export still running
        after ``max_wait`` of waiting is cancelled and the check raises ``VmdkExportTimedOut`` (caught by
        ``invoke``'s catches, like every other error).
        """
        check_image = invoke("Check the AMI to export", self.check_image,
                             payload={"ami_id": sfn.JsonPath.string_at(ami_id)}, result_path="$.image_check")
        wait_image = sfn.Wait(scope, "Wait until the AMI can be exported",
                              time=sfn.WaitTime.seconds_path("$.image_check.wait_seconds"))
        start = invoke("Export the AMI to VMDK", self.start_export, result_path="$.export", payload={
            "ami_id": sfn.JsonPath.string_at(ami_id),
            "export_scope": sfn.JsonPath.string_at(export_scope),
            "description": description,
            "execution_name": sfn.JsonPath.string_at("$$.Execution.Name"),
        })
        wait_export = sfn.Wait(scope, "Wait for the export",
                               time=sfn.WaitTime.seconds_path("$.export.wait_seconds"))
        check_export = invoke("Check the export", self.check_export, result_path="$.export", payload={
            "task_id": sfn.JsonPath.string_at("$.export.task_id"),
            "checks": sfn.JsonPath.number_at("$.export.checks"),
            "max_wait_seconds": int(max_wait.to_seconds()),
        })
        failed = sfn.Pass(scope, "Export failed", result_path="$.error", parameters={
            "Error": EXPORT_FAILED, "Cause": sfn.JsonPath.string_at("$.export.failure")})
        failed.next(on_failure)
        outcome = (sfn.Choice(scope, "Did the export end?")
                   .when(sfn.Condition.boolean_equals("$.export.done", True), then)
                   .when(sfn.Condition.boolean_equals("$.export.failed", True), failed)
                   .otherwise(wait_export))
        check_image.next(sfn.Choice(scope, "Can the AMI be exported now?")
                         .when(sfn.Condition.boolean_equals("$.image_check.ready", True), start)
                         .otherwise(wait_image))
        wait_image.next(check_image)
        start.next(wait_export)
        wait_export.next(check_export)
        check_export.next(outcome)
        return check_image
