"""The BUILD_AMI event: a state machine that bakes an AMI with EC2 Image Builder.

Flow (docs/events.md has the diagram):

1. start the Image Builder pipeline (Lambda);
2. wait for the build to end. The wait is a task token registered in the
   build-waits table; the Lambda subscribed to the Image Builder topic
   resumes it when the image becomes AVAILABLE, or fails it with
   ``ImageBuildFailed`` when the image is FAILED or CANCELLED. No polling
   loop: the wait has a timeout. After a timeout or a failure, one check
   of the image (GetImage) decides: still building -> wait again;
   AVAILABLE -> go on; FAILED, CANCELLED or DELETED -> report the image's
   own reason as the error;
3. read the AMI details and shape the BUILD_AMI result (Lambda);
4. hand the result to the creation receiver and wait until it is recorded.

Input (``orchestrator.domain.events.execution_input``) plus
``imagebuilder_pipeline_arn``.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.amilifecycle.events.base import EventProps, LifecycleEvent
from stacks.amilifecycle.storage import lifecycle_table
from stacks.vocabulary import EventName

BUILD_WAITS_PARTITION_KEY = "image_build_version_arn"
BUILD_WAITS_TTL_ATTRIBUTE = "expires_at"
# One slice of waiting for the Image Builder notification; when it passes
# without one, a safety poll looks at the image. Capped by the build timeout.
BUILD_WAIT_SLICE = cdk.Duration.minutes(30)
IMAGE_BUILD_FAILED = "ImageBuildFailed"
BUILD_FAILED = "AmiBuildFailed"


def build_wait_slice(build_timeout: cdk.Duration) -> cdk.Duration:
    """How long one wait for the build notification lasts before a safety poll."""
    minutes = min(BUILD_WAIT_SLICE.to_minutes(), build_timeout.to_minutes())
    return cdk.Duration.minutes(minutes)


class BuildEvent(LifecycleEvent):
    """``build_waits`` (table of pending task tokens) besides what every event has."""

    events = (EventName.BUILD_AMI,)
    summary = "bake an AMI with EC2 Image Builder and record it"
    log_name = "build"
    state_machine_id = "LifeCycleAmiBuildStateMachineName"
    output_key = "lifeCycleAmiBuildStateMachineName"
    failure_error = BUILD_FAILED

    def __init__(self, scope: Construct, construct_id: str, *, props: EventProps, timeout: cdk.Duration,
                 pipeline_arn: str, image_builder_topic: sns.ITopic, key: kms.IKey) -> None:
        super().__init__(scope, construct_id, props=props, timeout=timeout)
        self.wait_slice = build_wait_slice(timeout)
        self.build_waits = lifecycle_table(self, "BuildWaitsTable", partition_key=BUILD_WAITS_PARTITION_KEY,
                                           key=key, time_to_live_attribute=BUILD_WAITS_TTL_ATTRIBUTE)
        self._declare_functions(pipeline_arn)
        self.finish(self._definition())
        self.grant_task_responses(self.functions["BuildWaitFn"], self.functions["ImageBuildNotificationFn"])
        image_builder_topic.add_subscription(
            subscriptions.LambdaSubscription(self.functions["ImageBuildNotificationFn"]))

    def _declare_functions(self, pipeline_arn: str) -> None:
        waits_env = {"BUILD_WAITS_TABLE_NAME": self.build_waits.table_name}
        image_arns = [cdk.Arn.format(cdk.ArnComponents(service="imagebuilder", resource="image", resource_name="*"),
                                     cdk.Stack.of(self))]
        start = self.function("BuildStartPipelineFn", handler="build.start_pipeline",
                              description="BUILD_AMI: starts the Image Builder pipeline",
                              environment={"IMAGEBUILDER_PIPELINE_ARN": pipeline_arn})
        start.add_to_role_policy(iam.PolicyStatement(actions=["imagebuilder:StartImagePipelineExecution"],
                                                     resources=[pipeline_arn]))
        wait = self.function("BuildWaitFn", handler="build.wait_for_build", environment=waits_env,
                             description="BUILD_AMI: registers the task token that the build notification resumes")
        notification = self.function(
            "ImageBuildNotificationFn", handler="build.image_build_notification", environment=waits_env,
            description="BUILD_AMI: resumes the waiting build when Image Builder reports the image's end")
        check = self.function("BuildCheckImageFn", handler="build.check_build",
                              description="BUILD_AMI: safety poll of the image when no notification came in time")
        details = self.function("BuildAmiDetailsFn", handler="build.ami_details",
                                description="BUILD_AMI: reads the built AMIs and shapes the event result")
        for function in (wait, notification):
            self.build_waits.grant_read_write_data(function)
        for function in (check, details):
            function.add_to_role_policy(iam.PolicyStatement(actions=["imagebuilder:GetImage"], resources=image_arns))

    def _definition(self) -> sfn.IChainable:
        fns = self.functions
        start = self.invoke(
            "Start EC2 Image Builder pipeline execution", fns["BuildStartPipelineFn"],
            payload={
                "lifecycle_id": sfn.JsonPath.string_at("$.lifecycle_id"),
                "imagebuilder_pipeline_arn": sfn.JsonPath.string_at("$.imagebuilder_pipeline_arn"),
                "execution_name": sfn.JsonPath.string_at("$$.Execution.Name"),
            },
            result_path="$.build",
        )
        wait = self.invoke(
            "Wait for the image build notification", fns["BuildWaitFn"],
            payload={
                "task_token": sfn.JsonPath.task_token,
                "lifecycle_id": sfn.JsonPath.string_at("$.lifecycle_id"),
                "image_build_version_arn": sfn.JsonPath.string_at("$.build.image_build_version_arn"),
            },
            result_path="$.image", catch_errors=False, wait_for_token=True, timeout=self.wait_slice,
        )
        check = self.invoke(
            "Check the image build", fns["BuildCheckImageFn"],
            payload={"image_build_version_arn": sfn.JsonPath.string_at("$.build.image_build_version_arn")},
            result_path="$.image",
        )
        # A timeout, and equally a failure notification, hand over to one GetImage: the image itself
        # is the authority on how the build ended and why (the reason reaches the error report from it).
        wait.add_catch(check, errors=[sfn.Errors.TIMEOUT, IMAGE_BUILD_FAILED], result_path="$.wait_outcome")
        self.catch_all(wait)

        details = self.invoke(
            "Get AMI details", fns["BuildAmiDetailsFn"],
            payload={
                "lifecycle_id": sfn.JsonPath.string_at("$.lifecycle_id"),
                "image_build_version_arn": sfn.JsonPath.string_at("$.build.image_build_version_arn"),
                "product_ver": sfn.JsonPath.string_at("$.product_ver"),
                "product_name": sfn.JsonPath.string_at("$.product_name"),
                "commit_ref": sfn.JsonPath.string_at("$.commit_ref"),
            },
            result_path="$.result",
        )
        image_build_outcome(self, "Image build", wait=wait, check=check, details=details,
                            on_failure=self.report_error)
        details.next(self.send_result("$.result"))
        return start.next(wait)


def image_build_outcome(scope: Construct, noun: str, *, wait: sfn.IChainable, check: sfn.INextable,
                        details: sfn.IChainable, on_failure: sfn.IChainable) -> None:
    """Wire what follows a check of an Image Builder image (build and patch share it): AVAILABLE goes on
    to ``details``, FAILED / CANCELLED / DELETED to a Pass raising ImageBuildFailed with Image Builder's
    reason and then to ``on_failure``, anything else back to ``wait``; the wait itself ends in
    ``details`` (the notification arrived with the image available)."""
    image_failed = sfn.Pass(
        scope, f"{noun} failed",
        parameters={"Error": IMAGE_BUILD_FAILED, "Cause": sfn.JsonPath.string_at("$.image.reason")},
        result_path="$.error",
    )
    image_failed.next(on_failure)
    outcome = (
        sfn.Choice(scope, f"Did the {noun.lower()} end?")
        .when(sfn.Condition.string_equals("$.image.status", "AVAILABLE"), details)
        .when(sfn.Condition.or_(*(sfn.Condition.string_equals("$.image.status", status)
                                  for status in ("FAILED", "CANCELLED", "DELETED"))), image_failed)
        .otherwise(wait)
    )
    check.next(outcome)
    wait.next(details)
