"""EC2 instances launched from an AMI under test (smoke tests, vulnerability scans).

Every instance is tagged ``AMI_LC_EVENT_INSTANCE=TRUE`` with its lifecycle,
stack tag and execution name (the garbage collector and the terminate step
find them by those tags), runs in a private subnet with IMDSv2 required and
an encrypted root volume of the configured size, and stops itself into
termination if its operating system shuts down. A launch is idempotent per
execution and purpose (EC2's client token), so a retried step never starts a
second instance.
"""

from __future__ import annotations

import hashlib
from datetime import timezone
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from botocore.exceptions import ClientError

from ..domain.errors import ValidationError
from ..domain.garbage_collection import TestInstance
from . import aws

EVENT_INSTANCE_TAG = "AMI_LC_EVENT_INSTANCE"
LIFECYCLE_TAG = "AMI_LC_LIFECYCLE_ID"
STACK_TAG_TAG = "AMI_LC_STACK_TAG"
EXECUTION_TAG = "AMI_LC_EXECUTION"
# Reservations per DescribeInstances page (EC2 allows 5 to 1,000).
DESCRIBE_PAGE_SIZE = 100
# TerminateInstances accepts up to 1,000 ids; smaller calls keep one failure from blocking many.
MAX_TERMINATE_PER_CALL = 100
LIVE_STATES = ("pending", "running", "stopping", "stopped", "shutting-down")


@dataclass(frozen=True)
class InstanceSettings:
    """Where and how test instances run (the launch function's environment)."""

    instance_type: str
    volume_size_gib: int
    subnet_ids: tuple[str, ...]
    security_group_id: str
    instance_profile_arn: str


@dataclass(frozen=True)
class Launch:
    """One instance to launch: from which AMI, for which execution, with which user data."""

    ami_id: str
    lifecycle_id: str
    stack_tag: str
    execution_name: str
    purpose: str
    usage: str
    user_data: str | None = None


def client_token(execution_name: str, purpose: str) -> str:
    """A launch's idempotency token (EC2 allows 64 characters)."""
    return hashlib.sha256(f"{execution_name}/{purpose}".encode()).hexdigest()[:64]


class TestInstances:
    """Launch, find and terminate test instances."""

    __test__ = False  # not a pytest test class

    def __init__(self, settings: InstanceSettings | Callable[[], InstanceSettings] | None = None, *,
                 client: Any | None = None) -> None:
        self._settings = settings
        self._client = client

    @property
    def settings(self) -> InstanceSettings | None:
        """Where instances run; read when first needed (only the launch step is given it)."""
        if callable(self._settings):
            self._settings = self._settings()
        return self._settings

    ec2 = aws.LazyClient("ec2")

    @property
    def region(self) -> str:
        return str(self.ec2.meta.region_name)

    def root_device(self, ami_id: str) -> str:
        """The AMI's root device name; a clear error when the AMI is missing or not available."""
        try:
            images = self.ec2.describe_images(ImageIds=[ami_id]).get("Images") or []
        except ClientError as error:
            if not str(error.response.get("Error", {}).get("Code", "")).startswith("InvalidAMIID"):
                raise
            images = []
        if not images:
            raise ValidationError(f"ami.id: AMI {ami_id} does not exist in {self.region}", field="ami.id")
        image = images[0]
        if image.get("State") != "available":
            raise ValidationError(f"ami.id: AMI {ami_id} is {image.get('State')}, not available", field="ami.id")
        return str(image.get("RootDeviceName") or "/dev/xvda")

    def launch(self, request: Launch) -> str:
        """Launch one instance; returns its id."""
        settings = self.settings
        if settings is None or not settings.subnet_ids:
            raise ValidationError("test instances: no subnet is configured", field="TEST_INSTANCE_SUBNET_IDS")
        tags = [
            {"Key": "Name", "Value": f"ami-lifecycle-{request.purpose}-{request.lifecycle_id}"[:255]},
            {"Key": "Usage", "Value": request.usage},
            {"Key": EVENT_INSTANCE_TAG, "Value": "TRUE"},
            {"Key": LIFECYCLE_TAG, "Value": request.lifecycle_id},
            {"Key": STACK_TAG_TAG, "Value": request.stack_tag},
            {"Key": EXECUTION_TAG, "Value": request.execution_name},
        ]
        parameters: dict[str, Any] = {
            "ImageId": request.ami_id,
            "InstanceType": settings.instance_type,
            "MinCount": 1,
            "MaxCount": 1,
            "SubnetId": settings.subnet_ids[0],
            "SecurityGroupIds": [settings.security_group_id],
            "IamInstanceProfile": {"Arn": settings.instance_profile_arn},
            "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled",
                                "HttpPutResponseHopLimit": 1},
            "BlockDeviceMappings": [{"DeviceName": self.root_device(request.ami_id), "Ebs": {
                "VolumeSize": settings.volume_size_gib, "VolumeType": "gp3", "Encrypted": True,
                "DeleteOnTermination": True}}],
            "InstanceInitiatedShutdownBehavior": "terminate",
            "TagSpecifications": [{"ResourceType": "instance", "Tags": tags},
                                  {"ResourceType": "volume", "Tags": tags}],
            "ClientToken": client_token(request.execution_name, request.purpose),
        }
        if request.user_data is not None:
            parameters["UserData"] = request.user_data  # boto3 base64-encodes it
        reservation = self.ec2.run_instances(**parameters)
        return str(reservation["Instances"][0]["InstanceId"])

    def of_execution(self, execution_name: str) -> list[str]:
        """Ids of the execution's instances that are not terminated yet."""
        paginator = self.ec2.get_paginator("describe_instances")
        found: list[str] = []
        for page in paginator.paginate(Filters=[
                {"Name": f"tag:{EXECUTION_TAG}", "Values": [execution_name]},
                {"Name": f"tag:{EVENT_INSTANCE_TAG}", "Values": ["TRUE"]},
                {"Name": "instance-state-name", "Values": list(LIVE_STATES)}]):
            for reservation in page.get("Reservations") or []:
                found += [str(instance["InstanceId"]) for instance in reservation.get("Instances") or []]
        return found

    def of_stack_tag(self, stack_tag: str) -> list[TestInstance]:
        """Every live test instance of this deployment (all pages of DescribeInstances)."""
        paginator = self.ec2.get_paginator("describe_instances")
        found: list[TestInstance] = []
        for page in paginator.paginate(Filters=[
                {"Name": f"tag:{EVENT_INSTANCE_TAG}", "Values": ["TRUE"]},
                {"Name": f"tag:{STACK_TAG_TAG}", "Values": [stack_tag]},
                {"Name": "instance-state-name", "Values": list(LIVE_STATES)}],
                PaginationConfig={"PageSize": DESCRIBE_PAGE_SIZE}):
            for reservation in page.get("Reservations") or []:
                for instance in reservation.get("Instances") or []:
                    tags = {tag["Key"]: tag.get("Value", "") for tag in instance.get("Tags") or []}
                    launched = instance["LaunchTime"]
                    found.append(TestInstance(
                        instance_id=str(instance["InstanceId"]),
                        launch_time=launched if launched.tzinfo else launched.replace(tzinfo=timezone.utc),
                        state=str((instance.get("State") or {}).get("Name", "")),
                        lifecycle_id=tags.get(LIFECYCLE_TAG, ""), execution=tags.get(EXECUTION_TAG, "")))
        return found

    def terminate_now(self, instance_ids: Sequence[str]) -> None:
        """Ask EC2 to terminate ``instance_ids`` without waiting for it."""
        for start in range(0, len(instance_ids), MAX_TERMINATE_PER_CALL):
            self.ec2.terminate_instances(InstanceIds=list(instance_ids[start:start + MAX_TERMINATE_PER_CALL]))

    def terminate(self, instance_ids: Sequence[str], *, wait_seconds: int = 540) -> None:
        """Terminate ``instance_ids`` and wait until EC2 reports them terminated."""
        if not instance_ids:
            return
        self.ec2.terminate_instances(InstanceIds=list(instance_ids))
        delay = 5
        self.ec2.get_waiter("instance_terminated").wait(
            InstanceIds=list(instance_ids), WaiterConfig={"Delay": delay, "MaxAttempts": max(1, wait_seconds // delay)})


def instance_settings(values: Mapping[str, str | None]) -> InstanceSettings:
    """The launch function's settings from its variables (``RuntimeConfig.optional``)."""
    def text(name: str) -> str:
        value = values.get(name)
        if not value:
            raise ValidationError(f"{name}: missing (the launch function needs it)", field=name)
        return value

    size = text("TEST_INSTANCE_VOLUME_GIB")
    if not size.isdigit() or int(size) < 1:
        raise ValidationError(f"TEST_INSTANCE_VOLUME_GIB: expected a whole number of GiB, got {size!r}",
                              field="TEST_INSTANCE_VOLUME_GIB")
    return InstanceSettings(
        instance_type=text("TEST_INSTANCE_TYPE"),
        volume_size_gib=int(size),
        subnet_ids=tuple(part for part in text("TEST_INSTANCE_SUBNET_IDS").split(",") if part),
        security_group_id=text("TEST_INSTANCE_SECURITY_GROUP_ID"),
        instance_profile_arn=text("TEST_INSTANCE_PROFILE_ARN"),
    )
