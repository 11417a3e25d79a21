"""EC2 actions moto lacks, simulated by the local cloud: image export tasks,
store-image tasks and image deprecation, through boto3."""

from __future__ import annotations

import json
import struct
import subprocess
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local import clock, faults
from tests.local.polling import eventually


QEMU_IMG = "/usr/bin/qemu-img"
# Polling with this module's own pace.
wait_for = partial(eventually, timeout=10.0, interval=0.02)


@pytest.fixture
def fast_clock() -> Iterator[None]:
    """Tasks take ~0.06 s of real time (60 simulated seconds)."""
    previous = clock.time_scale()
    clock.set_time_scale(0.001)
    yield
    clock.set_time_scale(previous)


@pytest.fixture
def ec2(local_cloud: Any) -> Any:
    return local_cloud.boto3_client("ec2")


@pytest.fixture
def s3(local_cloud: Any) -> Any:
    return local_cloud.boto3_client("s3")


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"exports-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def vmimport_role(local_cloud: Any) -> str:
    iam = local_cloud.boto3_client("iam")
    try:
        iam.create_role(RoleName="vmimport", AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}')
    except ClientError as error:
        if error.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
    return "vmimport"


@pytest.fixture
def own_ami(ec2: Any, local_cloud: Any) -> str:
    """An AMI owned by the caller, copied from one of moto's Amazon images."""
    source = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": ["amzn2-ami-hvm-*"]}])
    return ec2.copy_image(SourceImageId=source["Images"][0]["ImageId"], SourceRegion=local_cloud.region,
                          Name=f"own-{uuid.uuid4().hex[:8]}")["ImageId"]


def export_task(ec2: Any, task_id: str) -> dict[str, Any]:
    return ec2.describe_export_image_tasks(ExportImageTaskIds=[task_id])["ExportImageTasks"][0]


def finished_export(ec2: Any, task_id: str) -> dict[str, Any]:
    return wait_for(lambda: (lambda t: t if t["Status"] != "active" else None)(export_task(ec2, task_id)))


def store_task(ec2: Any, ami: str) -> dict[str, Any]:
    return ec2.describe_store_image_tasks(ImageIds=[ami])["StoreImageTaskResults"][0]


def start_export(ec2: Any, ami: str, bucket: str, **extra: Any) -> dict[str, Any]:
    return ec2.export_image(ImageId=ami, DiskImageFormat="VMDK",
                            S3ExportLocation={"S3Bucket": bucket, "S3Prefix": "exports/lc-1/"},
                            RoleName="vmimport", **extra)


def test_an_export_starts_active_and_names_its_task(fast_clock, ec2, own_ami, bucket, vmimport_role):
    started = start_export(ec2, own_ami, bucket)

    assert started["ExportImageTaskId"].startswith("export-ami-")
    assert started["Status"] == "active"
    assert started["S3ExportLocation"] == {"S3Bucket": bucket, "S3Prefix": "exports/lc-1/"}


def test_a_completed_export_leaves_a_vmdk_in_the_bucket(fast_clock, ec2, s3, own_ami, bucket, vmimport_role):
    task_id = start_export(ec2, own_ami, bucket)["ExportImageTaskId"]

    assert finished_export(ec2, task_id)["Status"] == "completed"

    body = s3.get_object(Bucket=bucket, Key=f"exports/lc-1/{task_id}.vmdk")["Body"].read()
    magic, version = struct.unpack_from("<II", body)
    assert body[:4] == b"KDMV" and magic == 0x564D444B and version == 3
    assert b'createType="streamOptimized"' in body


def test_the_task_state_filter_lists_only_exports_in_progress(ec2, own_ami, bucket, vmimport_role):
    faults.set_fault("ec2", "hang", "ExportImage")
    hanging = start_export(ec2, own_ami, bucket)["ExportImageTaskId"]

    active = ec2.describe_export_image_tasks(Filters=[{"Name": "task-state", "Values": ["active"]}])

    assert hanging in {t["ExportImageTaskId"] for t in active["ExportImageTasks"]}
    assert all(t["Status"] == "active" for t in active["ExportImageTasks"])


def test_a_fail_fault_ends_the_export_failed_with_a_status_message(fast_clock, ec2, s3, own_ami, bucket,
                                                                   vmimport_role):
    faults.set_fault("ec2", "fail", "ExportImage", message="disk conversion failed")
    task_id = start_export(ec2, own_ami, bucket)["ExportImageTaskId"]

    task = finished_export(ec2, task_id)

    assert task["Status"] == "deleted"  # EC2's export image tasks have no "failed" state
    assert "disk conversion failed" in task["StatusMessage"]
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_the_exported_vmdk_is_a_disk_image_qemu_img_opens(fast_clock, ec2, s3, own_ami, bucket, vmimport_role,
                                                        tmp_path):
    task_id = start_export(ec2, own_ami, bucket)["ExportImageTaskId"]
    assert finished_export(ec2, task_id)["Status"] == "completed"
    disk = tmp_path / f"{task_id}.vmdk"
    disk.write_bytes(s3.get_object(Bucket=bucket, Key=f"exports/lc-1/{task_id}.vmdk")["Body"].read())

    info = json.loads(subprocess.run([QEMU_IMG, "info", "--output", "json", str(disk)], check=True,
                                     capture_output=True, text=True).stdout)
    checked = subprocess.run([QEMU_IMG, "check", str(disk)], capture_output=True, text=True)

    assert info["format"] == "vmdk"
    assert info["format-specific"]["data"]["create-type"] == "streamOptimized"
    assert info["virtual-size"] >= 8 * 1024 ** 3
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_cancelled_export_ends_deleted_and_leaves_no_object(ec2, s3, own_ami, bucket, vmimport_role):
    faults.set_fault("ec2", "hang", "ExportImage")
    task_id = start_export(ec2, own_ami, bucket)["ExportImageTaskId"]

    ec2.cancel_export_task(ExportTaskId=task_id)

    task = export_task(ec2, task_id)
    assert task["Status"] == "deleted" and "cancelled" in task["StatusMessage"]
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    with pytest.raises(ClientError) as again:
        ec2.cancel_export_task(ExportTaskId=task_id)
    assert again.value.response["Error"]["Code"] == "IncorrectState"
    with pytest.raises(ClientError) as unknown:
        ec2.cancel_export_task(ExportTaskId="export-ami-0123456789abcdef0")
    assert unknown.value.response["Error"]["Code"] == "InvalidExportTaskID.NotFound"


def test_describing_an_unknown_export_task_is_refused(ec2):
    with pytest.raises(ClientError) as refused:
        ec2.describe_export_image_tasks(ExportImageTaskIds=["export-ami-0123456789abcdef0"])
    assert refused.value.response["Error"]["Code"] == "InvalidExportImageTaskId.NotFound"


def test_exporting_an_unknown_image_is_refused(ec2, bucket, vmimport_role):
    with pytest.raises(ClientError) as raised:
        start_export(ec2, "ami-0123456789abcdef0", bucket)

    assert raised.value.response["Error"]["Code"] == "InvalidAMIID.NotFound"


def test_exporting_to_a_missing_bucket_is_refused(ec2, own_ami, vmimport_role):
    with pytest.raises(ClientError) as raised:
        start_export(ec2, own_ami, f"missing-{uuid.uuid4().hex[:8]}")

    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "does not exist" in raised.value.response["Error"]["Message"]


def test_exporting_with_a_missing_service_role_is_refused(ec2, own_ami, bucket):
    with pytest.raises(ClientError) as raised:
        ec2.export_image(ImageId=own_ami, DiskImageFormat="VMDK", S3ExportLocation={"S3Bucket": bucket},
                         RoleName="no-such-role")

    assert raised.value.response["Error"]["Code"] == "InvalidParameter"
    assert "no-such-role" in raised.value.response["Error"]["Message"]


def test_a_store_task_backs_the_ami_up_to_the_bucket(fast_clock, ec2, s3, own_ami, bucket):
    key = ec2.create_store_image_task(ImageId=own_ami, Bucket=bucket)["ObjectKey"]

    task = wait_for(lambda: (lambda t: t if t["StoreTaskState"] != "InProgress" else None)(store_task(ec2, own_ami)))

    assert key == f"{own_ami}.bin"
    assert task["StoreTaskState"] == "Completed" and task["ProgressPercentage"] == 100
    assert task["S3objectKey"] == key and task["Bucket"] == bucket
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body.startswith(b"EC2-AMI-STORE 1\n") and own_ami.encode() in body


def test_a_store_task_in_progress_reports_partial_progress(ec2, own_ami, bucket):
    faults.set_fault("ec2", "hang", "CreateStoreImageTask")
    ec2.create_store_image_task(ImageId=own_ami, Bucket=bucket)

    task = store_task(ec2, own_ami)

    assert task["StoreTaskState"] == "InProgress"
    assert 0 < task["ProgressPercentage"] < 100


def test_a_fail_fault_ends_the_store_task_failed_with_its_reason(fast_clock, ec2, own_ami, bucket):
    faults.set_fault("ec2", "fail", "CreateStoreImageTask", message="snapshot unreadable")
    ec2.create_store_image_task(ImageId=own_ami, Bucket=bucket)

    task = wait_for(lambda: (lambda t: t if t["StoreTaskState"] != "InProgress" else None)(store_task(ec2, own_ami)))

    assert task["StoreTaskState"] == "Failed"
    assert "snapshot unreadable" in task["StoreTaskFailureReason"]


def test_deprecation_shows_in_describe_images_rounded_up_to_the_minute(ec2, own_ami):
    deprecate_at = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=30)
    deprecate_at = deprecate_at.replace(second=20)

    assert ec2.enable_image_deprecation(ImageId=own_ami, DeprecateAt=deprecate_at)["Return"] is True

    shown = ec2.describe_images(ImageIds=[own_ami])["Images"][0]["DeprecationTime"]
    expected = (deprecate_at.replace(second=0) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:00.000Z")
    assert shown == expected


def test_disabling_deprecation_removes_it_from_describe_images(ec2, own_ami):
    ec2.enable_image_deprecation(ImageId=own_ami, DeprecateAt=datetime.now(timezone.utc) + timedelta(days=1))

    ec2.disable_image_deprecation(ImageId=own_ami)

    assert "DeprecationTime" not in ec2.describe_images(ImageIds=[own_ami])["Images"][0]


def test_deprecating_an_image_of_another_account_is_refused(ec2):
    amazon_ami = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": ["amzn2-ami-hvm-*"]}])[
        "Images"][0]["ImageId"]

    with pytest.raises(ClientError) as raised:
        ec2.enable_image_deprecation(ImageId=amazon_ami, DeprecateAt=datetime.now(timezone.utc) + timedelta(days=1))

    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_a_fail_fault_on_a_describe_answers_an_internal_failure(local_cloud):
    ec2 = boto3.client("ec2", **{**local_cloud.client_kwargs(), "config": Config(retries={"total_max_attempts": 1})})
    faults.set_fault("ec2", "fail", "DescribeExportImageTasks", message="throttled")

    with pytest.raises(ClientError) as raised:
        ec2.describe_export_image_tasks()

    assert raised.value.response["Error"]["Code"] == "InternalFailure"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_other_ec2_actions_still_reach_moto(ec2, own_ami):
    faults.set_fault("ec2", "fail", "DescribeExportImageTasks")

    reservation = ec2.run_instances(ImageId=own_ami, MinCount=1, MaxCount=1)

    instance_id = reservation["Instances"][0]["InstanceId"]
    described = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    assert described["ImageId"] == own_ami


def test_an_export_in_progress_finishes_after_its_state_is_restored(ec2, s3, own_ami, bucket, vmimport_role):
    import pickle

    from local.services.ec2 import models

    previous = clock.time_scale()
    clock.set_time_scale(0.002)
    try:
        task_id = start_export(ec2, own_ami, bucket)["ExportImageTaskId"]
        models.set_state(pickle.loads(pickle.dumps(models.get_state())))  # what a restart does

        assert finished_export(ec2, task_id)["Status"] == "completed"
        assert s3.head_object(Bucket=bucket, Key=f"exports/lc-1/{task_id}.vmdk")["ContentLength"] > 512
    finally:
        clock.set_time_scale(previous)
