"""Resource types the CDK itself adds to templates.

``AWS::CDK::Metadata`` records construct usage and creates nothing.

``Custom::S3AutoDeleteObjects`` and ``Custom::VpcRestrictDefaultSG`` are
backed on AWS by Node.js handlers the CDK ships. Their behaviour is small and
documented, so the local cloud performs it natively on moto's backends
rather than running Node.js: emptying a bucket (every version and delete
marker) when the resource is deleted, and removing the default security
group's rules when it is created.
"""

from __future__ import annotations

import logging
from typing import Any

from moto.backends import get_backend
from moto.core.common_models import CloudFormationModel
from moto.utilities.utils import get_partition

from local.cloudformation.base import ResourceModel

log = logging.getLogger(__name__)

AUTO_DELETE_TAG = "aws-cdk:auto-delete-objects"


class _NativeResource(ResourceModel):
    """The resource keeps its properties; Ref is the physical id."""

    def __init__(self, physical_id: str, properties: dict[str, Any]) -> None:
        self.physical_id = physical_id
        self.properties = properties

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id


class CdkMetadata(_NativeResource, CloudFormationModel):
    cfn_type = "AWS::CDK::Metadata"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> CdkMetadata:
        return cls(resource_name, cloudformation_json.get("Properties", {}))

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: CdkMetadata, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> CdkMetadata:
        return cls(original_resource.physical_id, cloudformation_json.get("Properties", {}))

    def delete(self, account_id: str, region_name: str) -> None:
        return None


class S3AutoDeleteObjects(_NativeResource, CloudFormationModel):
    cfn_type = "Custom::S3AutoDeleteObjects"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> S3AutoDeleteObjects:
        return cls(resource_name, dict(cloudformation_json["Properties"]))

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: S3AutoDeleteObjects, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> S3AutoDeleteObjects:
        properties = dict(cloudformation_json["Properties"])
        old_bucket = original_resource.properties.get("BucketName")
        if old_bucket and old_bucket != properties.get("BucketName"):
            # As CDK's handler does: the bucket this resource no longer covers is emptied.
            empty_bucket(account_id, region_name, old_bucket)
        return cls(original_resource.physical_id, properties)

    def delete(self, account_id: str, region_name: str) -> None:
        bucket = self.properties.get("BucketName")
        if bucket:
            empty_bucket(account_id, region_name, bucket)


def empty_bucket(account_id: str, region_name: str, bucket_name: str) -> int:
    """Delete every object version and delete marker of ``bucket_name`` if
    it still exists and carries the CDK auto-delete tag; returns the count."""
    backend = get_backend("s3")[account_id][get_partition(region_name)]
    bucket = backend.buckets.get(bucket_name)
    if bucket is None:
        return 0
    tags = backend.get_bucket_tagging(bucket_name).get("Tags", [])
    if not any(tag.get("Key") == AUTO_DELETE_TAG and tag.get("Value") == "true" for tag in tags):
        log.info("bucket %s lacks the %s tag: objects kept", bucket_name, AUTO_DELETE_TAG)
        return 0
    versions = [(key.name, key.version_id) for _, keys in bucket.keys.iterlists() for key in keys]
    for name, version_id in versions:
        backend.delete_object(bucket_name, name, version_id=version_id, bypass=True)
    return len(versions)


class VpcRestrictDefaultSecurityGroup(_NativeResource, CloudFormationModel):
    cfn_type = "Custom::VpcRestrictDefaultSG"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> VpcRestrictDefaultSecurityGroup:
        properties = dict(cloudformation_json["Properties"])
        _remove_rules(account_id, region_name, properties["DefaultSecurityGroupId"])
        return cls(resource_name, properties)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: VpcRestrictDefaultSecurityGroup, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> VpcRestrictDefaultSecurityGroup:
        properties = dict(cloudformation_json["Properties"])
        _remove_rules(account_id, region_name, properties["DefaultSecurityGroupId"])
        return cls(original_resource.physical_id, properties)

    def delete(self, account_id: str, region_name: str) -> None:
        """The VPC (and its default group) goes with the stack; nothing to restore."""


def _remove_rules(account_id: str, region_name: str, group_id: str) -> None:
    group = get_backend("ec2")[account_id][region_name].get_security_group_from_id(group_id)
    if group is None:
        raise ValueError(f"default security group {group_id} does not exist")
    group.ingress_rules = []
    group.egress_rules = []
