"""The simulated EC2 Image Builder, driven through boto3 against the local
cloud: resources, builds that register real AMIs and notify SNS, faults,
deletes, error shapes and the CloudFormation types."""

from __future__ import annotations

import json
import pickle
import re
import time
import uuid
from collections.abc import Iterator
from functools import partial
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local import clock, faults
from tests.local.polling import eventually


# Polling with this module's own pace.
wait_for = partial(eventually, timeout=10.0, interval=0.02)

COMPONENT_DOCUMENT = """\
name: install-jq
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: InstallJq
        action: ExecuteBash
        inputs:
          commands: ["yum install -y jq"]
"""
AWS_LINUX_2 = "arn:aws:imagebuilder:{region}:aws:image/amazon-linux-2-kernel-5-x86/x.x.x"
TERMINAL = ("AVAILABLE", "FAILED", "CANCELLED")


@pytest.fixture
def fast_clock() -> Iterator[None]:
    """Builds take ~0.12 s of real time (120 simulated seconds)."""
    previous = clock.time_scale()
    clock.set_time_scale(0.001)
    yield
    clock.set_time_scale(previous)


@pytest.fixture
def ib(local_cloud: Any) -> Any:
    return local_cloud.boto3_client("imagebuilder")


@pytest.fixture
def ec2(local_cloud: Any) -> Any:
    return local_cloud.boto3_client("ec2")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def finished_image(ib: Any, arn: str) -> dict[str, Any]:
    return wait_for(lambda: (lambda i: i if i["state"]["status"] in TERMINAL else None)(
        ib.get_image(imageBuildVersionArn=arn)["image"]))


def subscribed_queue(local_cloud: Any, topic_arn: str) -> str:
    sns, sqs = local_cloud.boto3_client("sns"), local_cloud.boto3_client("sqs")
    queue_url = sqs.create_queue(QueueName=unique("ib-notifications"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return queue_url


def received_notification(local_cloud: Any, queue_url: str) -> dict[str, Any]:
    sqs = local_cloud.boto3_client("sqs")
    messages = wait_for(lambda: sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0).get("Messages"))
    envelope = json.loads(messages[0]["Body"])
    return {"subject": envelope.get("Subject"), "image": json.loads(envelope["Message"])}


@pytest.fixture
def pipeline(local_cloud: Any, ib: Any) -> dict[str, str]:
    """A complete pipeline whose infrastructure configuration notifies a topic."""
    region = local_cloud.region
    topic = local_cloud.boto3_client("sns").create_topic(Name=unique("ib-topic"))["TopicArn"]
    component = ib.create_component(name=unique("component"), semanticVersion="1.0.0", platform="Linux",
                                    data=COMPONENT_DOCUMENT, clientToken=unique("t"))["componentBuildVersionArn"]
    recipe = ib.create_image_recipe(
        name=unique("recipe"), semanticVersion="1.0.0", parentImage=AWS_LINUX_2.format(region=region),
        components=[{"componentArn": component},
                    {"componentArn": f"arn:aws:imagebuilder:{region}:aws:component/aws-cli-version-2-linux/x.x.x"}],
        clientToken=unique("t"))["imageRecipeArn"]
    infrastructure = ib.create_infrastructure_configuration(
        name=unique("infra"), instanceProfileName="builder-profile", snsTopicArn=topic,
        clientToken=unique("t"))["infrastructureConfigurationArn"]
    distribution = ib.create_distribution_configuration(
        name=unique("dist"), clientToken=unique("t"),
        distributions=[{"region": region, "amiDistributionConfiguration": {
            "name": "AmiLifecycle-{{ imagebuilder:buildDate }}", "amiTags": {"Pipeline": "AmiLifecyclePipeline"},
            "launchPermission": {"userIds": ["210987654321"]}}}])["distributionConfigurationArn"]
    pipeline_arn = ib.create_image_pipeline(
        name=unique("pipeline"), imageRecipeArn=recipe, infrastructureConfigurationArn=infrastructure,
        distributionConfigurationArn=distribution, clientToken=unique("t"))["imagePipelineArn"]
    return {"topic": topic, "component": component, "recipe": recipe, "infrastructure": infrastructure,
            "distribution": distribution, "pipeline": pipeline_arn}


def start_build(ib: Any, pipeline: dict[str, str]) -> str:
    return ib.start_image_pipeline_execution(imagePipelineArn=pipeline["pipeline"],
                                             clientToken=unique("t"))["imageBuildVersionArn"]


def test_a_build_registers_an_ami_named_and_tagged_by_the_distribution(fast_clock, ib, ec2, pipeline):
    arn = start_build(ib, pipeline)

    image = finished_image(ib, arn)

    assert image["state"]["status"] == "AVAILABLE"
    [output] = image["outputResources"]["amis"]
    ami = ec2.describe_images(ImageIds=[output["image"]])["Images"][0]
    assert ami["State"] == "available"
    assert ami["Name"] == output["name"]
    assert ami["Name"].startswith("AmiLifecycle-") and "{{" not in ami["Name"]
    tags = {t["Key"]: t["Value"] for t in ami["Tags"]}
    assert tags == {"Pipeline": "AmiLifecyclePipeline", "CreatedBy": "EC2 Image Builder",
                    "Ec2ImageBuilderArn": arn}


def test_a_build_passes_through_the_image_states_in_order(ib, pipeline):
    arn = start_build(ib, pipeline)  # at the session's time scale: a build lasts about a second
    seen: list[str] = []

    def observe() -> bool:
        status = ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        return status in TERMINAL

    wait_for(observe, interval=0.005)

    order = ["PENDING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING", "AVAILABLE"]
    assert seen[-1] == "AVAILABLE"
    assert [order.index(s) for s in seen] == sorted(order.index(s) for s in seen)
    assert "BUILDING" in seen


def test_the_output_ami_is_shared_with_the_launch_permission_accounts(fast_clock, ib, ec2, pipeline):
    image = finished_image(ib, start_build(ib, pipeline))

    ami_id = image["outputResources"]["amis"][0]["image"]
    permissions = ec2.describe_image_attribute(ImageId=ami_id, Attribute="launchPermission")["LaunchPermissions"]
    assert {"UserId": "210987654321"} in permissions


def test_the_available_notification_reaches_a_queue_subscribed_to_the_topic(fast_clock, local_cloud, ib, pipeline):
    queue_url = subscribed_queue(local_cloud, pipeline["topic"])
    arn = start_build(ib, pipeline)
    finished_image(ib, arn)

    notification = received_notification(local_cloud, queue_url)

    image = notification["image"]
    assert image["arn"] == arn
    assert image["state"]["status"] == "AVAILABLE"
    assert image["outputResources"]["amis"][0]["image"].startswith("ami-")
    assert image["sourcePipelineArn"] == pipeline["pipeline"]
    assert image["imageRecipe"]["arn"] == pipeline["recipe"]


def test_a_fail_fault_ends_the_build_failed_with_its_reason_and_notifies(fast_clock, local_cloud, ib, pipeline):
    queue_url = subscribed_queue(local_cloud, pipeline["topic"])
    faults.set_fault("imagebuilder", "fail", "StartImagePipelineExecution", message="component build failed")

    image = finished_image(ib, start_build(ib, pipeline))

    assert image["state"]["status"] == "FAILED"
    assert "component build failed" in image["state"]["reason"]
    assert image["outputResources"]["amis"] == []
    notified = received_notification(local_cloud, queue_url)["image"]
    assert notified["state"]["status"] == "FAILED"
    assert "component build failed" in notified["state"]["reason"]


def test_a_one_shot_build_fault_fails_the_next_build_as_image_builder_reports_it(fast_clock, local_cloud, ib,
                                                                               pipeline):
    queue_url = subscribed_queue(local_cloud, pipeline["topic"])
    faults.set_fault("imagebuilder", "build-fail", count=1, message="yum exited with 1")

    failed = finished_image(ib, start_build(ib, pipeline))  # every GetImage call meanwhile answered
    notified = received_notification(local_cloud, queue_url)["image"]
    after = finished_image(ib, start_build(ib, pipeline))

    reason = failed["state"]["reason"]
    assert failed["state"]["status"] == "FAILED"
    assert re.fullmatch(r"Workflow Execution ID: 'wf-[0-9a-f-]{36}' failed with reason: Step 'BuildImage' "
                        r"failed: yum exited with 1", reason)
    assert "fault" not in reason.lower()
    assert notified["state"] == {"status": "FAILED", "reason": reason}
    assert after["state"]["status"] == "AVAILABLE"
    assert faults.list_faults() == []


def test_a_build_fault_without_a_message_names_the_recipe_component_that_failed(fast_clock, ib, pipeline):
    faults.set_fault("imagebuilder", "build-fail")

    image = finished_image(ib, start_build(ib, pipeline))

    component = image["imageRecipe"]["components"][0]["componentArn"]
    assert image["state"]["reason"].endswith(f"Step 'BuildImage' failed: Component '{component}' failed in "
                                             "phase 'build': exit status 1")
    assert faults.list_faults() != []  # without --count it lasts until cleared


def test_a_hang_fault_keeps_the_build_building_until_cancelled(fast_clock, ib, pipeline):
    faults.set_fault("imagebuilder", "hang", "StartImagePipelineExecution")
    arn = start_build(ib, pipeline)
    wait_for(lambda: ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"] == "BUILDING")

    time.sleep(0.5)  # four times the length of a whole build at this time scale

    assert ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"] == "BUILDING"
    ib.cancel_image_creation(imageBuildVersionArn=arn, clientToken=unique("t"))
    assert ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"] == "CANCELLED"


def test_a_cancelled_build_notifies_the_topic_like_a_failed_one(fast_clock, local_cloud, ib, pipeline):
    queue_url = subscribed_queue(local_cloud, pipeline["topic"])
    faults.set_fault("imagebuilder", "hang", "StartImagePipelineExecution")
    arn = start_build(ib, pipeline)
    wait_for(lambda: ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"] == "BUILDING")

    ib.cancel_image_creation(imageBuildVersionArn=arn, clientToken=unique("t"))

    notification = received_notification(local_cloud, queue_url)
    assert notification["image"]["arn"] == arn
    assert notification["image"]["state"] == {"status": "CANCELLED", "reason": "Image creation was cancelled."}
    assert notification["image"]["outputResources"]["amis"] == []
    assert notification["subject"] is None


def test_a_repeated_cancel_request_notifies_only_once(fast_clock, local_cloud, ib, pipeline):
    queue_url = subscribed_queue(local_cloud, pipeline["topic"])
    faults.set_fault("imagebuilder", "hang", "StartImagePipelineExecution")
    arn = start_build(ib, pipeline)
    wait_for(lambda: ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"] == "BUILDING")
    token = unique("t")

    ib.cancel_image_creation(imageBuildVersionArn=arn, clientToken=token)
    ib.cancel_image_creation(imageBuildVersionArn=arn, clientToken=token)  # an idempotent retry

    received_notification(local_cloud, queue_url)
    time.sleep(0.3)
    sqs = local_cloud.boto3_client("sqs")
    assert not sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0).get("Messages")


def test_a_delay_fault_makes_the_build_take_longer(ib, pipeline):
    previous = clock.time_scale()
    clock.set_time_scale(0.001)
    try:
        faults.set_fault("imagebuilder", "delay", "StartImagePipelineExecution", seconds=600)
        arn = start_build(ib, pipeline)
        time.sleep(0.3)  # a normal build would be over
        assert ib.get_image(imageBuildVersionArn=arn)["image"]["state"]["status"] not in TERMINAL
        assert finished_image(ib, arn)["state"]["status"] == "AVAILABLE"
    finally:
        clock.set_time_scale(previous)


def test_each_execution_of_a_pipeline_is_a_new_build_version(fast_clock, ib, pipeline):
    first, second = start_build(ib, pipeline), start_build(ib, pipeline)

    assert first.endswith("/1.0.0/1") and second.endswith("/1.0.0/2")
    listed = ib.list_image_pipeline_images(imagePipelineArn=pipeline["pipeline"])["imageSummaryList"]
    assert {i["arn"] for i in listed} == {first, second}


def test_a_repeated_client_token_returns_the_same_build(fast_clock, ib, pipeline):
    token = unique("t")

    first = ib.start_image_pipeline_execution(imagePipelineArn=pipeline["pipeline"], clientToken=token)
    again = ib.start_image_pipeline_execution(imagePipelineArn=pipeline["pipeline"], clientToken=token)

    assert again["imageBuildVersionArn"] == first["imageBuildVersionArn"]


def test_a_client_token_reused_with_other_parameters_is_refused(ib):
    token = unique("t")
    ib.create_component(name=unique("c"), semanticVersion="1.0.0", platform="Linux",
                        data=COMPONENT_DOCUMENT, clientToken=token)

    with pytest.raises(ClientError) as raised:
        ib.create_component(name=unique("c"), semanticVersion="1.0.0", platform="Linux",
                            data=COMPONENT_DOCUMENT, clientToken=token)

    assert raised.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"


@pytest.mark.parametrize("call", [
    lambda ib, arn: ib.get_image(imageBuildVersionArn=arn.replace("image-pipeline/", "image/") + "/1.0.0/1"),
    lambda ib, arn: ib.get_image_pipeline(imagePipelineArn=arn),
    lambda ib, arn: ib.start_image_pipeline_execution(imagePipelineArn=arn, clientToken=unique("t")),
    lambda ib, arn: ib.delete_image_pipeline(imagePipelineArn=arn),
], ids=["GetImage", "GetImagePipeline", "StartImagePipelineExecution", "DeleteImagePipeline"])
def test_an_unknown_arn_is_a_resource_not_found_error(local_cloud, ib, call):
    arn = f"arn:aws:imagebuilder:{local_cloud.region}:{local_cloud.account_id}:image-pipeline/{unique('nope')}"

    with pytest.raises(ClientError) as raised:
        call(ib, arn)

    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_a_component_can_be_read_from_an_s3_uri(local_cloud, ib):
    s3 = local_cloud.boto3_client("s3")
    bucket = unique("components")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="patch/component.yml", Body=COMPONENT_DOCUMENT.encode())

    arn = ib.create_component(name=unique("c"), semanticVersion="2.1.0", platform="Linux",
                              uri=f"s3://{bucket}/patch/component.yml", clientToken=unique("t"))[
        "componentBuildVersionArn"]

    component = ib.get_component(componentBuildVersionArn=arn)["component"]
    assert component["data"] == COMPONENT_DOCUMENT
    assert component["version"] == "2.1.0" and component["type"] == "BUILD"


def test_a_component_from_a_missing_s3_object_is_refused(local_cloud, ib):
    bucket = unique("components")
    local_cloud.boto3_client("s3").create_bucket(Bucket=bucket)

    with pytest.raises(ClientError) as raised:
        ib.create_component(name=unique("c"), semanticVersion="1.0.0", platform="Linux",
                            uri=f"s3://{bucket}/missing.yml", clientToken=unique("t"))

    assert raised.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "missing.yml" in raised.value.response["Error"]["Message"]


def test_a_component_document_without_phases_is_refused(ib):
    with pytest.raises(ClientError) as raised:
        ib.create_component(name=unique("c"), semanticVersion="1.0.0", platform="Linux",
                            data="schemaVersion: 1.0\n", clientToken=unique("t"))

    assert raised.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "phases" in raised.value.response["Error"]["Message"]


def test_a_malformed_semantic_version_is_refused(ib):
    with pytest.raises(ClientError) as raised:
        ib.create_component(name=unique("c"), semanticVersion="1.0", platform="Linux",
                            data=COMPONENT_DOCUMENT, clientToken=unique("t"))

    assert raised.value.response["Error"]["Code"] == "InvalidVersionNumberException"


def test_a_component_used_by_a_recipe_cannot_be_deleted(ib, pipeline):
    with pytest.raises(ClientError) as raised:
        ib.delete_component(componentBuildVersionArn=pipeline["component"])

    assert raised.value.response["Error"]["Code"] == "ResourceDependencyException"


def test_deleting_in_dependency_order_removes_everything_but_the_ami(fast_clock, ib, ec2, pipeline):
    image = finished_image(ib, start_build(ib, pipeline))
    ami_id = image["outputResources"]["amis"][0]["image"]

    ib.delete_image(imageBuildVersionArn=image["arn"])
    ib.delete_image_pipeline(imagePipelineArn=pipeline["pipeline"])
    ib.delete_image_recipe(imageRecipeArn=pipeline["recipe"])
    ib.delete_infrastructure_configuration(infrastructureConfigurationArn=pipeline["infrastructure"])
    ib.delete_distribution_configuration(distributionConfigurationArn=pipeline["distribution"])
    ib.delete_component(componentBuildVersionArn=pipeline["component"])

    for call in (lambda: ib.get_image(imageBuildVersionArn=image["arn"]),
                 lambda: ib.get_image_pipeline(imagePipelineArn=pipeline["pipeline"]),
                 lambda: ib.get_image_recipe(imageRecipeArn=pipeline["recipe"]),
                 lambda: ib.get_component(componentBuildVersionArn=pipeline["component"])):
        with pytest.raises(ClientError) as raised:
            call()
        assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert ec2.describe_images(ImageIds=[ami_id])["Images"][0]["State"] == "available"


def test_a_fail_fault_on_a_synchronous_call_answers_an_internal_failure(local_cloud, pipeline):
    client = boto3.client("imagebuilder", **{**local_cloud.client_kwargs(),
                                             "config": Config(retries={"total_max_attempts": 1})})
    faults.set_fault("imagebuilder", "fail", "GetImagePipeline", message="service unavailable")

    with pytest.raises(ClientError) as raised:
        client.get_image_pipeline(imagePipelineArn=pipeline["pipeline"])

    assert raised.value.response["Error"]["Code"] == "InternalFailure"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert "GetImagePipeline" in raised.value.response["Error"]["Message"]


def test_list_operations_filter_by_name_and_page(ib):
    names = [unique("listed") for _ in range(3)]
    for name in names:
        ib.create_infrastructure_configuration(name=name, instanceProfileName="p", clientToken=unique("t"))

    first = ib.list_infrastructure_configurations(filters=[{"name": "name", "values": names}], maxResults=2)
    rest = ib.list_infrastructure_configurations(filters=[{"name": "name", "values": names}], maxResults=2,
                                                 nextToken=first["nextToken"])

    listed = [c["name"] for c in first["infrastructureConfigurationSummaryList"]
              + rest["infrastructureConfigurationSummaryList"]]
    assert sorted(listed) == sorted(names)
    assert "nextToken" not in rest


def test_a_build_in_progress_resumes_after_its_state_is_restored(ib, pipeline):
    from local.services.imagebuilder import models

    previous = clock.time_scale()
    clock.set_time_scale(0.002)
    try:
        arn = start_build(ib, pipeline)
        saved = pickle.loads(pickle.dumps(models.get_state()))
        models.set_state(saved)  # what a restart does: timers are re-armed from the saved due times

        assert finished_image(ib, arn)["state"]["status"] == "AVAILABLE"
    finally:
        clock.set_time_scale(previous)


# ---- CloudFormation -----------------------------------------------------
def image_builder_template(suffix: str) -> dict[str, Any]:
    """The shape CDK synthesizes for an Image Builder stack (L1 constructs)."""
    return {
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": f"ib-topic-{suffix}"}},
            "Component": {"Type": "AWS::ImageBuilder::Component", "Properties": {
                "Name": f"generic-component-{suffix}", "Platform": "Linux", "Version": "1.0.0",
                "Data": COMPONENT_DOCUMENT, "Tags": {"project": "ami-lifecycle"}}},
            "Recipe": {"Type": "AWS::ImageBuilder::ImageRecipe", "Properties": {
                "Name": f"recipe-{suffix}", "Version": "1.0.0",
                "ParentImage": {"Fn::Sub": "arn:aws:imagebuilder:${AWS::Region}:aws:image/amazon-linux-2-x86/x.x.x"},
                "Components": [{"ComponentArn": {"Fn::GetAtt": ["Component", "Arn"]}}],
                "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {
                    "VolumeSize": 8, "VolumeType": "gp2", "DeleteOnTermination": True, "Encrypted": False}}],
                "WorkingDirectory": "/imagebuilder"}},
            "Infrastructure": {"Type": "AWS::ImageBuilder::InfrastructureConfiguration", "Properties": {
                "Name": f"infra-{suffix}", "InstanceProfileName": "builder-profile", "InstanceTypes": ["t3.medium"],
                "SnsTopicArn": {"Ref": "Topic"}, "TerminateInstanceOnFailure": True}},
            "Distribution": {"Type": "AWS::ImageBuilder::DistributionConfiguration", "Properties": {
                "Name": f"dist-{suffix}", "Distributions": [{"Region": {"Ref": "AWS::Region"},
                                                             "AmiDistributionConfiguration": {
                    "Name": "AmiLifecycle-ImageRecipe-{{ imagebuilder:buildDate }}",
                    "AmiTags": {"project": "ami-lifecycle"}}}]}},
            "Pipeline": {"Type": "AWS::ImageBuilder::ImagePipeline", "Properties": {
                "Name": f"pipeline-{suffix}", "ImageRecipeArn": {"Ref": "Recipe"},
                "InfrastructureConfigurationArn": {"Fn::GetAtt": ["Infrastructure", "Arn"]},
                "DistributionConfigurationArn": {"Fn::GetAtt": ["Distribution", "Arn"]},
                "Status": "ENABLED"}},
        },
        "Outputs": {
            "pipelineArn": {"Value": {"Fn::GetAtt": ["Pipeline", "Arn"]}},
            "pipelineRef": {"Value": {"Ref": "Pipeline"}},
            "componentName": {"Value": {"Fn::GetAtt": ["Component", "Name"]}},
        },
    }


@pytest.fixture
def image_builder_stack(local_cloud: Any) -> Iterator[dict[str, str]]:
    cloudformation = local_cloud.boto3_client("cloudformation")
    suffix = uuid.uuid4().hex[:8]
    name = f"ImageBuilderStack{suffix}"
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(image_builder_template(suffix)))
    stack = wait_for(lambda: (lambda s: s if not s["StackStatus"].endswith("IN_PROGRESS") else None)(
        cloudformation.describe_stacks(StackName=name)["Stacks"][0]))
    yield {"name": name, "status": stack["StackStatus"], "suffix": suffix,
           **{o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}}


def test_a_stack_of_image_builder_types_deploys_into_the_simulation(image_builder_stack, ib):
    assert image_builder_stack["status"] == "CREATE_COMPLETE"
    arn = image_builder_stack["pipelineArn"]
    assert arn.endswith(f":image-pipeline/pipeline-{image_builder_stack['suffix']}")
    assert image_builder_stack["pipelineRef"] == arn
    assert image_builder_stack["componentName"] == f"generic-component-{image_builder_stack['suffix']}"
    pipeline = ib.get_image_pipeline(imagePipelineArn=arn)["imagePipeline"]
    recipe = ib.get_image_recipe(imageRecipeArn=pipeline["imageRecipeArn"])["imageRecipe"]
    assert recipe["blockDeviceMappings"][0]["ebs"]["volumeSize"] == 8
    assert recipe["components"][0]["componentArn"].endswith(
        f":component/generic-component-{image_builder_stack['suffix']}/1.0.0/1")


def test_a_pipeline_deployed_by_a_stack_builds_and_notifies_its_topic(fast_clock, local_cloud, ib,
                                                                      image_builder_stack):
    infrastructure = ib.get_infrastructure_configuration(infrastructureConfigurationArn=ib.get_image_pipeline(
        imagePipelineArn=image_builder_stack["pipelineArn"])["imagePipeline"]["infrastructureConfigurationArn"])
    queue_url = subscribed_queue(local_cloud, infrastructure["infrastructureConfiguration"]["snsTopicArn"])

    arn = ib.start_image_pipeline_execution(imagePipelineArn=image_builder_stack["pipelineArn"],
                                            clientToken=unique("t"))["imageBuildVersionArn"]

    assert finished_image(ib, arn)["state"]["status"] == "AVAILABLE"
    assert received_notification(local_cloud, queue_url)["image"]["arn"] == arn


def test_deleting_the_stack_removes_its_image_builder_resources(local_cloud, ib, image_builder_stack):
    cloudformation = local_cloud.boto3_client("cloudformation")

    cloudformation.delete_stack(StackName=image_builder_stack["name"])

    def gone() -> bool:
        try:
            ib.get_image_pipeline(imagePipelineArn=image_builder_stack["pipelineArn"])
        except ClientError as error:
            return error.response["Error"]["Code"] == "ResourceNotFoundException"
        return False

    assert wait_for(gone)
    names = {c["name"] for c in ib.list_components()["componentVersionList"]}
    assert f"generic-component-{image_builder_stack['suffix']}" not in names
