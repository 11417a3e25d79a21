"""The PATCH_AMI adapter against the simulated Image Builder: the resources of one patch are created once
per request, named and tagged from the plan, built from the parent AMI, and deleted again, whatever
exists of them."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

import pytest

from local import clock
from orchestrator.adapters.image_builder import ImageBuilder
from orchestrator.adapters.patch_builder import PatchBuilder, PatchInfrastructure
from orchestrator.domain.patches import patch_plan, resource_tags
from orchestrator.domain.versioning import image_builder_version
from tests.local.polling import eventually

DOCUMENT = """\
name: patch
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Update
        action: UpdateOS
"""


@pytest.fixture
def fast_clock():
    previous = clock.time_scale()
    clock.set_time_scale(0.001)
    yield
    clock.set_time_scale(previous)


@pytest.fixture
def world(local_cloud: Any):
    ib = local_cloud.boto3_client("imagebuilder")
    s3 = local_cloud.boto3_client("s3")
    ec2 = local_cloud.boto3_client("ec2")
    sns = local_cloud.boto3_client("sns")
    bucket = f"patch-components-{uuid.uuid4().hex[:8]}"
    region = ib.meta.region_name
    s3.create_bucket(Bucket=bucket, **({} if region == "us-east-1" else
                                       {"CreateBucketConfiguration": {"LocationConstraint": region}}))
    s3.put_object(Bucket=bucket, Key="lc/patch.yml", Body=DOCUMENT.encode())
    parent = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    image = ec2.create_image(InstanceId=parent, Name=f"parent-{uuid.uuid4().hex[:6]}")["ImageId"]
    topic = sns.create_topic(Name=f"ib-{uuid.uuid4().hex[:6]}")["TopicArn"]
    account = local_cloud.boto3_client("sts").get_caller_identity()["Account"]
    lifecycle_id = str(uuid.uuid4())
    dot, dash = image_builder_version(datetime.now(timezone.utc))
    plan = patch_plan(stack_tag="main", lifecycle_id=lifecycle_id, version_dot=dot, version_dash=dash,
                      deployment_arn=f"arn:aws:imagebuilder:{ib.meta.region_name}:{account}:image-pipeline/p")
    infrastructure = PatchInfrastructure(
        instance_profile_name="ib-profile", instance_types=("t3.medium",), subnet_id="subnet-1",
        security_group_ids=("sg-1",), sns_topic_arn=topic, volume_size_gib=8, resource_tags={"project": "t"})
    return {"ib": ib, "builder": PatchBuilder(client=ib), "plan": plan, "infrastructure": infrastructure,
            "url": f"s3://{bucket}/lc/patch.yml", "parent": image, "lifecycle_id": lifecycle_id,
            "request": f"{lifecycle_id}-PATCH_AMI-1"}


def create(world: dict) -> None:
    world["builder"].create(world["plan"], infrastructure=world["infrastructure"], component_url=world["url"],
                            change_description="security updates", parent_image=world["parent"],
                            tags=resource_tags(stack_tag="main", lifecycle_id=world["lifecycle_id"],
                                               version_dot=world["plan"].version),
                            request_name=world["request"])


def existing(ib: Any, name: str) -> dict[str, list[str]]:
    def named(items: list[dict], key: str = "arn") -> list[str]:
        return [item[key] for item in items if item["name"] == name]
    return {
        "components": named(ib.list_components(owner="Self")["componentVersionList"]),
        "recipes": named(ib.list_image_recipes(owner="Self")["imageRecipeSummaryList"]),
        "infrastructure": named(ib.list_infrastructure_configurations()["infrastructureConfigurationSummaryList"]),
        "distribution": named(ib.list_distribution_configurations()["distributionConfigurationSummaryList"]),
        "pipelines": named(ib.list_image_pipelines()["imagePipelineList"]),
    }


def test_create_makes_each_resource_once_at_the_planned_arn(world):
    create(world)
    create(world)  # a retried step with the same request: nothing new

    plan, ib = world["plan"], world["ib"]
    assert existing(ib, plan.name) == {
        "components": [plan.component_arn.rsplit("/", 1)[0]], "recipes": [plan.recipe_arn],
        "infrastructure": [plan.infrastructure_arn], "distribution": [plan.distribution_arn],
        "pipelines": [plan.pipeline_arn]}
    recipe = ib.get_image_recipe(imageRecipeArn=plan.recipe_arn)["imageRecipe"]
    assert recipe["parentImage"] == world["parent"]
    assert recipe["components"] == [{"componentArn": plan.component_arn}]
    assert recipe["tags"]["LifecycleId"] == world["lifecycle_id"]
    infrastructure = ib.get_infrastructure_configuration(
        infrastructureConfigurationArn=plan.infrastructure_arn)["infrastructureConfiguration"]
    assert infrastructure["snsTopicArn"] == world["infrastructure"].sns_topic_arn
    assert infrastructure["resourceTags"]["project"] == "t"


def test_a_patch_build_registers_a_new_ami_from_the_parent_then_everything_is_deleted(world, fast_clock):
    create(world)
    builder, plan = world["builder"], world["plan"]
    arn = builder.start(plan, request_name=world["request"])
    assert builder.start(plan, request_name=world["request"]) == arn

    outcome = eventually(lambda: (o := ImageBuilder(client=world["ib"]).outcome(arn)).ended and o, timeout=20)
    assert outcome.succeeded

    deleted = builder.delete(plan, image_build_version_arn=arn)
    assert arn in deleted and plan.pipeline_arn in deleted and plan.component_arn in deleted
    assert existing(world["ib"], plan.name) == {key: [] for key in
                                                ("components", "recipes", "infrastructure", "distribution",
                                                 "pipelines")}
    assert builder.delete(plan, image_build_version_arn=arn) == []  # again: nothing left, no error


def test_deleting_a_patch_that_created_nothing_or_half_is_no_error(world):
    assert world["builder"].delete(world["plan"]) == []
    world["ib"].create_component(name=world["plan"].name, semanticVersion=world["plan"].version, platform="Linux",
                                 data=DOCUMENT, clientToken=str(uuid.uuid4()))

    assert world["builder"].delete(world["plan"]) == [world["plan"].component_arn]
    assert existing(world["ib"], world["plan"].name)["components"] == []
