"""A stack update changes the declared settings on the same resources, as
CloudFormation does: a log group's key and retention, a table's encryption
and point-in-time recovery, a state machine's logging and tracing."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.local.polling import eventually

DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})


def template(encrypted: bool, retention: int, recovery: bool, log_level: str, tracing: bool) -> str:
    group: dict[str, Any] = {"RetentionInDays": retention}
    table: dict[str, Any] = {
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": recovery},
    }
    if encrypted:
        group["KmsKeyId"] = {"Fn::GetAtt": ["Key", "Arn"]}
        table["SSESpecification"] = {"SSEEnabled": True, "SSEType": "KMS",
                                     "KMSMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}
    return json.dumps({"Resources": {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Version": "2012-10-17", "Statement": []}}},
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": group},
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": table},
        "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "DefinitionString": DEFINITION, "RoleArn": "arn:aws:iam::123456789012:role/settings-updates",
            "LoggingConfiguration": {"Level": log_level, "IncludeExecutionData": False, "Destinations": [
                {"CloudWatchLogsLogGroup": {"LogGroupArn": {"Fn::GetAtt": ["Logs", "Arn"]}}}]},
            "TracingConfiguration": {"Enabled": tracing}}},
    }})


def settle(cloudformation: Any, stack_name: str) -> str:
    return eventually(lambda: (lambda status: status if not status.endswith("IN_PROGRESS") else None)(
        cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]), timeout=60,
        what=f"{stack_name} to settle")


@pytest.fixture(scope="module")
def stack(local_cloud: Any) -> dict[str, str]:
    cloudformation = local_cloud.boto3_client("cloudformation")
    name = f"settings-updates-{uuid.uuid4().hex[:8]}"
    cloudformation.create_stack(StackName=name, TemplateBody=template(True, 14, True, "ERROR", True))
    assert settle(cloudformation, name) == "CREATE_COMPLETE"
    resources = cloudformation.describe_stack_resources(StackName=name)["StackResources"]
    return {"name": name, **{r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}}


def test_an_update_changes_the_settings_on_the_same_resources(local_cloud, stack):
    cloudformation = local_cloud.boto3_client("cloudformation")
    logs, dynamodb = local_cloud.boto3_client("logs"), local_cloud.boto3_client("dynamodb")
    sfn = local_cloud.boto3_client("stepfunctions")
    key_arn = local_cloud.boto3_client("kms").describe_key(KeyId=stack["Key"])["KeyMetadata"]["Arn"]

    def group() -> dict[str, Any]:
        [found] = [g for g in logs.describe_log_groups(logGroupNamePrefix=stack["Logs"])["logGroups"]
                   if g["logGroupName"] == stack["Logs"]]
        return found

    assert (group()["kmsKeyId"], group()["retentionInDays"]) == (key_arn, 14)
    assert dynamodb.describe_table(TableName=stack["Table"])["Table"]["SSEDescription"]["KMSMasterKeyArn"] == key_arn

    cloudformation.update_stack(StackName=stack["name"], TemplateBody=template(False, 30, False, "ALL", False))
    assert settle(cloudformation, stack["name"]) == "UPDATE_COMPLETE"

    assert "kmsKeyId" not in group()
    assert group()["retentionInDays"] == 30
    table = dynamodb.describe_table(TableName=stack["Table"])["Table"]
    assert "SSEDescription" not in table
    recovery = dynamodb.describe_continuous_backups(TableName=stack["Table"])["ContinuousBackupsDescription"]
    assert recovery["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    machine = sfn.describe_state_machine(stateMachineArn=stack["Machine"])
    assert machine["loggingConfiguration"]["level"] == "ALL"
    assert machine["tracingConfiguration"] == {"enabled": False}
