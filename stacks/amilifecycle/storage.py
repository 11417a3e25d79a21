"""Lifecycle state (DynamoDB) and the stack's S3 buckets.

Key design (docs/api.md, "Data model"):

* ``AmiOrchestratorTable`` holds one item per lifecycle (``lifecycle_id``).
  Its ``stack_tag_index`` (``stack_tag`` + ``creation_date``, ISO-8601 UTC
  so that string order is time order) answers "all lifecycles of a stack
  tag, newest first" as a paginated Query. Its ``creation_date_index``
  (``record_kind``, the same value on every record, + ``creation_date``)
  answers "every lifecycle, newest first" as a paginated Query, never a
  Scan: lifecycles are created a few times a day at most, far below what
  one index partition absorbs (1,000 writes a second).
* ``AmiSemverSeedTable`` holds the next semantic version per stack tag.
* ``AmiLookupTable`` holds one item per AMI (``lookup_id``). Its
  ``stack_tag_semver_index`` (``stack_tag`` + ``semver_sort_key``) answers
  "the newest AMI of a stack tag meeting criteria" with a descending Query
  that stops at the first match, never a Scan. Its ``stack_tag_index``
  (``stack_tag`` only) is the index older selection clients query by name;
  it projects only the attributes of the original lookup record
  (:data:`LEGACY_LOOKUP_ATTRIBUTES`), so those clients read items of the
  shape they know, with ``lifecycle_score`` as the only number.

Tables get no physical names so that two deployments never collide; the
names reach their readers through stack outputs and Lambda environments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
# The index name the original selection client queries.
LOOKUP_TABLE_STACK_TAG_INDEX = "stack_tag_index"
STATE_TABLE_CREATION_DATE_INDEX = "creation_date_index"
# Every lifecycle record carries this attribute with this value (written by
# adapters/state_repository.py), so one index partition lists them all.
STATE_TABLE_RECORD_KIND = "record_kind"
STATE_TABLE_RECORD_KIND_VALUE = "lifecycle"
# The non-key attributes of a lookup record as the original clients read it.
LEGACY_LOOKUP_ATTRIBUTES = ("last_modified", "ami_id", "ami_semver", "product_ver", "product_name",
                            "lifecycle_type", "lifecycle_event", "lifecycle_score", "lifecycle_id", "aws_region",
                            "commit_ref")


@dataclass(frozen=True)
class IndexSpec:
    """A global secondary index: string keys; every attribute projected unless ``included`` names some."""

    name: str
    partition_key: str
    sort_key: str | None = None
    included: tuple[str, ...] | None = None

    def projection(self) -> dict[str, Any]:
        """The index's ``Projection`` as the DynamoDB API spells it."""
        if self.included is None:
            return {"ProjectionType": "ALL"}
        return {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(self.included)}

    def key_schema(self) -> list[dict[str, str]]:
        schema = [{"AttributeName": self.partition_key, "KeyType": "HASH"}]
        if self.sort_key:
            schema.append({"AttributeName": self.sort_key, "KeyType": "RANGE"})
        return schema


STATE_TABLE_INDEXES = (
    IndexSpec(STATE_TABLE_STACK_TAG_INDEX, "stack_tag", "creation_date"),
    IndexSpec(STATE_TABLE_CREATION_DATE_INDEX, STATE_TABLE_RECORD_KIND, "creation_date"),
)
LOOKUP_TABLE_INDEXES = (
    IndexSpec(LOOKUP_TABLE_SEMVER_INDEX, "stack_tag", "semver_sort_key"),
    IndexSpec(LOOKUP_TABLE_STACK_TAG_INDEX, "stack_tag", included=LEGACY_LOOKUP_ATTRIBUTES),
)


def table_definition(partition_key: str, indexes: tuple[IndexSpec, ...] = ()) -> dict[str, Any]:
    """``CreateTable`` arguments (keys, attribute definitions, indexes) of a table keyed as the stack keys it.

    Tests create their tables from this, so they cannot pass against a
    table shape the deployment does not have.
    """
    attributes = [partition_key]
    for index in indexes:
        attributes += [name for name in (index.partition_key, index.sort_key) if name and name not in attributes]
    definition: dict[str, Any] = {
        "KeySchema": [{"AttributeName": partition_key, "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name in attributes],
    }
    if indexes:
        definition["GlobalSecondaryIndexes"] = [
            {"IndexName": index.name, "KeySchema": index.key_schema(), "Projection": index.projection()}
            for index in indexes]
    return definition


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
        _add_indexes(self.state, STATE_TABLE_INDEXES)
        self.semver_seed = lifecycle_table(self, "AmiSemverSeedTable", partition_key=SEMVER_SEED_TABLE_PARTITION_KEY,
                                           key=key)
        self.lookup = lifecycle_table(self, "AmiLookupTable", partition_key=LOOKUP_TABLE_PARTITION_KEY, key=key)
        _add_indexes(self.lookup, LOOKUP_TABLE_INDEXES)


def _add_indexes(table: dynamodb.Table, indexes: tuple[IndexSpec, ...]) -> None:
    for index in indexes:
        table.add_global_secondary_index(
            index_name=index.name,
            partition_key=_string(index.partition_key),
            sort_key=_string(index.sort_key) if index.sort_key else None,
            projection_type=(dynamodb.ProjectionType.ALL if index.included is None
                             else dynamodb.ProjectionType.INCLUDE),
            non_key_attributes=list(index.included) if index.included is not None else None,
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
