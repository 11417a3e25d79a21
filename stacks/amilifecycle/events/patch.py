"""The PATCH_AMI event: a state machine that bakes a patched AMI from the lifecycle's current one.

Flow (docs/events.md has the table):

1. create the patch's Image Builder resources (Lambda): a component from
   the owner's document, a recipe whose parent image is the current AMI,
   infrastructure and distribution configurations and a pipeline, all
   named ``amilc-<stack tag>-patch-<lifecycle id>-<version>``;
2. start the patch pipeline (Lambda);
3. wait for the build to end exactly as BUILD_AMI does: the build event's
   wait step and Image Builder listener (the patch pipeline reports to the
   same topic), its safety check after a timeout;
4. read the patched AMI and shape the PATCH_AMI result (Lambda);
5. delete every resource step 1 created (Lambda), then hand the result to
   the patch receiver and wait until it is recorded.

Any error takes the Catch path: the same delete step (idempotent: it
tolerates resources never created), then the error report. Nothing a patch
creates in Image Builder outlives its execution.

Input (``orchestrator.domain.events.execution_input``) plus ``patch``
(component URL, change description, bump type, commit, Image Builder
version) and ``ami`` (the AMI to patch).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.amilifecycle.events.base import EventProps, LifecycleEvent
from stacks.amilifecycle.events.build import IMAGE_BUILD_FAILED, BuildEvent, image_build_outcome
from stacks.vocabulary import EventName

PATCH_FAILED = "AmiPatchFailed"
# The kinds of Image Builder resources a patch creates (ARN resource types).
PATCH_RESOURCE_TYPES = ("component", "image-recipe", "infrastructure-configuration", "distribution-configuration",
                        "image-pipeline")


def patch_resource_prefix(stack_tag: str) -> str:
    """Mirrors ``orchestrator.domain.patches.resource_prefix`` (names and ARNs of patch resources)."""
    return f"amilc-{stack_tag}-patch-".lower()


class PatchEvent(LifecycleEvent):
    """PATCH_AMI on the build event's wait pieces; every Image Builder resource it creates is deleted again."""

    events = (EventName.PATCH_AMI,)
    summary = "bake a patched AMI from the lifecycle's AMI with EC2 Image Builder and record it"
    log_name = "patch"
    state_machine_id = "LifeCycleAmiPatchStateMachineName"
    output_key = "lifeCycleAmiPatchStateMachineName"
    failure_error = PATCH_FAILED

    def __init__(self, scope: Construct, construct_id: str, *, props: EventProps, timeout: cdk.Duration,
                 build: BuildEvent, deployment_pipeline_arn: str, component_bucket: s3.IBucket,
                 instance_profile_name: str, instance_profile_arn: str, instance_role: iam.IRole, subnet_id: str,
                 security_group_id: str, topic_arn: str, instance_types: Sequence[str], volume_size_gib: int,
                 resource_tags: Mapping[str, str]) -> None:
        super().__init__(scope, construct_id, props=props, timeout=timeout)
        self.build = build
        self._clean_up_after_error: sfn.IChainable | None = None
        infrastructure = {
            "instance_profile_name": instance_profile_name, "instance_types": list(instance_types)[:1],
            "subnet_id": subnet_id, "security_group_ids": [security_group_id], "sns_topic_arn": topic_arn,
            "volume_size_gib": volume_size_gib, "resource_tags": dict(resource_tags),
        }
        self._declare_functions(
            deployment_pipeline_arn=deployment_pipeline_arn, component_bucket=component_bucket,
            infrastructure_json=cdk.Stack.of(self).to_json_string(infrastructure),
            instance_profile_arn=instance_profile_arn, instance_role=instance_role)
        self.finish(self._definition())
        # The build's wait step and listener answer this state machine's tokens too.
        self.grant_task_responses(build.functions["BuildWaitFn"], build.functions["ImageBuildNotificationFn"])

    # ------------------------------------------------------------- functions

    def _arns(self, *resource_types: str, prefix: str) -> list[str]:
        stack = cdk.Stack.of(self)
        return [cdk.Arn.format(cdk.ArnComponents(service="imagebuilder", resource=kind, resource_name=f"{prefix}*"),
                               stack) for kind in resource_types]

    def _declare_functions(self, *, deployment_pipeline_arn: str, component_bucket: s3.IBucket,
                           infrastructure_json: str, instance_profile_arn: str, instance_role: iam.IRole) -> None:
        prefix = patch_resource_prefix(self.props.stack_tag)
        env = {"IMAGEBUILDER_PIPELINE_ARN": deployment_pipeline_arn}
        create = self.function("PatchCreateResourcesFn", handler="patch.create_resources",
                               environment={**env, "PATCH_INFRASTRUCTURE_JSON": infrastructure_json},
                               timeout=cdk.Duration.minutes(2),
                               description="PATCH_AMI: creates the patch's Image Builder component, recipe, "
                                           "configurations and pipeline")
        create.add_to_role_policy(iam.PolicyStatement(
            sid="CreatePatchResources",
            actions=["imagebuilder:CreateComponent", "imagebuilder:CreateImageRecipe",
                     "imagebuilder:CreateInfrastructureConfiguration", "imagebuilder:CreateDistributionConfiguration",
                     "imagebuilder:CreateImagePipeline", "imagebuilder:TagResource", "imagebuilder:GetComponent"],
            resources=self._arns(*PATCH_RESOURCE_TYPES, prefix=prefix)))
        create.add_to_role_policy(iam.PolicyStatement(
            sid="UseTheBuildInstanceProfile", actions=["iam:GetInstanceProfile"], resources=[instance_profile_arn]))
        create.add_to_role_policy(iam.PolicyStatement(
            sid="PassTheBuildInstanceRole", actions=["iam:PassRole"], resources=[instance_role.role_arn]))
        create.add_to_role_policy(iam.PolicyStatement(
            sid="ReadTheParentImage", actions=["ec2:DescribeImages"], resources=["*"]))
        component_bucket.grant_read(create)

        start = self.function("PatchStartPipelineFn", handler="patch.start_pipeline", environment=env,
                              description="PATCH_AMI: starts the patch pipeline")
        start.add_to_role_policy(iam.PolicyStatement(
            actions=["imagebuilder:StartImagePipelineExecution"],
            resources=self._arns("image-pipeline", prefix=prefix)))

        details = self.function("PatchAmiDetailsFn", handler="patch.ami_details", environment=env,
                                description="PATCH_AMI: reads the patched AMIs and shapes the event result")
        details.add_to_role_policy(iam.PolicyStatement(
            actions=["imagebuilder:GetImage"], resources=self._arns("image", prefix=prefix)))

        delete = self.function("PatchDeleteResourcesFn", handler="patch.delete_resources", environment=env,
                               timeout=cdk.Duration.minutes(2),
                               description="PATCH_AMI: deletes every Image Builder resource the patch created")
        delete.add_to_role_policy(iam.PolicyStatement(
            sid="DeletePatchResources",
            actions=["imagebuilder:DeleteComponent", "imagebuilder:DeleteImageRecipe",
                     "imagebuilder:DeleteInfrastructureConfiguration", "imagebuilder:DeleteDistributionConfiguration",
                     "imagebuilder:DeleteImagePipeline"],
            resources=self._arns(*PATCH_RESOURCE_TYPES, prefix=prefix)))
        delete.add_to_role_policy(iam.PolicyStatement(
            sid="DeletePatchImages", actions=["imagebuilder:GetImage", "imagebuilder:DeleteImage"],
            resources=self._arns("image", prefix=prefix)))

    # ------------------------------------------------------------ definition

    def catch_all(self, step: sfn.TaskStateBase | sfn.Parallel) -> None:
        """Every error of the patch first deletes what the patch created, then is reported."""
        step.add_catch(self.clean_up_after_error, errors=[sfn.Errors.ALL], result_path="$.error")

    @property
    def clean_up_after_error(self) -> sfn.IChainable:
        if self._clean_up_after_error is None:
            clean_up = self._delete_step("Delete the patch resources after the error")
            # A failing clean-up must not hide the error that led to it: both are kept, the first reported.
            clean_up.add_catch(self.report_error, errors=[sfn.Errors.ALL], result_path="$.cleanup_error")
            self._clean_up_after_error = clean_up.next(self.report_error)
        return self._clean_up_after_error

    def _delete_step(self, name: str):
        return self.invoke(name, self.functions["PatchDeleteResourcesFn"],
                           payload={"execution": sfn.JsonPath.object_at("$")}, result_path="$.cleanup",
                           catch_errors=False)

    def _definition(self) -> sfn.IChainable:
        fns, build = self.functions, self.build.functions
        patch_input = {
            "lifecycle_id": sfn.JsonPath.string_at("$.lifecycle_id"),
            "stack_tag": sfn.JsonPath.string_at("$.stack_tag"),
            "patch": sfn.JsonPath.object_at("$.patch"),
            "execution_name": sfn.JsonPath.string_at("$$.Execution.Name"),
        }
        create = self.invoke("Create the patch's Image Builder resources", fns["PatchCreateResourcesFn"],
                             payload={**patch_input, "ami": sfn.JsonPath.object_at("$.ami")},
                             result_path="$.resources")
        start = self.invoke("Start the patch pipeline", fns["PatchStartPipelineFn"], payload=patch_input,
                            result_path="$.build")
        wait = self.invoke(
            "Wait for the patch build notification", build["BuildWaitFn"],
            payload={
                "task_token": sfn.JsonPath.task_token,
                "lifecycle_id": sfn.JsonPath.string_at("$.lifecycle_id"),
                "image_build_version_arn": sfn.JsonPath.string_at("$.build.image_build_version_arn"),
            },
            result_path="$.image", catch_errors=False, wait_for_token=True, timeout=self.build.wait_slice,
        )
        check = self.invoke(
            "Check the patch build", build["BuildCheckImageFn"],
            payload={"image_build_version_arn": sfn.JsonPath.string_at("$.build.image_build_version_arn")},
            result_path="$.image",
        )
        wait.add_catch(check, errors=[sfn.Errors.TIMEOUT, IMAGE_BUILD_FAILED], result_path="$.wait_outcome")
        self.catch_all(wait)
        details = self.invoke(
            "Get the patched AMI details", fns["PatchAmiDetailsFn"],
            payload={**patch_input,
                     "image_build_version_arn": sfn.JsonPath.string_at("$.build.image_build_version_arn")},
            result_path="$.result",
        )
        image_build_outcome(self, "Patch build", wait=wait, check=check, details=details,
                            on_failure=self.clean_up_after_error)
        clean_up = self._delete_step("Delete the patch resources")
        self.catch_all(clean_up)
        details.next(clean_up)
        clean_up.next(self.send_result("$.result"))
        return create.next(start).next(wait)
