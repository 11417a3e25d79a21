"""Lifecycle state (DynamoDB) and the stack's S3 buckets.

Key design (docs/api.md, "Data model"):

* ``AmiOrchestratorTable`` holds one item per lifecycle (``lifecycle_id``).
  Its ``stack_tag_index`` (``stack_tag`` + ``creation_date``, ISO-8601 UTC
  so that string order is time order) answers "all lifecycles of a stack
  tag, newest first" as a paginated Query.
* ``AmiSemverSeedTable`` holds the next semantic version per stack tag.
* ``AmiLookupTable`` holds one item per AMI (``lookup_id``). Its
  ``stack_tag_semver_index`` (``stack_tag`` + ``semver_sort_key``) answers
  "the newest AMI of a stack tag meeting criteria" with a descending Query
  that stops at the first match, never a Scan.

Tables get no physical names so that two deployments never collide; the
names reach their readers through stack outputs and Lambda environments.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.amilifecycle.keys import inspector_service_conditions
from stacks.buckets import secure_bucket

STATE_TABLE_PARTITION_KEY = "lifecycle_id"
STATE_TABLE_STACK_TAG_INDEX = "stack_tag_index"
SEMVER_SEED_TABLE_PARTITION_KEY = "stack_tag"
LOOKUP_TABLE_PARTITION_KEY = "lookup_id"
LOOKUP_TABLE_SEMVER_INDEX = "stack_tag_semver_index"


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def lifecycle_table(scope: Construct, construct_id: str, *, partition_key: str, key: kms.IKey,
                    **extra) -> dynamodb.Table:
    """The product's one way to make a table: on demand, point-in-time
    recovery, encrypted with ``key``, deleted with the stack."""
    return dynamodb.Table(
        scope,
        construct_id,
        partition_key=_string(partition_key),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=key,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        deletion_protection=False,
        removal_policy=cdk.RemovalPolicy.DESTROY,
        **extra,
    )


class LifecycleTables(Construct):
    """``state``, ``semver_seed`` and ``lookup`` tables, encrypted with the orchestrator key."""

    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.state = lifecycle_table(self, "AmiOrchestratorTable", partition_key=STATE_TABLE_PARTITION_KEY, key=key)
        self.state.add_global_secondary_index(
            index_name=STATE_TABLE_STACK_TAG_INDEX,
            partition_key=_string("stack_tag"),
            sort_key=_string("creation_date"),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        self.semver_seed = lifecycle_table(self, "AmiSemverSeedTable", partition_key=SEMVER_SEED_TABLE_PARTITION_KEY,
                                           key=key)
        self.lookup = lifecycle_table(self, "AmiLookupTable", partition_key=LOOKUP_TABLE_PARTITION_KEY, key=key)
        self.lookup.add_global_secondary_index(
            index_name=LOOKUP_TABLE_SEMVER_INDEX,
            partition_key=_string("stack_tag"),
            sort_key=_string("semver_sort_key"),
            projection_type=dynamodb.ProjectionType.ALL,
        )


class LifecycleBuckets(Construct):
    """``patch_components``, ``inspector_findings`` and ``backups``, made the
    product's one way (stacks/buckets.py): public access blocked, TLS only,
    versioned, server access logs, and no auto-delete custom resource
    (destroy.sh empties the buckets before the stack goes)."""

    def __init__(self, scope: Construct, construct_id: str, *, findings_key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        # The CLI uploads patch components and EC2 Image Builder reads them
        # with the caller's credentials; SSE-S3 spares every uploader a grant
        # on a key while keeping objects encrypted at rest.
        self.patch_components = secure_bucket(self, "AmiPatchComponentS3Bucket")
        # Inspector encrypts reports with a key the caller names; the bucket
        # default matches it so that any other object is encrypted the same way.
        self.inspector_findings = secure_bucket(self, "InspectorV2Findings", encryption_key=findings_key)
        # EC2 store-image tasks write the AMI object with the caller's S3
        # permissions only (the documented permission set has no KMS action
        # for the bucket); SSE-S3 keeps the backups encrypted without one.
        self.backups = secure_bucket(self, "AmiBackupBucket")

        self.inspector_findings.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowInspectorReportsOfThisAccount",
                principals=[iam.ServicePrincipal("inspector2.amazonaws.com")],
                actions=["s3:PutObject", "s3:PutObjectAcl", "s3:AbortMultipartUpload"],
                resources=[self.inspector_findings.arn_for_objects("*")],
                conditions=inspector_service_conditions(),
            )
        )
