"""EC2 Image Builder resources of one patch: create them, start the patch build, delete them again.

The names and ARNs come from ``domain.patches.patch_plan``; every create
call carries a client token derived from the execution and the resource,
so a retried step creates nothing twice. :meth:`PatchBuilder.delete` removes
whatever exists of a plan, in dependency order (pipeline, recipe,
configurations, component, and the image resource, whose AMIs stay), and
treats a resource that is already gone, or was never created, as deleted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from botocore.exceptions import ClientError

from ..domain.patches import PatchPlan
from . import aws
from .image_builder import client_token

GONE = ("ResourceNotFoundException",)
_TERMINAL_IMAGE_STATES = ("AVAILABLE", "FAILED", "CANCELLED", "DELETED", "DEPRECATED", "DISABLED")


@dataclass(frozen=True)
class PatchInfrastructure:
    """Where patch builds run (the build pipeline's settings, from ``PATCH_INFRASTRUCTURE_JSON``)."""

    instance_profile_name: str
    instance_types: tuple[str, ...]
    subnet_id: str
    security_group_ids: tuple[str, ...]
    sns_topic_arn: str
    volume_size_gib: int
    resource_tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, raw: str) -> "PatchInfrastructure":
        value = json.loads(raw)
        return cls(instance_profile_name=str(value["instance_profile_name"]),
                   instance_types=tuple(str(t) for t in value["instance_types"]),
                   subnet_id=str(value["subnet_id"]),
                   security_group_ids=tuple(str(g) for g in value["security_group_ids"]),
                   sns_topic_arn=str(value["sns_topic_arn"]), volume_size_gib=int(value["volume_size_gib"]),
                   resource_tags={str(k): str(v) for k, v in (value.get("resource_tags") or {}).items()})


def _region(arn: str) -> str:
    return arn.split(":")[3]


class PatchBuilder:
    """The Image Builder calls of the PATCH_AMI steps."""

    def __init__(self, client: Any | None = None) -> None:
        self._client = client

    client = aws.LazyClient("imagebuilder")

    def create(self, plan: PatchPlan, *, infrastructure: PatchInfrastructure, component_url: str,
               change_description: str, parent_image: str, tags: Mapping[str, str], request_name: str) -> None:
        """Create the component, recipe, configurations and pipeline of ``plan`` (idempotent per request)."""
        def token(kind: str) -> str:
            return client_token(f"{request_name}/{kind}")

        tags = dict(tags)
        description = f"AMI lifecycle patch {plan.name} / {plan.version}"
        self.client.create_component(
            name=plan.name, semanticVersion=plan.version, description=description,
            changeDescription=change_description[:1024], platform="Linux", uri=component_url, tags=tags,
            clientToken=token("component"))
        self.client.create_image_recipe(
            name=plan.name, semanticVersion=plan.version, description=description,
            components=[{"componentArn": plan.component_arn}], parentImage=parent_image,
            blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {
                "volumeSize": infrastructure.volume_size_gib, "volumeType": "gp3", "deleteOnTermination": True,
                "encrypted": False}}],
            workingDirectory="/imagebuilder", tags=tags, clientToken=token("recipe"))
        self.client.create_infrastructure_configuration(
            name=plan.name, description=description, instanceProfileName=infrastructure.instance_profile_name,
            instanceTypes=list(infrastructure.instance_types), subnetId=infrastructure.subnet_id,
            securityGroupIds=list(infrastructure.security_group_ids), snsTopicArn=infrastructure.sns_topic_arn,
            terminateInstanceOnFailure=True,
            instanceMetadataOptions={"httpTokens": "required", "httpPutResponseHopLimit": 2},
            resourceTags={**infrastructure.resource_tags, **tags}, tags=tags, clientToken=token("infrastructure"))
        stack_tag = tags.get("StackTag", "")
        self.client.create_distribution_configuration(
            name=plan.name, description=description, tags=tags, clientToken=token("distribution"),
            distributions=[{"region": _region(plan.pipeline_arn), "amiDistributionConfiguration": {
                "name": f"AmiLifecycle-{stack_tag}-patch-{{{{ imagebuilder:buildDate }}}}",
                "description": description,
                "amiTags": {"StackTag": stack_tag, "LifecycleId": tags.get("LifecycleId", "")}}}])
        self.client.create_image_pipeline(
            name=plan.name, description=description, imageRecipeArn=plan.recipe_arn,
            infrastructureConfigurationArn=plan.infrastructure_arn,
            distributionConfigurationArn=plan.distribution_arn, enhancedImageMetadataEnabled=True,
            imageTestsConfiguration={"imageTestsEnabled": True, "timeoutMinutes": 90}, status="ENABLED",
            tags=tags, clientToken=token("pipeline"))

    def start(self, plan: PatchPlan, *, request_name: str) -> str:
        """Start the patch pipeline once per request; returns the image build version ARN."""
        response = self.client.start_image_pipeline_execution(
            imagePipelineArn=plan.pipeline_arn, clientToken=client_token(f"{request_name}/start"))
        return str(response["imageBuildVersionArn"])

    def delete(self, plan: PatchPlan, *, image_build_version_arn: str | None = None) -> list[str]:
        """Delete every resource of ``plan`` that exists (and the image resource); returns the ARNs deleted."""
        deleted: list[str] = []
        if image_build_version_arn and self._image_ended(image_build_version_arn):
            self._delete(deleted, image_build_version_arn,
                         lambda: self.client.delete_image(imageBuildVersionArn=image_build_version_arn))
        self._delete(deleted, plan.pipeline_arn,
                     lambda: self.client.delete_image_pipeline(imagePipelineArn=plan.pipeline_arn))
        self._delete(deleted, plan.recipe_arn,
                     lambda: self.client.delete_image_recipe(imageRecipeArn=plan.recipe_arn))
        self._delete(deleted, plan.infrastructure_arn, lambda: self.client.delete_infrastructure_configuration(
            infrastructureConfigurationArn=plan.infrastructure_arn))
        self._delete(deleted, plan.distribution_arn, lambda: self.client.delete_distribution_configuration(
            distributionConfigurationArn=plan.distribution_arn))
        self._delete(deleted, plan.component_arn,
                     lambda: self.client.delete_component(componentBuildVersionArn=plan.component_arn))
        return deleted

    def _image_ended(self, arn: str) -> bool:
        try:
            status = self.client.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in GONE:
                return False
            raise
        return str(status) in _TERMINAL_IMAGE_STATES

    @staticmethod
    def _delete(deleted: list[str], arn: str, call: Any) -> None:
        try:
            call()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in GONE:
                return
            raise
        deleted.append(arn)
