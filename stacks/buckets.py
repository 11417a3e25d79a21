"""The one way this product makes an S3 bucket.

Every bucket blocks public access, refuses plain HTTP, is versioned,
enforces bucket-owner object ownership, and writes server access logs to
the stack's access-log bucket. Removal is DESTROY without CDK's auto-delete
custom resource: destroy.sh empties the buckets before deleting stacks.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.checks import skip_check

_ACCESS_LOGS_ID = "AccessLogsBucket"


def _common(**overrides) -> dict:
    return {
        "enforce_ssl": True,
        "versioned": True,
        "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
        "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        "removal_policy": cdk.RemovalPolicy.DESTROY,
        **overrides,
    }


def access_logs_bucket(scope: Construct) -> s3.Bucket:
    """The stack's server-access-log bucket, created on first use."""
    stack = cdk.Stack.of(scope)
    existing = stack.node.try_find_child(_ACCESS_LOGS_ID)
    if existing is not None:
        return existing  # type: ignore[return-value]
    bucket = s3.Bucket(
        stack,
        _ACCESS_LOGS_ID,
        # S3 server access logging delivers only to SSE-S3 buckets.
        encryption=s3.BucketEncryption.S3_MANAGED,
        lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(365),
                                          noncurrent_version_expiration=cdk.Duration.days(30))],
        **_common(object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED),
    )
    skip_check(bucket, "CKV_AWS_18", "This is the access-log bucket itself; logging it into itself would loop.")
    return bucket


def secure_bucket(scope: Construct, construct_id: str, *, encryption_key: kms.IKey | None = None,
                  **overrides) -> s3.Bucket:
    """A data bucket: SSE-KMS with ``encryption_key`` when given, else SSE-S3
    (for buckets AWS services can only write with SSE-S3)."""
    encryption = (
        {"encryption": s3.BucketEncryption.KMS, "encryption_key": encryption_key, "bucket_key_enabled": True}
        if encryption_key is not None
        else {"encryption": s3.BucketEncryption.S3_MANAGED}
    )
    return s3.Bucket(
        scope,
        construct_id,
        server_access_logs_bucket=access_logs_bucket(scope),
        server_access_logs_prefix=f"{construct_id}/",
        **encryption,
        **_common(**overrides),
    )
