"""The scheduled jobs' handlers on moto: tag reconciliation across accounts, garbage collection across pages."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import boto3
import pytest
from moto import mock_aws
from moto.ec2.models import ec2_backends

from orchestrator import bootstrap
from orchestrator.adapters import ami_tags, instances
from orchestrator.adapters import aws
from orchestrator.adapters.state_repository import StateRepository
from orchestrator.config import RuntimeConfig
from orchestrator.domain.tags import expected_tags
from orchestrator.domain.vocabulary import LifecycleType
from orchestrator.handlers import operations
from tests.unit.domain_builders import completed, new_record

from .conftest import ACCOUNT, REGION, FakeContext, create_lifecycle_tables

DISTRIBUTION = "210987654321"
ROLE_NAME = "amiLifecycleImageTaggerRole-main"
COPY_REGION = "eu-west-1"


class Deployment:
    def __init__(self) -> None:
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.state_table = create_lifecycle_tables(dynamodb)[0]
        sqs = boto3.client("sqs", region_name=REGION)
        self.queue_url = sqs.create_queue(QueueName="reports")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url,
                                             AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns = boto3.client("sns", region_name=REGION)
        self.topic_arn = sns.create_topic(Name="operations")["TopicArn"]
        sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=queue_arn,
                      Attributes={"RawMessageDelivery": "false"})

    def environment(self) -> dict[str, str]:
        return {"STACK_TAG": "main", "STATE_TABLE_NAME": self.state_table, "OPERATIONS_TOPIC_ARN": self.topic_arn,
                "TAGGER_ROLE_NAME": ROLE_NAME, "DISTRIBUTION_ACCOUNTS": DISTRIBUTION,
                "TAGGER_SESSION_NAME": "AMI-TAGGING-OP", "TEST_INSTANCE_MAX_RUNTIME_HOURS": "3"}

    def reports(self) -> list[tuple[str, dict[str, Any]]]:
        sqs = boto3.client("sqs", region_name=REGION)
        found = []
        for message in sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", []):
            envelope = json.loads(message["Body"])
            found.append((envelope["Subject"], json.loads(envelope["Message"])))
        return found


@pytest.fixture
def deployment(aws_credentials) -> Iterator[Deployment]:
    with mock_aws():
        ami_tags.forget_sessions()
        built = Deployment()
        bootstrap.install(bootstrap.bootstrap(RuntimeConfig.from_env(built.environment())))
        yield built
        bootstrap.reset()
        ami_tags.forget_sessions()


def distribution_ec2(region: str) -> Any:
    credentials = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{DISTRIBUTION}:role/{ROLE_NAME}", RoleSessionName="test-setup")["Credentials"]
    return boto3.client("ec2", region_name=region, aws_access_key_id=credentials["AccessKeyId"],
                        aws_secret_access_key=credentials["SecretAccessKey"],
                        aws_session_token=credentials["SessionToken"])


def register(ec2: Any, name: str) -> str:
    return ec2.register_image(Name=name, RootDeviceName="/dev/xvda", Architecture="x86_64",
                              VirtualizationType="hvm")["ImageId"]


def tags_of(ec2: Any, ami_id: str) -> dict[str, str]:
    image = ec2.describe_images(ImageIds=[ami_id])["Images"][0]
    return {tag["Key"]: tag["Value"] for tag in image.get("Tags", [])}


def store_built_lifecycle(deployment: Deployment, copies: list[dict[str, str]]) -> dict:
    record = completed(new_record(), "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE")
    record["outputs_ami_creation"]["events"][0]["properties"]["ami_details"] = copies
    StateRepository(deployment.state_table).create(record)
    return record


def test_the_reconciler_restores_drifted_tags_on_every_copy_and_reports_them(deployment: Deployment) -> None:
    own_ec2 = boto3.client("ec2", region_name=REGION)
    remote_ec2 = distribution_ec2(COPY_REGION)
    own, remote = register(own_ec2, "AmiLifecycle-main-1"), register(remote_ec2, "AmiLifecycle-main-1")
    record = store_built_lifecycle(deployment, [
        {"image": own, "region": REGION, "accountId": ACCOUNT, "name": "AmiLifecycle-main-1", "ami_semver": "1.0.0"},
        {"image": remote, "region": COPY_REGION, "accountId": DISTRIBUTION, "name": "AmiLifecycle-main-1",
         "ami_semver": "1.0.0"}])
    expected = expected_tags(record, LifecycleType.AMI_CREATION)
    own_ec2.create_tags(Resources=[own], Tags=[{"Key": k, "Value": v} for k, v in expected.items()])
    own_ec2.create_tags(Resources=[own], Tags=[{"Key": "AMI_LC_CURRENT_AMI_SEMVER", "Value": "7.0.0"}])
    own_ec2.delete_tags(Resources=[own], Tags=[{"Key": "AMI_LC_LIFECYCLE_ID"}])

    result = operations.reconcile_tags({"source": "aws.events", "detail-type": "Scheduled Event"}, FakeContext())

    assert {k: v for k, v in tags_of(own_ec2, own).items() if k.startswith("AMI_LC_")} == expected
    assert {k: v for k, v in tags_of(remote_ec2, remote).items() if k.startswith("AMI_LC_")} == expected
    assert result["counts"]["ami_copies_repaired"] == 2
    [(subject, report)] = deployment.reports()
    assert "2 AMI copies repaired" in subject
    own_changes = next(c for c in report["changed"] if c["ami_id"] == own)
    assert {t["tag_key"]: t["problem"] for t in own_changes["tags"]} == {
        "AMI_LC_CURRENT_AMI_SEMVER": "wrong value", "AMI_LC_LIFECYCLE_ID": "missing"}


def test_the_tagger_role_is_assumed_once_per_account_in_a_warm_container(deployment: Deployment,
                                                                          monkeypatch) -> None:
    remote_ec2 = distribution_ec2(COPY_REGION)
    copies = [{"image": register(remote_ec2, f"AmiLifecycle-main-{n}"), "region": COPY_REGION,
               "accountId": DISTRIBUTION} for n in range(3)]
    store_built_lifecycle(deployment, copies)
    real_sts = boto3.client("sts", region_name=REGION)
    assumed: list[dict[str, str]] = []

    class CountingSts:
        def assume_role(self, **kwargs: str) -> Any:
            assumed.append(kwargs)
            return real_sts.assume_role(**kwargs)

        def get_caller_identity(self) -> Any:
            return real_sts.get_caller_identity()

    aws._clients["sts"] = CountingSts()

    operations.reconcile_tags({}, FakeContext())
    operations.reconcile_tags({}, FakeContext())

    assert assumed == [{"RoleArn": f"arn:aws:iam::{DISTRIBUTION}:role/{ROLE_NAME}",
                        "RoleSessionName": "AMI-TAGGING-OP"}]


def test_a_copy_that_no_longer_exists_is_reported_not_checked(deployment: Deployment) -> None:
    store_built_lifecycle(deployment, [{"image": "ami-0123456789abcdef0", "region": REGION, "accountId": ACCOUNT}])

    result = operations.reconcile_tags({}, FakeContext())

    assert result["counts"]["ami_copies_not_checked"] == 1
    assert "does not exist" in result["not_checked"][0]["problem"]


def launch(ec2: Any, *, stack_tag: str = "main", test_instance: bool = True, age: timedelta) -> str:
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    tags = [{"Key": "AMI_LC_STACK_TAG", "Value": stack_tag}, {"Key": "AMI_LC_LIFECYCLE_ID", "Value": "lc-1"}]
    if test_instance:
        tags.append({"Key": "AMI_LC_EVENT_INSTANCE", "Value": "TRUE"})
    instance_id = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                                    TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])[
        "Instances"][0]["InstanceId"]
    ec2_backends[ACCOUNT][REGION].get_instance(instance_id).launch_time = datetime.now(timezone.utc) - age
    return instance_id


def state_of(ec2: Any, instance_id: str) -> str:
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["State"]["Name"]


def test_the_garbage_collector_terminates_overdue_test_instances_on_every_page(deployment: Deployment,
                                                                               monkeypatch) -> None:
    monkeypatch.setattr(instances, "DESCRIBE_PAGE_SIZE", 5)
    ec2 = boto3.client("ec2", region_name=REGION)
    overdue = [launch(ec2, age=timedelta(days=1, hours=1)) for _ in range(6)] + \
        [launch(ec2, age=timedelta(hours=3, minutes=5))]
    young = launch(ec2, age=timedelta(hours=2))
    other_tag = launch(ec2, stack_tag="other", age=timedelta(days=3))
    not_a_test = launch(ec2, test_instance=False, age=timedelta(days=3))

    result = operations.collect_garbage({"source": "aws.events"}, FakeContext())

    assert sorted(i["instance_id"] for i in result["terminated"]) == sorted(overdue)
    assert result["counts"] == {"instances_seen": 8, "instances_terminated": 7}
    assert all(state_of(ec2, i) in ("shutting-down", "terminated") for i in overdue)
    assert [state_of(ec2, i) for i in (young, other_tag, not_a_test)] == ["running"] * 3
    [(subject, report)] = deployment.reports()
    assert "7 instance(s) terminated" in subject
    assert report["max_runtime_hours"] == 3


def test_a_garbage_collection_that_finds_nothing_publishes_nothing(deployment: Deployment) -> None:
    launch(boto3.client("ec2", region_name=REGION), age=timedelta(minutes=10))

    result = operations.collect_garbage({}, FakeContext())

    assert result["counts"]["instances_terminated"] == 0
    assert deployment.reports() == []
