"""The standalone VMDK export pipeline: a pipeline build exported to VMDK and its link emailed.

``execute-pipeline.sh`` starts the Image Builder pipeline with the image tag
``AMI_LC_VMDK_EXPORT=TRUE``. Image Builder's notification of the finished
build reaches ``VmdkExportTriggerFn`` (subscribed to the Image Builder
topic), which starts this state machine for a tagged, AVAILABLE build:

1. the export states of :class:`VmdkExportSteps`, the very functions and
   states the QA certification request uses (its instance is passed in);
2. *Email the download link* (``vmdk_pipeline.notify_export``): presigns the
   disk's link and publishes it on the export topic, subscribed to
   ``imagebuilder.imageBuilderEmailAddress`` (the address that is told about
   the pipeline's builds);
3. any error: *Email the export failure* (``vmdk_pipeline.notify_failure``),
   then the execution fails.

It lives beside the lifecycle events in the AmiLifecycle stack, where the
function factory, the Image Builder topic and the export steps are; the
VmdkExport stack keeps the bucket and the role, passed in explicitly.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from stacks.amilifecycle.events.base import LAMBDA_SERVICE_ERRORS, state_machine_log_group_name
from stacks.amilifecycle.events.vmdk_export import VmdkExportSteps
from stacks.amilifecycle.functions import FunctionFactory
from stacks.amilifecycle.logs import LifecycleLogGroups

OUTPUT_KEY = "vmdkExportStateMachineArn"
TOPIC_OUTPUT_KEY = "vmdkExportTopicArn"
PIPELINE_FAILED = "VmdkExportPipelineFailed"


class VmdkExportPipeline(Construct):
    """``state_machine``, ``topic``, ``trigger`` (function)."""

    def __init__(self, scope: Construct, construct_id: str, *, stack_tag: str, functions: FunctionFactory,
                 log_groups: LifecycleLogGroups, export: VmdkExportSteps, image_builder_topic: sns.ITopic,
                 key: kms.IKey, email_address: str, link_expiry_secs: int, timeout: cdk.Duration) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "VmdkExportTopic", display_name=f"AMI VMDK exports ({stack_tag})",
                               master_key=key, enforce_ssl=True)
        if email_address:
            self.topic.add_subscription(subscriptions.EmailSubscription(email_address))
        self.notify = functions.function(
            "VmdkExportNotifyFn", handler="vmdk_pipeline.notify_export", timeout=cdk.Duration.minutes(1),
            description="VMDK export pipeline: presigns the exported disk's link and emails it",
            environment={"VMDK_EXPORT_TOPIC_ARN": self.topic.topic_arn})
        export.grant_download_links(self.notify, expiry_secs=link_expiry_secs)
        self.notify_failure = functions.function(
            "VmdkExportFailureFn", handler="vmdk_pipeline.notify_failure",
            description="VMDK export pipeline: emails why an export ended without a disk",
            environment={"VMDK_EXPORT_TOPIC_ARN": self.topic.topic_arn})
        for function in (self.notify, self.notify_failure):
            self.topic.grant_publish(function)
            key.grant(function, "kms:GenerateDataKey", "kms:Decrypt")

        self.state_machine = self._state_machine(stack_tag, log_groups, export, timeout)
        self.trigger = functions.function(
            "VmdkExportTriggerFn", handler="vmdk_pipeline.on_image_build",
            description="VMDK export pipeline: starts the export of a finished build tagged AMI_LC_VMDK_EXPORT",
            environment={"VMDK_EXPORT_STATE_MACHINE_ARN": self.state_machine.state_machine_arn})
        self.state_machine.grant_start_execution(self.trigger)
        self.trigger.add_to_role_policy(iam.PolicyStatement(
            sid="ReadFinishedImages", actions=["imagebuilder:GetImage"],
            resources=[cdk.Arn.format(cdk.ArnComponents(service="imagebuilder", resource="image",
                                                        resource_name="*"), cdk.Stack.of(self))]))
        image_builder_topic.add_subscription(subscriptions.LambdaSubscription(self.trigger))
        for output_id, value, description in (
                (OUTPUT_KEY, self.state_machine.state_machine_arn, "ARN of the VMDK export pipeline's state machine"),
                (TOPIC_OUTPUT_KEY, self.topic.topic_arn, "Topic of finished VMDK exports (emails the link)")):
            output = cdk.CfnOutput(self, output_id, value=value, description=description)
            output.override_logical_id(output_id)

    def _invoke(self, name: str, function: lambda_.IFunction, *, payload: dict, result_path: str
                ) -> tasks.LambdaInvoke:
        step = tasks.LambdaInvoke(self, name, lambda_function=function, payload=sfn.TaskInput.from_object(payload),
                                  payload_response_only=True, result_path=result_path,
                                  retry_on_service_exceptions=False)
        step.add_retry(errors=list(LAMBDA_SERVICE_ERRORS), interval=cdk.Duration.seconds(2), max_attempts=6,
                       backoff_rate=2, max_delay=cdk.Duration.seconds(60), jitter_strategy=sfn.JitterType.FULL)
        step.add_catch(self._failed, errors=[sfn.Errors.ALL], result_path="$.error")
        return step

    def _state_machine(self, stack_tag: str, log_groups: LifecycleLogGroups, export: VmdkExportSteps,
                       timeout: cdk.Duration) -> sfn.StateMachine:
        report = tasks.LambdaInvoke(
            self, "Email the export failure", lambda_function=self.notify_failure, payload_response_only=True,
            result_path=sfn.JsonPath.DISCARD, retry_on_service_exceptions=False,
            payload=sfn.TaskInput.from_object({"ami": sfn.JsonPath.object_at("$.ami"),
                                               "image_build_version_arn": sfn.JsonPath.string_at(
                                                   "$.image_build_version_arn"),
                                               "error": sfn.JsonPath.object_at("$.error")}))
        report.add_retry(errors=[sfn.Errors.ALL], interval=cdk.Duration.seconds(2), max_attempts=4, backoff_rate=2)
        fail = sfn.Fail(self, "Export failure", error=PIPELINE_FAILED,
                        cause="The VMDK export failed; the export topic's message says why")
        report.next(fail)
        report.add_catch(fail, errors=[sfn.Errors.ALL], result_path="$.report_error")
        self._failed = report
        notify = self._invoke("Email the download link", self.notify, result_path="$.result", payload={
            "ami": sfn.JsonPath.object_at("$.ami"),
            "image_build_version_arn": sfn.JsonPath.string_at("$.image_build_version_arn"),
            "export": sfn.JsonPath.object_at("$.export")})
        notify.next(sfn.Succeed(self, "Export emailed"))
        first = export.chain(self, self._invoke, ami_id="$.ami.id", export_scope="$.export_scope",
                             description="AMI VMDK export pipeline",
                             max_wait=cdk.Duration.seconds(int(timeout.to_seconds() * 4 // 5)),
                             on_failure=report, then=notify)
        log_group = log_groups.log_group("VmdkExportLogGroup", state_machine_log_group_name(stack_tag, "vmdk-export"))
        return sfn.StateMachine(
            self, "VMDKExportStateMachine",
            comment="Export a pipeline build's AMI to VMDK in S3 and email the download link",
            definition_body=sfn.DefinitionBody.from_chainable(first), timeout=timeout, tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ERROR, include_execution_data=False))
