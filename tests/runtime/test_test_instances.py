"""The test-instance steps on moto: launch with the tags, settings and user data; terminate the execution's."""

from __future__ import annotations

import base64
import json
from typing import Iterator

import boto3
import pytest
from moto import mock_aws

from orchestrator import bootstrap
from orchestrator.config import RuntimeConfig
from orchestrator.domain.errors import ValidationError
from orchestrator.handlers import test_instances as steps

from .conftest import REGION, FakeContext

LIFECYCLE_ID = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"


@pytest.fixture
def ec2(aws_credentials) -> Iterator[dict]:
    with mock_aws():
        client = boto3.client("ec2", region_name=REGION)
        vpc = client.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = client.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        group = client.create_security_group(GroupName="tests", Description="t", VpcId=vpc)["GroupId"]
        ami = client.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        iam = boto3.client("iam", region_name=REGION)
        iam.create_role(RoleName="tests", AssumeRolePolicyDocument="{}")
        profile = iam.create_instance_profile(InstanceProfileName="tests")["InstanceProfile"]["Arn"]
        iam.add_role_to_instance_profile(InstanceProfileName="tests", RoleName="tests")
        env = {"STACK_TAG": "main", "TEST_INSTANCE_TYPE": "t3.medium", "TEST_INSTANCE_VOLUME_GIB": "8",
               "TEST_INSTANCE_SUBNET_IDS": subnet, "TEST_INSTANCE_SECURITY_GROUP_ID": group,
               "TEST_INSTANCE_PROFILE_ARN": profile,
               "SMOKE_TEST_SUITE_BUCKET": "assets", "SMOKE_TEST_SUITE_KEY": "suite.zip",
               "SMOKE_TEST_LOG_GROUP_NAME": "/ami-lifecycle/main/smoke-tests"}
        bootstrap.install(bootstrap.bootstrap(RuntimeConfig.from_env(env)))
        yield {"client": client, "ami": ami, "subnet": subnet, "group": group}
        bootstrap.reset()


def launch_event(ami: str, **changes) -> dict:
    event = {"purpose": "smoke-tests", "lifecycle_id": LIFECYCLE_ID, "stack_tag": "main",
             "event": "SMOKE_TESTS_AMI_CREATE", "attempt": 2, "ami": {"id": ami},
             "execution_name": f"{LIFECYCLE_ID}-SMOKE_TESTS_AMI_CREATE-2", "task_token": "token-" + "x" * 1000}
    event.update(changes)
    return event


def described(client, instance_id: str) -> dict:
    return client.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]


def test_a_smoke_instance_runs_the_suite_from_user_data_in_the_test_network(ec2):
    instance_id = steps.launch(launch_event(ec2["ami"]), FakeContext())["instance_id"]
    instance = described(ec2["client"], instance_id)
    assert instance["InstanceType"] == "t3.medium" and instance["SubnetId"] == ec2["subnet"]
    assert [g["GroupId"] for g in instance["SecurityGroups"]] == [ec2["group"]]
    assert instance["MetadataOptions"]["HttpTokens"] == "required"
    tags = {tag["Key"]: tag["Value"] for tag in instance["Tags"]}
    assert tags["AMI_LC_EVENT_INSTANCE"] == "TRUE" and tags["AMI_LC_LIFECYCLE_ID"] == LIFECYCLE_ID
    assert tags["AMI_LC_STACK_TAG"] == "main"
    assert tags["AMI_LC_EXECUTION"] == f"{LIFECYCLE_ID}-SMOKE_TESTS_AMI_CREATE-2"
    user_data = ec2["client"].describe_instance_attribute(InstanceId=instance_id, Attribute="userData")
    script = base64.b64decode(user_data["UserData"]["Value"]).decode()
    assert script.startswith("#!/bin/bash") and "token-xxx" in script
    assert f"{LIFECYCLE_ID}/SMOKE_TESTS_AMI_CREATE-2" in script and "/ami-lifecycle/main/smoke-tests" in script


def test_a_scan_instance_runs_no_user_data(ec2):
    event = launch_event(ec2["ami"], purpose="vulnerability-scans")
    event.pop("task_token")
    instance_id = steps.launch(event, FakeContext())["instance_id"]
    user_data = ec2["client"].describe_instance_attribute(InstanceId=instance_id, Attribute="userData")
    assert "Value" not in user_data.get("UserData", {})


def test_a_launch_is_idempotent_per_execution_and_purpose():
    from orchestrator.adapters.instances import client_token
    token = client_token(f"{LIFECYCLE_ID}-SMOKE_TESTS_AMI_CREATE-2", "smoke-tests")
    assert token == client_token(f"{LIFECYCLE_ID}-SMOKE_TESTS_AMI_CREATE-2", "smoke-tests")
    assert token != client_token(f"{LIFECYCLE_ID}-SMOKE_TESTS_AMI_CREATE-2", "vulnerability-scans")
    assert len(token) <= 64


def test_an_ami_that_does_not_exist_is_named_in_the_error(ec2):
    with pytest.raises(ValidationError, match="ami-0000000000000dead does not exist"):
        steps.launch(launch_event("ami-0000000000000dead"), FakeContext())


def test_an_unknown_purpose_is_refused(ec2):
    with pytest.raises(ValidationError, match="purpose"):
        steps.launch(launch_event(ec2["ami"], purpose="mining"), FakeContext())


def test_terminate_ends_every_instance_of_the_execution_and_no_other(ec2):
    ours = steps.launch(launch_event(ec2["ami"]), FakeContext())["instance_id"]
    other = steps.launch(launch_event(ec2["ami"], execution_name="another-execution"), FakeContext())["instance_id"]

    answer = steps.terminate({"lifecycle_id": LIFECYCLE_ID,
                              "execution_name": f"{LIFECYCLE_ID}-SMOKE_TESTS_AMI_CREATE-2"}, FakeContext())

    assert answer == {"instance_ids": [ours]}
    assert described(ec2["client"], ours)["State"]["Name"] == "terminated"
    assert described(ec2["client"], other)["State"]["Name"] == "running"
    again = steps.terminate({"execution_name": f"{LIFECYCLE_ID}-SMOKE_TESTS_AMI_CREATE-2"}, FakeContext())
    assert again == {"instance_ids": []}


def test_the_smoke_result_step_shapes_the_receivers_message(ec2):
    report = {"smoke_tests_status": "PASSED", "total": 1, "passed": 1, "failed": 0, "failed_tests": []}
    message = steps.smoke_test_result({"lifecycle_id": LIFECYCLE_ID, "event": "SMOKE_TESTS_AMI_CREATE",
                                       "outcome": {"report": report}, "instance": {"instance_ids": ["i-1"]}},
                                      FakeContext())
    assert message["lifecycle_id"] == LIFECYCLE_ID and message["status"] == "COMPLETED"
    json.dumps(message)  # a plain JSON object, as the receiver queue carries it
