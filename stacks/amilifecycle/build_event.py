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
4. hand the result to the creation receiver queue and wait for the
   receiver to confirm it recorded it (SQS callback, no Lambda).

Every task catches every error and reports it to the error receiver queue
(an SQS integration, no Lambda in between) before the execution fails, so
the lifecycle's status always shows why a build ended.

The definition stays in JSONPath (the local cloud's interpreter does not
run JSONata) and the input is a plain JSON object:
``{lifecycle_id, stack_tag, imagebuilder_pipeline_arn, product_ver,
product_name, commit_ref}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from stacks.amilifecycle.storage import lifecycle_table

if TYPE_CHECKING:  # the stack imports this module
    from stacks.amilifecycle.stack import AmiLifecycleStack

BUILD_EVENT = "BUILD_AMI"
BUILD_WAITS_PARTITION_KEY = "image_build_version_arn"
BUILD_WAITS_TTL_ATTRIBUTE = "expires_at"
# One slice of waiting for the Image Builder notification; when it passes
# without one, a safety poll looks at the image. Capped by the build timeout.
BUILD_WAIT_SLICE = cdk.Duration.minutes(30)
# Lambda's own transient failures, retried with backoff on every Lambda step.
LAMBDA_SERVICE_ERRORS = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)
IMAGE_BUILD_FAILED = "ImageBuildFailed"
BUILD_FAILED = "AmiBuildFailed"


def build_state_machine_log_group_name(stack_tag: str) -> str:
    """Execution log of the build state machine (``/aws/vendedlogs/`` keeps the
    log group's resource policy small when Step Functions delivers to it)."""
    return f"/aws/vendedlogs/states/{stack_tag}/ami-lifecycle-build"


def build_wait_slice(build_timeout: cdk.Duration) -> cdk.Duration:
    """How long one wait for the build notification lasts before a safety poll."""
    minutes = min(BUILD_WAIT_SLICE.to_minutes(), build_timeout.to_minutes())
    return cdk.Duration.minutes(minutes)


class BuildEvent(Construct):
    """``state_machine`` (the BUILD_AMI state machine), ``build_waits`` (table of
    pending task tokens) and ``functions`` (step name -> Lambda function)."""

    def __init__(self, scope: Construct, construct_id: str, *, stack: "AmiLifecycleStack") -> None:
        super().__init__(scope, construct_id)
        settings = stack.settings
        key = stack.keys.orchestrator
        self._stack = stack
        self.timeout = cdk.Duration.minutes(settings.lifecycle.state_machines.build_mins)
        self.receiver_timeout = cdk.Duration.minutes(settings.lifecycle.creation_receiver_timeout_mins)
        self.wait_slice = build_wait_slice(self.timeout)

        self.build_waits = lifecycle_table(self, "BuildWaitsTable", partition_key=BUILD_WAITS_PARTITION_KEY, key=key,
                                           time_to_live_attribute=BUILD_WAITS_TTL_ATTRIBUTE)
        self.functions = self._functions()
        self.state_machine = self._state_machine()
        self._grant_task_responses()
        stack.image_builder.topic.add_subscription(
            subscriptions.LambdaSubscription(self.functions["ImageBuildNotificationFn"])
        )

        output = cdk.CfnOutput(
            self,
            "lifeCycleAmiBuildStateMachineName",
            value=self.state_machine.state_machine_arn,
            description="ARN of the BUILD_AMI state machine (the key keeps its historical name)",
        )
        output.override_logical_id("lifeCycleAmiBuildStateMachineName")

    # ------------------------------------------------------------------ functions

    def _functions(self) -> dict[str, lambda_.Function]:
        stack = self._stack
        waits_env = {"BUILD_WAITS_TABLE_NAME": self.build_waits.table_name}
        image_arns = [
            cdk.Arn.format(cdk.ArnComponents(service="imagebuilder", resource="image", resource_name="*"), stack),
        ]
        start = stack.functions.function(
            "BuildStartPipelineFn",
            handler="build.start_pipeline",
            description="BUILD_AMI: starts the Image Builder pipeline",
        )
        start.add_to_role_policy(iam.PolicyStatement(
            actions=["imagebuilder:StartImagePipelineExecution"],
            resources=[stack.image_builder.pipeline_arn],
        ))
        wait = stack.functions.function(
            "BuildWaitFn",
            handler="build.wait_for_build",
            description="BUILD_AMI: registers the task token that the build notification resumes",
            environment=waits_env,
        )
        notification = stack.functions.function(
            "ImageBuildNotificationFn",
            handler="build.image_build_notification",
            description="BUILD_AMI: resumes the waiting build when Image Builder reports the image's end",
            environment=waits_env,
        )
        check = stack.functions.function(
            "BuildCheckImageFn",
            handler="build.check_build",
            description="BUILD_AMI: safety poll of the image when no notification came in time",
        )
        details = stack.functions.function(
            "BuildAmiDetailsFn",
            handler="build.ami_details",
            description="BUILD_AMI: reads the built AMIs and shapes the event result",
        )
        for function in (wait, notification):
            self.build_waits.grant_read_write_data(function)
        for function in (check, details):
            function.add_to_role_policy(iam.PolicyStatement(actions=["imagebuilder:GetImage"], resources=image_arns))
        return {
            "BuildStartPipelineFn": start,
            "BuildWaitFn": wait,
            "ImageBuildNotificationFn": notification,
            "BuildCheckImageFn": check,
            "BuildAmiDetailsFn": details,
        }

    def _grant_task_responses(self) -> None:
        """The wait step and the notification handler answer the build's task tokens.

        A separate policy, not the roles' default ones: each function's
        default policy is a dependency of the function, the state machine
        depends on the function, and the grant names the state machine.
        """
        policy = iam.Policy(self, "BuildTaskResponsePolicy", statements=[iam.PolicyStatement(
            actions=["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
            resources=[self.state_machine.state_machine_arn],
        )])
        for name in ("BuildWaitFn", "ImageBuildNotificationFn"):
            role = self.functions[name].role
            assert role is not None
            policy.attach_to_role(role)

    # -------------------------------------------------------------- state machine

    def _state_machine(self) -> sfn.StateMachine:
        stack = self._stack
        fns = self.functions
        report_error = self._report_error()

        start = self._invoke(
            "Start EC2 Image Builder pipeline execution", fns["BuildStartPipelineFn"],
            payload={
                "lifecycle_id": sfn.JsonPath.string_at("$.lifecycle_id"),
                "imagebuilder_pipeline_arn": sfn.JsonPath.string_at("$.imagebuilder_pipeline_arn"),
                "execution_name": sfn.JsonPath.string_at("$$.Execution.Name"),
            },
            result_path="$.build", report_error=report_error,
        )
        wait = self._invoke(
            "Wait for the image build notification", fns["BuildWaitFn"],
            payload={
                "task_token": sfn.JsonPath.task_token,
                "lifecycle_id": sfn.JsonPath.string_at("$.lifecycle_id"),
                "image_build_version_arn": sfn.JsonPath.string_at("$.build.image_build_version_arn"),
            },
            result_path="$.image", report_error=None, wait_for_token=True, timeout=self.wait_slice,
        )
        check = self._invoke(
            "Check the image build", fns["BuildCheckImageFn"],
            payload={"image_build_version_arn": sfn.JsonPath.string_at("$.build.image_build_version_arn")},
            result_path="$.image", report_error=report_error,
        )
        # A timeout, and equally a failure notification, hand over to one GetImage: the image itself
        # is the authority on how the build ended and why (the reason reaches the error report from it).
        wait.add_catch(check, errors=[sfn.Errors.TIMEOUT, IMAGE_BUILD_FAILED], result_path="$.wait_outcome")
        wait.add_catch(report_error, errors=[sfn.Errors.ALL], result_path="$.error")

        details = self._invoke(
            "Get AMI details", fns["BuildAmiDetailsFn"],
            payload={
                "lifecycle_id": sfn.JsonPath.string_at("$.lifecycle_id"),
                "image_build_version_arn": sfn.JsonPath.string_at("$.build.image_build_version_arn"),
                "product_ver": sfn.JsonPath.string_at("$.product_ver"),
                "product_name": sfn.JsonPath.string_at("$.product_name"),
                "commit_ref": sfn.JsonPath.string_at("$.commit_ref"),
            },
            result_path="$.result", report_error=report_error,
        )
        to_receiver = tasks.SqsSendMessage(
            self, "Send the build result to the creation receiver",
            queue=stack.messaging.creation_receiver.queue,
            message_body=sfn.TaskInput.from_object({
                "task_token": sfn.JsonPath.task_token,
                "task_details": {"value": sfn.JsonPath.object_at("$.result")},
            }),
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            task_timeout=sfn.Timeout.duration(self.receiver_timeout),
            result_path="$.receiver",
        )
        to_receiver.add_catch(report_error, errors=[sfn.Errors.ALL], result_path="$.error")

        image_failed = sfn.Pass(
            self, "Image build failed",
            parameters={"Error": IMAGE_BUILD_FAILED, "Cause": sfn.JsonPath.string_at("$.image.reason")},
            result_path="$.error",
        )
        image_failed.next(report_error)
        outcome = (
            sfn.Choice(self, "Did the image build end?")
            .when(sfn.Condition.string_equals("$.image.status", "AVAILABLE"), details)
            .when(sfn.Condition.or_(*(sfn.Condition.string_equals("$.image.status", status)
                                      for status in ("FAILED", "CANCELLED", "DELETED"))), image_failed)
            .otherwise(wait)
        )
        check.next(outcome)
        wait.next(details)
        details.next(to_receiver)
        to_receiver.next(sfn.Succeed(self, "AMI build event success", comment="The receiver recorded the AMI"))
        definition = start.next(wait)

        log_group = stack.log_groups.log_group(
            "BuildStateMachineLogGroup", build_state_machine_log_group_name(stack.settings.stack_tag)
        )
        return sfn.StateMachine(
            self,
            "LifeCycleAmiBuildStateMachineName",
            comment="BUILD_AMI: bake an AMI with EC2 Image Builder and record it",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=self.timeout,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ERROR, include_execution_data=False),
        )

    def _invoke(self, name: str, function: lambda_.IFunction, *, payload: Mapping[str, Any], result_path: str,
                report_error: sfn.IChainable | None, wait_for_token: bool = False,
                timeout: cdk.Duration | None = None) -> tasks.LambdaInvoke:
        """A Lambda step that retries Lambda's transient errors and sends any other error to ``report_error``.

        The step's result is the function's return value (or, waiting for a
        token, the output the token was answered with), stored at
        ``result_path`` so the execution input stays intact. A step that
        must route some errors elsewhere first passes ``report_error=None``
        and adds its catches itself (catchers match in the order added).
        """
        step = tasks.LambdaInvoke(
            self, name,
            lambda_function=function,
            payload=sfn.TaskInput.from_object(dict(payload)),
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN if wait_for_token else None,
            payload_response_only=None if wait_for_token else True,
            result_path=result_path,
            retry_on_service_exceptions=False,
            task_timeout=sfn.Timeout.duration(timeout) if timeout is not None else None,
        )
        step.add_retry(errors=list(LAMBDA_SERVICE_ERRORS), interval=cdk.Duration.seconds(2), max_attempts=6,
                       backoff_rate=2, max_delay=cdk.Duration.seconds(60), jitter_strategy=sfn.JitterType.FULL)
        if report_error is not None:
            step.add_catch(report_error, errors=[sfn.Errors.ALL], result_path="$.error")
        return step

    def _report_error(self) -> sfn.IChainable:
        """Send the caught error to the error receiver queue, then fail the execution."""
        report = tasks.SqsSendMessage(
            self, "Report the build error",
            queue=self._stack.messaging.error_receiver.queue,
            message_body=sfn.TaskInput.from_object({
                "lifecycle_id": sfn.JsonPath.string_at("$.lifecycle_id"),
                "name": BUILD_EVENT,
                "status": "ERROR",
                "status_date": sfn.JsonPath.string_at("$$.State.EnteredTime"),
                "execution_arn": sfn.JsonPath.string_at("$$.Execution.Id"),
                "error": sfn.JsonPath.object_at("$.error"),
            }),
            result_path=sfn.JsonPath.DISCARD,
        )
        report.add_retry(errors=[sfn.Errors.ALL], interval=cdk.Duration.seconds(2), max_attempts=4, backoff_rate=2)
        return report.next(sfn.Fail(
            self, "AMI build event failure",
            error=BUILD_FAILED,
            cause="The AMI build failed; the lifecycle's status holds the reason",
        ))
