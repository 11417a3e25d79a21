"""S3 resource types: bucket policies, and the bucket properties moto's
model ignores (versioning, public access block, lifecycle rules).

moto enforces a bucket policy's Deny statements but cannot evaluate their
conditions, so a conditional statement would deny every request: CDK's
``enforceSSL`` statement (deny when ``aws:SecureTransport`` is false) would
even deny every call, since the local endpoint is plain HTTP. Statements
with a ``Condition`` are therefore not enforced locally; they are listed in
the log and in docs/local-cloud.md's limits.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from moto.backends import get_backend
from moto.core.common_models import CloudFormationModel
from moto.s3.models import FakeBucket
from moto.utilities.utils import get_partition

from local.cloudformation.base import ReplacedOnUpdate, ResourceModel

log = logging.getLogger(__name__)


def _backend(account_id: str, region_name: str) -> Any:
    return get_backend("s3")[account_id][get_partition(region_name)]


def _apply_bucket_properties(backend: Any, bucket_name: str, properties: dict[str, Any]) -> None:
    versioning = properties.get("VersioningConfiguration")
    if versioning:
        backend.put_bucket_versioning(bucket_name, versioning.get("Status", "Suspended"))
    block = properties.get("PublicAccessBlockConfiguration")
    if block:
        backend.put_public_access_block(bucket_name, block)
    lifecycle = properties.get("LifecycleConfiguration")
    if lifecycle and lifecycle.get("Rules"):
        backend.put_bucket_lifecycle_configuration(bucket_name, _lifecycle_rules(lifecycle["Rules"]))


def _lifecycle_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """CloudFormation's lifecycle shape -> the S3 API's (what moto stores)."""
    converted = []
    for rule in rules:
        api_rule: dict[str, Any] = {"ID": rule.get("Id", ""), "Status": rule.get("Status", "Enabled"),
                                    "Filter": {"Prefix": rule.get("Prefix", "")}}
        if "ExpirationInDays" in rule:
            api_rule["Expiration"] = {"Days": rule["ExpirationInDays"]}
        if "NoncurrentVersionExpiration" in rule:
            api_rule["NoncurrentVersionExpiration"] = {
                "NoncurrentDays": rule["NoncurrentVersionExpiration"].get("NoncurrentDays")
            }
        elif "NoncurrentVersionExpirationInDays" in rule:
            api_rule["NoncurrentVersionExpiration"] = {"NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]}
        if "AbortIncompleteMultipartUpload" in rule:
            api_rule["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
        converted.append(api_rule)
    return converted


class Bucket(FakeBucket, CloudFormationModel):
    """moto's bucket, plus the properties its CloudFormation model drops."""

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any,
    ) -> FakeBucket:
        bucket = super().create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        _apply_bucket_properties(
            _backend(account_id, region_name), bucket.name, cloudformation_json.get("Properties", {})
        )
        return bucket

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: Any, new_resource_name: str, cloudformation_json: Any,
        account_id: str, region_name: str,
    ) -> FakeBucket:
        bucket = super().update_from_cloudformation_json(
            original_resource, new_resource_name, cloudformation_json, account_id, region_name
        )
        _apply_bucket_properties(
            _backend(account_id, region_name), bucket.name, cloudformation_json.get("Properties", {})
        )
        return bucket


def enforceable_policy(document: Any) -> tuple[dict[str, Any], list[str]]:
    """The policy moto can enforce faithfully, and the Sids left out."""
    policy = json.loads(document) if isinstance(document, str) else dict(document)
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept = [statement for statement in statements if "Condition" not in statement]
    dropped = [statement.get("Sid", f"#{index}") for index, statement in enumerate(statements)
               if "Condition" in statement]
    return {**policy, "Statement": kept}, dropped


class BucketPolicy(ReplacedOnUpdate, ResourceModel, CloudFormationModel):
    cfn_type = "AWS::S3::BucketPolicy"

    def __init__(self, account_id: str, region_name: str, bucket_name: str, document: Any) -> None:
        self.account_id = account_id
        self.region_name = region_name
        self.bucket_name = bucket_name
        self.document = document

    @property
    def physical_resource_id(self) -> str:
        return self.bucket_name

    def _apply(self) -> None:
        policy, dropped = enforceable_policy(self.document)
        if dropped:
            log.info("bucket %s: conditional policy statements not enforced locally: %s",
                     self.bucket_name, ", ".join(dropped))
        backend = _backend(self.account_id, self.region_name)
        if policy["Statement"]:
            backend.put_bucket_policy(self.bucket_name, json.dumps(policy).encode("utf-8"))
        else:
            backend.delete_bucket_policy(self.bucket_name)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> BucketPolicy:
        properties = cloudformation_json["Properties"]
        policy = cls(account_id, region_name, properties["Bucket"], properties["PolicyDocument"])
        policy._apply()
        return policy

    def delete(self, account_id: str, region_name: str) -> None:
        backend = _backend(account_id, region_name)
        if self.bucket_name in backend.buckets:
            backend.delete_bucket_policy(self.bucket_name)
