"""The AmiLifecycle stack's persistent core, as synthesized."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from stacks.amilifecycle.messaging import RECEIVER_FUNCTION_TIMEOUT, RECEIVER_VISIBILITY_TIMEOUT

EXPECTED_OUTPUTS = {
    "stackTag",
    "amiLifecycleStateTableName",
    "amiSemverSeedTableName",
    "amiSelectionTableName",
    "amiLifecyclePatchComponentBucket",
    "inspectorFindingsBucket",
    "amiBackupBucket",
    "amiOrchestratorNotificationTopicArn",
    "amiCreationReceiverQueueUrl",
    "amiPatchReceiverQueueUrl",
    "amiErrorReceiverQueueUrl",
    "apiKeySecretPrefix",
    "amiSelectionCAReadOnly",
    "amiOrchestratorCfnCAReadOnly",
    "amiOrchestratorReconcilerTopicArn",
    "amiOrchestratorApiGatewayId",
    "amiOrchestratorApiGatewayEndpoint",
    "amiOrchestratorApiGatewayStageName",
    "amiOrchestratorApiGatewayUrl",
    "amiOrchestratorApiGatewayArn",
    "lifeCycleAmiBuildStateMachineName",
    "lifeCycleSmokeTestsStateMachineName",
    "lifeCycleVulnerabilityScansStateMachineName",
    "lifeCycleMarkForProductionStateMachineName",
    "lifeCycleAmiPatchStateMachineName",
    "lifeCycleQACertificationStateMachineName",
    "vmdkExportStateMachineArn",
    "vmdkExportTopicArn",
}


@pytest.fixture(scope="module")
def template(templates):
    return templates["AmiLifecycle"]


@pytest.fixture(scope="module")
def resources(template) -> dict[str, dict[str, Any]]:
    return template.to_json()["Resources"]


@pytest.fixture(scope="module")
def stack(app_stacks):
    return app_stacks.lifecycle


def of_type(resources: dict[str, dict[str, Any]], resource_type: str) -> dict[str, dict[str, Any]]:
    return {logical_id: r for logical_id, r in resources.items() if r["Type"] == resource_type}


def logical_id(stack, construct) -> str:
    return stack.get_logical_id(construct.node.default_child)


def ref_of(stack, construct) -> dict[str, str]:
    return {"Ref": logical_id(stack, construct)}


def arn_of(stack, construct) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id(stack, construct), "Arn"]}


def key_schema(table: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k["AttributeName"], k["KeyType"]) for k in table["Properties"]["KeySchema"]]


def statements(resources: dict[str, dict[str, Any]]):
    """Every policy statement of the template: IAM policies, roles, key, bucket, queue and topic policies."""
    for r in resources.values():
        props = r.get("Properties", {})
        documents = [props.get(name) for name in ("PolicyDocument", "KeyPolicy", "AssumeRolePolicyDocument")]
        documents += [policy["PolicyDocument"] for policy in props.get("Policies", [])]
        for document in filter(None, documents):
            yield from document["Statement"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- DynamoDB ----------------------------------------------------------------------------

def test_state_table_is_keyed_by_lifecycle_id(stack, resources):
    table = resources[logical_id(stack, stack.tables.state)]
    assert key_schema(table) == [("lifecycle_id", "HASH")]


def indexes_of(table):
    return {index["IndexName"]: index for index in table["Properties"]["GlobalSecondaryIndexes"]}


def index_keys(index):
    return [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]]


def test_state_table_lists_a_stack_tags_lifecycles_by_creation_date(stack, resources):
    index = indexes_of(resources[logical_id(stack, stack.tables.state)])["stack_tag_index"]
    assert index_keys(index) == [("stack_tag", "HASH"), ("creation_date", "RANGE")]
    assert index["Projection"] == {"ProjectionType": "ALL"}


def test_state_table_lists_every_lifecycle_by_creation_date_from_one_partition(stack, resources):
    table = resources[logical_id(stack, stack.tables.state)]
    index = indexes_of(table)["creation_date_index"]
    assert index_keys(index) == [("record_kind", "HASH"), ("creation_date", "RANGE")]
    assert index["Projection"] == {"ProjectionType": "ALL"}
    assert set(indexes_of(table)) == {"stack_tag_index", "creation_date_index"}


def test_semver_seed_table_is_keyed_by_stack_tag_without_index(stack, resources):
    table = resources[logical_id(stack, stack.tables.semver_seed)]
    assert key_schema(table) == [("stack_tag", "HASH")]
    assert "GlobalSecondaryIndexes" not in table["Properties"]


def test_lookup_table_orders_a_stack_tags_amis_by_semver_sort_key(stack, resources):
    table = resources[logical_id(stack, stack.tables.lookup)]
    assert key_schema(table) == [("lookup_id", "HASH")]
    index = indexes_of(table)["stack_tag_semver_index"]
    assert index_keys(index) == [("stack_tag", "HASH"), ("semver_sort_key", "RANGE")]
    assert index["Projection"] == {"ProjectionType": "ALL"}
    assert {"AttributeName": "semver_sort_key", "AttributeType": "S"} in table["Properties"]["AttributeDefinitions"]


def test_lookup_table_keeps_the_original_clients_index_with_the_original_record_shape(stack, resources):
    table = resources[logical_id(stack, stack.tables.lookup)]
    index = indexes_of(table)["stack_tag_index"]
    assert index_keys(index) == [("stack_tag", "HASH")]
    assert index["Projection"]["ProjectionType"] == "INCLUDE"
    assert sorted(index["Projection"]["NonKeyAttributes"]) == sorted([
        "last_modified", "ami_id", "ami_semver", "product_ver", "product_name", "lifecycle_type",
        "lifecycle_event", "lifecycle_score", "lifecycle_id", "aws_region", "commit_ref"])
    assert set(indexes_of(table)) == {"stack_tag_semver_index", "stack_tag_index"}


def test_tables_are_on_demand_recoverable_and_encrypted_with_the_orchestrator_key(stack, resources):
    tables = of_type(resources, "AWS::DynamoDB::Table")
    assert len(tables) == 6  # lifecycle state, semver seed, lookup, build waits, scan waits, production channels
    for table in tables.values():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"] == {
            "SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": arn_of(stack, stack.keys.orchestrator)}


def test_tables_are_deleted_with_the_stack_and_have_generated_names(resources):
    for table in of_type(resources, "AWS::DynamoDB::Table").values():
        assert table["DeletionPolicy"] == "Delete"
        assert table["Properties"]["DeletionProtectionEnabled"] is False
        assert "TableName" not in table["Properties"]


# --- SQS -----------------------------------------------------------------------------------

def test_each_receiver_queue_redrives_to_its_own_dead_letter_queue_after_five_receives(stack, resources):
    dead_letter_targets = set()
    for receiver in stack.messaging.receivers.values():
        queue = resources[logical_id(stack, receiver.queue)]["Properties"]
        assert queue["RedrivePolicy"] == {
            "deadLetterTargetArn": arn_of(stack, receiver.dead_letter_queue), "maxReceiveCount": 5}
        dead_letter_targets.add(logical_id(stack, receiver.dead_letter_queue))
    assert len(dead_letter_targets) == 3


def test_dead_letter_queues_keep_messages_fourteen_days(stack, resources):
    for receiver in stack.messaging.receivers.values():
        dead_letters = resources[logical_id(stack, receiver.dead_letter_queue)]["Properties"]
        assert dead_letters["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_receiver_queues_are_named_as_the_product_names_them(stack):
    assert set(stack.messaging.receivers) == {
        "AmiCreationReceiverQueue", "AmiPatchReceiverQueue", "AmiErrorReceiverQueue"}
    for construct_id, receiver in stack.messaging.receivers.items():
        assert receiver.queue.node.id == construct_id
        assert receiver.dead_letter_queue.node.id == f"{construct_id}DLQ"


def test_every_queue_is_encrypted_with_the_orchestrator_key(stack, resources):
    queues = of_type(resources, "AWS::SQS::Queue")
    assert len(queues) == 7  # three receiver queues, their DLQs, the functions' DLQ
    for queue in queues.values():
        assert queue["Properties"]["KmsMasterKeyId"] == arn_of(stack, stack.keys.orchestrator)


def test_every_queue_refuses_requests_without_tls(resources):
    queue_policies = of_type(resources, "AWS::SQS::QueuePolicy")
    assert len(queue_policies) == 7
    for policy in queue_policies.values():
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_receiver_visibility_timeout_covers_six_receiver_function_timeouts(stack, resources):
    assert RECEIVER_VISIBILITY_TIMEOUT.to_seconds() >= 6 * RECEIVER_FUNCTION_TIMEOUT.to_seconds()
    for receiver in stack.messaging.receivers.values():
        queue = resources[logical_id(stack, receiver.queue)]["Properties"]
        assert queue["VisibilityTimeout"] == RECEIVER_VISIBILITY_TIMEOUT.to_seconds() == 900


# --- SNS -----------------------------------------------------------------------------------

def test_lifecycle_topics_are_encrypted_with_the_orchestrator_key_and_the_operations_topic_with_its_own(
        stack, resources):
    topics = of_type(resources, "AWS::SNS::Topic")
    lifecycle = {logical_id(stack, stack.messaging.notifications), logical_id(stack, stack.messaging.qa_notifications),
                 logical_id(stack, stack.vmdk_export_pipeline.topic)}
    operations = logical_id(stack, stack.operations.topic)
    assert set(topics) == lifecycle | {operations}
    for topic in lifecycle:
        assert topics[topic]["Properties"]["KmsMasterKeyId"] == arn_of(stack, stack.keys.orchestrator)
    # CloudWatch alarms publish to it: its key admits CloudWatch, the orchestrator key need not.
    assert topics[operations]["Properties"]["KmsMasterKeyId"] == arn_of(stack, stack.operations.key)


def test_topics_refuse_publishing_without_tls(resources):
    topic_policies = of_type(resources, "AWS::SNS::TopicPolicy")
    assert len(topic_policies) == 4  # notifications, QA, operations, VMDK export pipeline
    for policy in topic_policies.values():
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert (statement["Effect"], statement["Action"]) == ("Deny", "sns:Publish")
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_qa_topic_has_no_subscription_when_no_qa_email_is_configured(settings, stack, resources):
    assert settings.lifecycle.qa_email_address == ""
    qa_topic = ref_of(stack, stack.messaging.qa_notifications)
    assert [s for s in of_type(resources, "AWS::SNS::Subscription").values()
            if s["Properties"]["TopicArn"] == qa_topic] == []


def test_qa_topic_emails_the_configured_qa_address(settings, tmp_path):
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from stacks.app import build_app
    from stacks.settings import load_cdk_context

    with_email = dataclasses.replace(
        settings, lifecycle=dataclasses.replace(settings.lifecycle, qa_email_address="qa@example.com"))
    app = cdk.App(context=load_cdk_context(), outdir=str(tmp_path))
    lifecycle = build_app(app, with_email).lifecycle
    subscriptions = Template.from_stack(lifecycle).find_resources("AWS::SNS::Subscription")
    qa_topic = ref_of(lifecycle, lifecycle.messaging.qa_notifications)
    assert [s["Properties"] for s in subscriptions.values() if s["Properties"]["TopicArn"] == qa_topic] == [{
        "Protocol": "email",
        "Endpoint": "qa@example.com",
        "TopicArn": ref_of(lifecycle, lifecycle.messaging.qa_notifications),
    }]


# --- S3 ------------------------------------------------------------------------------------

def data_buckets(stack) -> list:
    return [stack.buckets.patch_components, stack.buckets.inspector_findings, stack.buckets.backups]


def test_buckets_block_public_access_and_keep_versions(resources):
    buckets = of_type(resources, "AWS::S3::Bucket")
    assert len(buckets) == 4  # the three data buckets and the stack's access-log bucket
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert bucket["DeletionPolicy"] == "Delete"


def test_data_buckets_write_server_access_logs_under_their_own_prefix(stack, resources):
    for bucket in data_buckets(stack):
        logging = resources[logical_id(stack, bucket)]["Properties"]["LoggingConfiguration"]
        assert logging["LogFilePrefix"] == f"{bucket.node.id}/"
        assert logging["DestinationBucketName"] != ref_of(stack, bucket)


def test_patch_component_and_backup_buckets_use_s3_managed_encryption(stack, resources):
    for bucket in (stack.buckets.patch_components, stack.buckets.backups):
        (rule,) = resources[logical_id(stack, bucket)]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}


def test_findings_bucket_encrypts_with_the_findings_key(stack, resources):
    bucket = resources[logical_id(stack, stack.buckets.inspector_findings)]
    (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": arn_of(stack, stack.keys.findings)}


def test_every_bucket_refuses_requests_without_tls(resources):
    bucket_policies = of_type(resources, "AWS::S3::BucketPolicy")
    assert len(bucket_policies) == len(of_type(resources, "AWS::S3::Bucket"))
    for policy in bucket_policies.values():
        assert {
            "Action": "s3:*", "Effect": "Deny", "Principal": {"AWS": "*"},
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }.items() <= policy["Properties"]["PolicyDocument"]["Statement"][0].items()


def test_inspector_may_write_findings_reports_for_this_account_only(stack, resources):
    bucket_ref = ref_of(stack, stack.buckets.inspector_findings)
    (policy,) = [p for p in of_type(resources, "AWS::S3::BucketPolicy").values()
                 if p["Properties"]["Bucket"] == bucket_ref]
    (grant,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert grant["Principal"] == {"Service": "inspector2.amazonaws.com"}
    assert "s3:PutObject" in grant["Action"]
    assert grant["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


def test_buckets_are_not_emptied_by_a_custom_resource(resources):
    assert not [r for r in resources.values() if r["Type"].startswith("Custom::")]
    for bucket in of_type(resources, "AWS::S3::Bucket").values():
        assert not any(tag["Key"] == "aws-cdk:auto-delete-objects" for tag in bucket["Properties"].get("Tags", []))


# --- KMS -----------------------------------------------------------------------------------

def test_every_key_rotates(resources):
    keys = of_type(resources, "AWS::KMS::Key")
    assert len(keys) == 3
    assert all(key["Properties"]["EnableKeyRotation"] is True for key in keys.values())


def test_cloudwatch_logs_may_use_the_orchestrator_key_for_this_accounts_log_groups(stack, resources):
    key = resources[logical_id(stack, stack.keys.orchestrator)]
    (grant,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"]
                if s["Principal"] == {"Service": {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}}]
    condition = grant["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert ":log-group:*" in json.dumps(condition)
    assert "kms:GenerateDataKey*" in grant["Action"]


def test_findings_key_alias_carries_the_stack_tag(settings, resources):
    (alias,) = of_type(resources, "AWS::KMS::Alias").values()
    assert alias["Properties"]["AliasName"] == f"alias/ami-lifecycle-{settings.stack_tag}-inspector-findings"


def test_inspector_may_use_the_findings_key_for_this_account_only(stack, resources):
    key = resources[logical_id(stack, stack.keys.findings)]
    (grant,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"]
                if s["Principal"] == {"Service": "inspector2.amazonaws.com"}]
    assert sorted(grant["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert grant["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


def test_inspector_is_not_trusted_on_the_orchestrator_key(stack, resources):
    key = resources[logical_id(stack, stack.keys.orchestrator)]
    assert "inspector2" not in json.dumps(key["Properties"]["KeyPolicy"])


# --- Secrets Manager -------------------------------------------------------------------------

def test_every_api_key_secret_is_generated_by_cloudformation(settings, resources):
    secrets = of_type(resources, "AWS::SecretsManager::Secret")
    assert len(secrets) == 14  # the 13 keys of the first API version and the revocation key
    for secret in secrets.values():
        props = secret["Properties"]
        assert props["GenerateSecretString"] == {
            "PasswordLength": 40, "ExcludePunctuation": True, "IncludeSpace": False}
        assert "SecretString" not in props


def test_api_key_secret_names_carry_the_stack_tag_and_the_configured_leaf(settings, resources):
    names = {s["Properties"]["Name"] for s in of_type(resources, "AWS::SecretsManager::Secret").values()}
    assert names == {f"/ami-lifecycle/{settings.stack_tag}/api-keys/{leaf}"
                     for leaf in settings.lifecycle.api.all_key_names.values()}


def test_api_key_secrets_are_encrypted_with_the_orchestrator_key_and_deleted_with_the_stack(stack, resources):
    for secret in of_type(resources, "AWS::SecretsManager::Secret").values():
        assert secret["Properties"]["KmsKeyId"] == arn_of(stack, stack.keys.orchestrator)
        assert secret["DeletionPolicy"] == "Delete"


def test_secrets_are_reachable_by_leaf_and_by_setting_name(settings, stack):
    key_names = settings.lifecycle.api.all_key_names
    assert set(stack.api_keys.by_setting) == set(key_names)
    assert set(stack.api_keys.by_leaf) == set(key_names.values())


def test_no_output_carries_a_secret_value(stack, template):
    text = json.dumps(template.to_json()["Outputs"])
    secret_ids = [logical_id(stack, secret) for secret in stack.api_keys.by_leaf.values()]
    assert "resolve:secretsmanager" not in text
    assert not [secret_id for secret_id in secret_ids if secret_id in text]


# --- CloudWatch Logs ---------------------------------------------------------------------------

def test_log_groups_carry_the_stack_tag_in_their_names(settings, resources):
    # Function log groups get generated names; every named group carries the stack tag.
    groups = of_type(resources, "AWS::Logs::LogGroup").values()
    names = {g["Properties"]["LogGroupName"] for g in groups if "LogGroupName" in g["Properties"]}
    assert {
        f"/ami-lifecycles/{settings.stack_tag}/event-notifications",
        f"/aws/vendedlogs/{settings.stack_tag}/amiOrchestratorApiGatewayAccessLogs",
    } <= names
    assert all(f"/{settings.stack_tag}/" in name for name in names), names


def test_log_groups_keep_the_configured_retention_and_use_the_orchestrator_key(settings, stack, resources):
    for group in of_type(resources, "AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] == settings.lifecycle.log_retention_days
        assert group["Properties"]["KmsKeyId"] == arn_of(stack, stack.keys.orchestrator)
        assert group["DeletionPolicy"] == "Delete"


def test_every_allowed_cloudwatch_retention_period_maps_to_a_cdk_value():
    from stacks.amilifecycle.logs import RETENTION_BY_DAYS
    from stacks.settings import LOG_RETENTION_DAYS

    assert tuple(RETENTION_BY_DAYS) == LOG_RETENTION_DAYS


def test_an_unsupported_retention_period_is_refused_with_the_allowed_values():
    from stacks.amilifecycle.logs import retention_days

    with pytest.raises(ValueError, match=r"expected one of 1, 3, 5, .* days, got 2"):
        retention_days(2)


# --- IAM -------------------------------------------------------------------------------------

def test_read_only_roles_trust_this_account_without_conditions(resources):
    roles = {lid: r for lid, r in of_type(resources, "AWS::IAM::Role").items()
             if "AWS" in r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]}
    assert len(roles) == 2
    for role in roles.values():
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"AWS": {"Fn::Join": [
            "", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"]]}}
        assert "Condition" not in statement
        assert "RoleName" not in role["Properties"]


def test_selection_role_may_only_query_and_read_the_lookup_table_and_decrypt(stack, resources):
    role_ref = ref_of(stack, stack.access.selection_reader)
    (policy,) = [p for p in of_type(resources, "AWS::IAM::Policy").values() if p["Properties"]["Roles"] == [role_ref]]
    table_arn = arn_of(stack, stack.tables.lookup)
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": ["dynamodb:GetItem", "dynamodb:Query"], "Effect": "Allow",
         "Resource": [table_arn, {"Fn::Join": ["", [table_arn, "/index/*"]]}]},
        {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": arn_of(stack, stack.keys.orchestrator)},
    ]


def test_stack_reader_role_may_only_describe_this_deployments_stacks(settings, stack, resources):
    role_ref = ref_of(stack, stack.access.stack_reader)
    (policy,) = [p for p in of_type(resources, "AWS::IAM::Policy").values() if p["Properties"]["Roles"] == [role_ref]]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "cloudformation:DescribeStacks"
    resources_text = json.dumps(statement["Resource"])
    for base in ("AmiLifecycle", "AmiLifecycleNetwork", "AmiLifecycleImageBuilder", "VmdkExport", "AmiLifecycleTagger"):
        assert f":stack/{settings.stack_name(base)}/*" in resources_text
    assert len(statement["Resource"]) == 5


def test_no_statement_allows_every_action_on_every_resource(resources):
    allows = [s for s in statements(resources) if s["Effect"] == "Allow"]
    assert len(allows) > 10  # role trusts, grants, key and bucket policies were all read
    for statement in allows:
        assert not ("*" in as_list(statement.get("Action", [])) and "*" in as_list(statement.get("Resource", [])))


# --- Outputs and scope -------------------------------------------------------------------------

def test_outputs_are_the_published_keys(template):
    assert set(template.to_json()["Outputs"]) == EXPECTED_OUTPUTS


def test_outputs_name_the_stack_tag_and_the_secret_prefix(settings, template):
    outputs = template.to_json()["Outputs"]
    assert outputs["stackTag"]["Value"] == settings.stack_tag
    assert outputs["apiKeySecretPrefix"]["Value"] == f"/ami-lifecycle/{settings.stack_tag}/api-keys/"


def test_outputs_point_at_the_resources_they_name(stack, template):
    outputs = template.to_json()["Outputs"]
    assert outputs["amiSelectionTableName"]["Value"] == ref_of(stack, stack.tables.lookup)
    assert outputs["amiLifecycleStateTableName"]["Value"] == ref_of(stack, stack.tables.state)
    assert outputs["amiBackupBucket"]["Value"] == ref_of(stack, stack.buckets.backups)
    assert outputs["amiOrchestratorNotificationTopicArn"]["Value"] == ref_of(stack, stack.messaging.notifications)
    assert outputs["amiCreationReceiverQueueUrl"]["Value"] == ref_of(stack, stack.messaging.creation_receiver.queue)
    assert outputs["amiSelectionCAReadOnly"]["Value"] == arn_of(stack, stack.access.selection_reader)
