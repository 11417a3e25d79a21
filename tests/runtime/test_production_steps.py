"""The approval steps: the backup through EC2's store-image API (botocore's stubber, real shapes), the
production channel on moto's DynamoDB and SSM (order, races, projection), and the result step."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from orchestrator import bootstrap
from orchestrator.adapters.ami_backups import AmiBackups
from orchestrator.adapters.production_channel import ChannelContention, ProductionChannel
from orchestrator.config import RuntimeConfig
from orchestrator.domain.production import release_for
from orchestrator.handlers import production
from stacks.amilifecycle.events.production import CHANNEL_TABLE_PARTITION_KEY

from .conftest import REGION, FakeContext
from .conftest_build import atomic_dynamodb  # noqa: F401 (fixture)

LIFECYCLE_ID = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
AMI_ID = "ami-0123456789abcdef0"
TABLE = "ProductionChannels"
PARAMETER = "/ami-lifecycle/main/billing-service/production"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def channel_cloud(aws_credentials) -> Iterator[None]:
    with mock_aws():
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": CHANNEL_TABLE_PARTITION_KEY, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": CHANNEL_TABLE_PARTITION_KEY, "AttributeType": "S"}])
        yield


def channel(**kwargs: Any) -> ProductionChannel:
    return ProductionChannel(TABLE, dynamodb=boto3.client("dynamodb", region_name=REGION),
                             ssm=kwargs.pop("ssm", None) or boto3.client("ssm", region_name=REGION), **kwargs)


def release(semver: str, ami_id: str, minutes: int = 0):
    return release_for(ami={"id": ami_id, "region": REGION, "semver": semver}, lifecycle_id=LIFECYCLE_ID,
                       event="MARK_FOR_PRODUCTION_CREATE", now=NOW + timedelta(minutes=minutes))


def parameter(name: str = PARAMETER) -> dict[str, Any]:
    return boto3.client("ssm", region_name=REGION).get_parameter(Name=name)["Parameter"]


def ami_id(n: int) -> str:
    return f"ami-{n:017x}"


# ---------------------------------------------------------------- the backup

def test_the_backup_starts_a_store_task_into_the_bucket_with_the_object_tags():
    ec2 = boto3.client("ec2", region_name=REGION)
    tags = [{"Key": "CommitRef", "Value": "3f9c2ab"}, {"Key": "ProductName", "Value": "billing"}]
    with Stubber(ec2) as stub:
        stub.add_response("create_store_image_task", {"ObjectKey": f"{AMI_ID}.bin"},
                          {"ImageId": AMI_ID, "Bucket": "backups", "S3ObjectTags": tags})
        started = AmiBackups("backups", ec2).start(AMI_ID, object_tags=tags)

    assert started == {"ami_id": AMI_ID, "bucket": "backups", "key": f"{AMI_ID}.bin"}


def test_the_backup_check_reads_the_newest_task_of_the_ami():
    ec2 = boto3.client("ec2", region_name=REGION)
    older = {"AmiId": AMI_ID, "Bucket": "backups", "S3objectKey": f"{AMI_ID}.bin", "StoreTaskState": "Failed",
             "TaskStartTime": NOW, "StoreTaskFailureReason": "Access Denied"}
    newer = {**older, "StoreTaskState": "InProgress", "TaskStartTime": NOW + timedelta(hours=1),
             "ProgressPercentage": 40}
    del newer["StoreTaskFailureReason"]
    with Stubber(ec2) as stub:
        stub.add_response("describe_store_image_tasks", {"StoreImageTaskResults": [older, newer]},
                          {"ImageIds": [AMI_ID]})
        task = AmiBackups("backups", ec2).latest_task(AMI_ID)

    assert task["StoreTaskState"] == "InProgress" and task["ProgressPercentage"] == 40


class FakeBackups:
    def __init__(self, task: dict[str, Any] | None) -> None:
        self.task = task
        self.started: list[tuple[str, list]] = []

    def start(self, ami_id: str, *, object_tags):
        self.started.append((ami_id, list(object_tags)))
        return {"ami_id": ami_id, "bucket": "backups", "key": f"{ami_id}.bin"}

    def latest_task(self, ami_id: str):
        return self.task


@pytest.fixture
def wired_backups(aws_credentials) -> Iterator[FakeBackups]:
    backups = FakeBackups({"AmiId": AMI_ID, "StoreTaskState": "Failed", "StoreTaskFailureReason": "Access Denied",
                           "Bucket": "backups", "S3objectKey": f"{AMI_ID}.bin"})
    bootstrap.install(bootstrap.bootstrap(RuntimeConfig.from_env({"STACK_TAG": "main"}), ami_backups=backups))
    yield backups
    bootstrap.reset()


def test_the_backup_step_tags_the_object_with_commit_and_product(wired_backups):
    started = production.start_backup({"lifecycle_id": LIFECYCLE_ID, "ami": {"id": AMI_ID}, "commit_ref": "3f9c2ab",
                                       "product_ver": "1.4.2", "product_name": "billing"}, FakeContext())

    assert started["key"] == f"{AMI_ID}.bin"
    assert wired_backups.started == [(AMI_ID, [{"Key": "CommitRef", "Value": "3f9c2ab"},
                                               {"Key": "ProductVer", "Value": "1.4.2"},
                                               {"Key": "ProductName", "Value": "billing"}])]


def test_the_check_step_reports_a_failed_backup_with_ec2s_reason(wired_backups):
    outcome = production.check_backup({"ami_id": AMI_ID, "bucket": "backups", "key": f"{AMI_ID}.bin"}, FakeContext())

    assert outcome["failed"] is True and outcome["state"] == "FAILED"
    assert outcome["reason"] == f"the backup of {AMI_ID} to S3 failed: Access Denied"


# ---------------------------------------------------------------- the channel

def test_an_approval_publishes_the_ami_id_as_an_ec2_image_parameter(channel_cloud):
    outcome = channel().publish("main", "billing-service", release("1.0.0", AMI_ID))

    assert outcome.is_head and outcome.parameter == PARAMETER
    stored = parameter()
    assert stored["Value"] == AMI_ID and stored["DataType"] == "aws:ec2:image" and stored["Type"] == "String"
    described = boto3.client("ssm", region_name=REGION).describe_parameters(
        ParameterFilters=[{"Key": "Name", "Values": [PARAMETER]}])["Parameters"][0]
    assert "v1.0.0" in described["Description"] and LIFECYCLE_ID in described["Description"]
    sibling = json.loads(parameter(PARAMETER + "-release")["Value"])
    assert (sibling["ami_id"], sibling["semver"], sibling["lifecycle_id"]) == (AMI_ID, "1.0.0", LIFECYCLE_ID)


def test_a_newer_approval_replaces_the_parameter(channel_cloud):
    channel().publish("main", "billing-service", release("1.0.0", ami_id(1)))
    channel().publish("main", "billing-service", release("2.0.0", ami_id(2), 5))

    assert parameter()["Value"] == ami_id(2)


def test_an_older_approval_is_kept_in_the_history_but_never_published(channel_cloud):
    channel().publish("main", "billing-service", release("2.0.0", ami_id(2)))
    outcome = channel().publish("main", "billing-service", release("1.1.0", ami_id(1), 5))

    assert parameter()["Value"] == ami_id(2)
    assert not outcome.is_head and outcome.to_dict()["channel_semver"] == "2.0.0"
    assert [r.semver for r in channel().state("main", "billing-service").releases] == ["2.0.0", "1.1.0"]


def test_each_stack_tag_and_product_has_its_own_channel(channel_cloud):
    channel().publish("main", "billing-service", release("3.0.0", ami_id(3)))
    channel().publish("feature-x", "billing-service", release("1.0.0", ami_id(1)))

    assert parameter()["Value"] == ami_id(3)
    assert parameter("/ami-lifecycle/feature-x/billing-service/production")["Value"] == ami_id(1)


class ReadTogether:
    """Every thread's first channel read happens before any thread writes: the worst interleaving."""

    def __init__(self, client: Any, threads: int) -> None:
        self.client = client
        self.barrier = threading.Barrier(threads, timeout=10)
        self.first_read = threading.local()

    def get_item(self, **kwargs: Any) -> Any:
        answer = self.client.get_item(**kwargs)
        if not getattr(self.first_read, "done", False):
            self.first_read.done = True
            self.barrier.wait()
        return answer

    def put_item(self, **kwargs: Any) -> Any:
        return self.client.put_item(**kwargs)


@pytest.mark.usefixtures("atomic_dynamodb")
def test_concurrent_approvals_leave_the_highest_version_published(channel_cloud):
    versions = ["1.0.0", "4.0.0", "2.0.0", "3.0.0", "1.5.0"]
    racing = ProductionChannel(TABLE, dynamodb=ReadTogether(boto3.client("dynamodb", region_name=REGION),
                                                            len(versions)),
                               ssm=boto3.client("ssm", region_name=REGION), sleep=lambda _: None)

    def approve(index: int) -> None:
        racing.publish("main", "billing-service", release(versions[index], ami_id(index)))

    with ThreadPoolExecutor(max_workers=len(versions)) as pool:
        list(pool.map(approve, range(len(versions))))

    assert parameter()["Value"] == ami_id(1)  # 4.0.0
    assert len(channel().state("main", "billing-service").releases) == len(versions)


def test_an_older_approval_whose_parameter_write_lands_last_puts_the_newer_one_back(channel_cloud):
    ssm = boto3.client("ssm", region_name=REGION)

    class NewerOvertakes:
        """The newer approval records itself and writes the parameters while the older one is about to write."""

        def __init__(self) -> None:
            self.overtaken = False

        def put_parameter(self, **kwargs: Any) -> Any:
            if not self.overtaken:
                self.overtaken = True
                channel().publish("main", "billing-service", release("2.0.0", ami_id(2), 1))
            return ssm.put_parameter(**kwargs)

        def __getattr__(self, name: str) -> Any:
            return getattr(ssm, name)

    channel(ssm=NewerOvertakes()).publish("main", "billing-service", release("1.0.0", ami_id(1)))

    assert parameter()["Value"] == ami_id(2)


def test_a_channel_that_never_stops_changing_gives_up_with_a_clear_error(channel_cloud):
    real = boto3.client("dynamodb", region_name=REGION)
    counter = iter(range(100, 10_000))

    class Overtaken:
        """Another approval lands between every read and our conditional write."""

        def get_item(self, **kwargs: Any) -> Any:
            return real.get_item(**kwargs)

        def put_item(self, **kwargs: Any) -> Any:
            channel().publish("main", "billing-service", release(f"{next(counter)}.0.0", ami_id(next(counter))))
            return real.put_item(**kwargs)

    stubborn = ProductionChannel(TABLE, dynamodb=Overtaken(), ssm=boto3.client("ssm", region_name=REGION),
                                 max_attempts=3, sleep=lambda _: None)
    with pytest.raises(ChannelContention, match="main/billing-service changed 3 times"):
        stubborn.publish("main", "billing-service", release("1.0.0", AMI_ID))


# ---------------------------------------------------------------- the result step

@pytest.fixture
def wired_channel(channel_cloud) -> Iterator[None]:
    config = RuntimeConfig.from_env({"STACK_TAG": "main", "PRODUCTION_CHANNEL_TABLE_NAME": TABLE})
    bootstrap.install(bootstrap.bootstrap(config, clock=lambda: NOW))
    yield
    bootstrap.reset()


def test_the_publish_step_returns_the_result_for_the_receiver(wired_channel):
    message = production.publish_release({
        "lifecycle_id": LIFECYCLE_ID, "stack_tag": "main", "event": "MARK_FOR_PRODUCTION_CREATE",
        "product_name": "billing-service",
        "ami": {"id": AMI_ID, "region": REGION, "semver": "1.0.0", "name": "n", "owner": "123456789012"},
        "backup": {"ami_id": AMI_ID, "state": "COMPLETED", "bucket": "backups", "key": f"{AMI_ID}.bin"},
        "approval": {"approval_status": "APPROVED", "properties": {"change_ref": "CHG-42"}}}, FakeContext())

    assert message["lifecycle_id"] == LIFECYCLE_ID and message["name"] == "MARK_FOR_PRODUCTION_CREATE"
    assert message["status"] == "COMPLETED" and message["approval_status"] == "APPROVED"
    props = message["properties"]
    assert (props["s3_bucket"], props["s3_object_key"], props["ami_backup_state"]) == (
        "backups", f"{AMI_ID}.bin", "COMPLETED")
    assert props["production_channel"]["parameter"] == PARAMETER and props["production_channel"]["published"]
    assert props["change_ref"] == "CHG-42"
    assert parameter()["Value"] == AMI_ID
