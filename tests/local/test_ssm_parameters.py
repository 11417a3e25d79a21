"""``AWS::SSM::Parameter`` from a template, with its tags in CloudFormation's map shape."""

from __future__ import annotations

import json
import uuid

from tests.local.polling import eventually


def settled(cloudformation, name):
    return eventually(lambda: (lambda s: s if not s["StackStatus"].endswith("IN_PROGRESS") else None)(
        cloudformation.describe_stacks(StackName=name)["Stacks"][0]), what="the stack's change")


def test_a_template_parameter_with_map_tags_is_created_tagged_and_deleted_with_its_stack(local_cloud):
    cloudformation, ssm = local_cloud.boto3_client("cloudformation"), local_cloud.boto3_client("ssm")
    stack_name, parameter = f"ssm-{uuid.uuid4().hex[:8]}", f"/tests/{uuid.uuid4().hex[:8]}/api-url"
    template = {"Resources": {"Url": {"Type": "AWS::SSM::Parameter", "Properties": {
        "Name": parameter, "Type": "String", "Value": "https://example.test/prod",
        "Description": "a URL", "Tags": {"project": "ami-lifecycle", "stack": "test"}}}}}

    cloudformation.create_stack(StackName=stack_name, TemplateBody=json.dumps(template))

    assert settled(cloudformation, stack_name)["StackStatus"] == "CREATE_COMPLETE"
    assert ssm.get_parameter(Name=parameter)["Parameter"]["Value"] == "https://example.test/prod"
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=parameter)["TagList"]
    assert {t["Key"]: t["Value"] for t in tags} == {"project": "ami-lifecycle", "stack": "test"}

    cloudformation.delete_stack(StackName=stack_name)
    eventually(lambda: not ssm.get_parameters(Names=[parameter])["Parameters"], what="the parameter's deletion")
