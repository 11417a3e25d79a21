"""What the product's templates declare is what the AWS APIs show, and logs
go where the templates say: deployed from the real cdk.out into the local
cloud, then read back through boto3 as `aws logs`, `aws dynamodb`,
`aws stepfunctions`, `aws apigateway` and `aws lambda` would."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.local.polling import eventually

# The events a state machine logging at level ERROR writes (Step Functions'
# log levels: failed, timed-out and aborted events).
ERROR_LEVEL_EVENT_TYPES = {
    "ExecutionAborted", "ExecutionFailed", "ExecutionTimedOut", "FailStateEntered", "LambdaFunctionFailed",
    "LambdaFunctionScheduleFailed", "LambdaFunctionStartFailed", "LambdaFunctionTimedOut", "MapStateAborted",
    "MapStateFailed", "MapIterationAborted", "MapIterationFailed", "MapRunAborted", "MapRunFailed",
    "ParallelStateAborted", "ParallelStateFailed", "TaskFailed", "TaskStartFailed", "TaskStateAborted",
    "TaskSubmitFailed", "TaskTimedOut", "WaitStateAborted",
}


class Deployed:
    """The product's main stack: its template and how to resolve what it
    names into the physical resources the local cloud made."""

    def __init__(self, cloud: Any, assembly: Path, deployment: dict[str, dict[str, str]]) -> None:
        self.cloud = cloud
        self.stack_name = next(name for name, outputs in deployment.items()
                               if "amiOrchestratorApiGatewayUrl" in outputs)
        self.outputs = deployment[self.stack_name]
        manifest = json.loads((assembly / "manifest.json").read_text())
        template_file = next(artifact["properties"]["templateFile"] for artifact in manifest["artifacts"].values()
                             if artifact.get("type") == "aws:cloudformation:stack"
                             and artifact.get("properties", {}).get("stackName") == self.stack_name)
        self.template = json.loads((assembly / template_file).read_text())
        self.resources: dict[str, dict[str, Any]] = self.template["Resources"]
        summaries = cloud.boto3_client("cloudformation").get_paginator("list_stack_resources").paginate(
            StackName=self.stack_name)
        self.physical = {summary["LogicalResourceId"]: summary["PhysicalResourceId"]
                         for page in summaries for summary in page["StackResourceSummaries"]}

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {logical_id: resource.get("Properties", {}) for logical_id, resource in self.resources.items()
                if resource["Type"] == resource_type}

    def key_arn(self, reference: dict[str, Any]) -> str:
        """The ARN of the KMS key a ``Fn::GetAtt [key, Arn]`` names."""
        logical_id = reference["Fn::GetAtt"][0]
        return self.cloud.boto3_client("kms").describe_key(KeyId=self.physical[logical_id])["KeyMetadata"]["Arn"]

    def log_group_name(self, logical_id: str) -> str:
        return self.physical[logical_id]


@pytest.fixture(scope="module")
def product(local_cloud: Any, product_cloud_assembly: Path, product_deployment: dict[str, dict[str, str]]) -> Deployed:
    return Deployed(local_cloud, product_cloud_assembly, product_deployment)


def log_messages(logs: Any, group: str) -> list[str]:
    pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group)
    return [event["message"] for page in pages for event in page["events"]]


# -- settings, as the describe calls show them --------------------------------------


def test_log_groups_have_their_declared_kms_key_and_retention(product):
    logs = product.cloud.boto3_client("logs")
    declared = product.of_type("AWS::Logs::LogGroup")
    assert declared, "the product declares log groups"

    for logical_id, properties in declared.items():
        name = product.log_group_name(logical_id)
        [group] = [g for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
                   if g["logGroupName"] == name]
        assert group["kmsKeyId"] == product.key_arn(properties["KmsKeyId"]), logical_id
        assert group["retentionInDays"] == properties["RetentionInDays"], logical_id


def test_tables_are_encrypted_with_the_declared_key_and_have_point_in_time_recovery(product):
    dynamodb = product.cloud.boto3_client("dynamodb")
    declared = product.of_type("AWS::DynamoDB::Table")
    assert declared

    for logical_id, properties in declared.items():
        table_name = product.physical[logical_id]
        sse = dynamodb.describe_table(TableName=table_name)["Table"]["SSEDescription"]
        backups = dynamodb.describe_continuous_backups(TableName=table_name)["ContinuousBackupsDescription"]

        assert sse["Status"] == "ENABLED"
        assert sse["SSEType"] == properties["SSESpecification"]["SSEType"] == "KMS"
        assert sse["KMSMasterKeyArn"] == product.key_arn(properties["SSESpecification"]["KMSMasterKeyId"])
        assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED", logical_id


def test_state_machines_show_their_declared_logging_and_tracing(product):
    sfn = product.cloud.boto3_client("stepfunctions")
    declared = product.of_type("AWS::StepFunctions::StateMachine")
    assert declared

    for logical_id, properties in declared.items():
        described = sfn.describe_state_machine(stateMachineArn=product.physical[logical_id])
        logging_declared = properties["LoggingConfiguration"]
        group_logical_id = logging_declared["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
        group_name = product.log_group_name(group_logical_id)

        assert described["loggingConfiguration"]["level"] == logging_declared["Level"] == "ERROR"
        assert described["loggingConfiguration"]["includeExecutionData"] is logging_declared["IncludeExecutionData"]
        [destination] = described["loggingConfiguration"]["destinations"]
        assert destination["cloudWatchLogsLogGroup"]["logGroupArn"].split(":log-group:")[1].split(":")[0] == group_name
        assert described["tracingConfiguration"] == {"enabled": properties["TracingConfiguration"]["Enabled"]}


def test_the_api_stage_shows_throttling_tracing_and_access_logging_as_declared(product):
    apigateway = product.cloud.boto3_client("apigateway")
    [(logical_id, declared)] = product.of_type("AWS::ApiGateway::Stage").items()
    [setting] = declared["MethodSettings"]

    stage = apigateway.get_stage(restApiId=product.outputs["amiOrchestratorApiGatewayId"],
                                 stageName=declared["StageName"])

    assert stage["tracingEnabled"] is declared["TracingEnabled"] is True
    assert (setting["ResourcePath"], setting["HttpMethod"]) == ("/*", "*")
    all_methods = stage["methodSettings"]["*/*"]
    assert all_methods["throttlingBurstLimit"] == setting["ThrottlingBurstLimit"]
    assert all_methods["throttlingRateLimit"] == float(setting["ThrottlingRateLimit"])
    assert all_methods["metricsEnabled"] is setting["MetricsEnabled"]
    assert all_methods["dataTraceEnabled"] is setting["DataTraceEnabled"]
    access = stage["accessLogSettings"]
    assert access["format"] == declared["AccessLogSetting"]["Format"]
    group_logical_id = declared["AccessLogSetting"]["DestinationArn"]["Fn::Join"][1][-1]["Ref"]
    assert access["destinationArn"] == (f"arn:aws:logs:{product.cloud.region}:{product.cloud.account_id}:"
                                        f"log-group:{product.log_group_name(group_logical_id)}")


def test_functions_report_the_log_group_their_logging_config_names(product):
    lambda_ = product.cloud.boto3_client("lambda")
    declared = product.of_type("AWS::Lambda::Function")
    with_config = {logical_id: properties for logical_id, properties in declared.items()
                   if properties.get("LoggingConfig", {}).get("LogGroup")}
    assert with_config

    for logical_id, properties in with_config.items():
        configuration = lambda_.get_function_configuration(FunctionName=product.physical[logical_id])
        expected = product.log_group_name(properties["LoggingConfig"]["LogGroup"]["Ref"])
        assert configuration["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": expected}, logical_id


# -- logs, where the templates send them ---------------------------------------------


def _function_with_logging_config(product: Deployed, fragment: str) -> tuple[str, str]:
    for logical_id, properties in product.of_type("AWS::Lambda::Function").items():
        if fragment in logical_id and properties.get("LoggingConfig"):
            return product.physical[logical_id], product.log_group_name(properties["LoggingConfig"]["LogGroup"]["Ref"])
    raise AssertionError(f"no function {fragment} with a LoggingConfig in the template")


def test_a_function_logs_to_its_declared_log_group_not_to_aws_lambda(product):
    lambda_ = product.cloud.boto3_client("lambda")
    logs = product.cloud.boto3_client("logs")
    function_name, group = _function_with_logging_config(product, "NotificationSink")

    lambda_.invoke(FunctionName=function_name, Payload=json.dumps({"Records": []}).encode())

    reports = eventually(lambda: [m for m in log_messages(logs, group) if m.startswith("REPORT RequestId:")],
                         what=f"the REPORT line in {group}")
    request_id = reports[-1].split()[2]
    assert f"START RequestId: {request_id} Version: $LATEST" in log_messages(logs, group)
    assert f"END RequestId: {request_id}" in log_messages(logs, group)
    assert logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{function_name}")["logGroups"] == []


def test_a_failed_execution_logs_its_error_events_to_the_declared_log_group(product):
    sfn = product.cloud.boto3_client("stepfunctions")
    logs = product.cloud.boto3_client("logs")
    [(logical_id, properties)] = [(name, props) for name, props in product.of_type(
        "AWS::StepFunctions::StateMachine").items() if "LifeCycleAmiBuild" in name]
    group_logical_id = properties["LoggingConfiguration"]["Destinations"][0]["CloudWatchLogsLogGroup"][
        "LogGroupArn"]["Fn::GetAtt"][0]
    group = product.log_group_name(group_logical_id)

    # An input without a lifecycle: the build fails at its first task.
    execution_arn = sfn.start_execution(stateMachineArn=product.physical[logical_id],
                                        name=f"fidelity-{uuid.uuid4().hex[:12]}", input="{}")["executionArn"]
    eventually(lambda: sfn.describe_execution(executionArn=execution_arn)["status"] != "RUNNING", timeout=120,
               what="the execution to end")
    assert sfn.describe_execution(executionArn=execution_arn)["status"] == "FAILED"

    def records() -> list[dict[str, Any]]:
        mine = [json.loads(m) for m in log_messages(logs, group)]
        mine = [record for record in mine if record["execution_arn"] == execution_arn]
        return mine if any(record["type"] == "ExecutionFailed" for record in mine) else []

    records = eventually(records, what=f"the ExecutionFailed record in {group}")
    assert {record["type"] for record in records} <= ERROR_LEVEL_EVENT_TYPES
    failed = next(record for record in records if record["type"] == "ExecutionFailed")
    history = sfn.get_execution_history(executionArn=execution_arn, reverseOrder=True)["events"]
    assert failed["id"] == str(history[0]["id"])
    assert failed["details"]["error"] == history[0]["executionFailedEventDetails"]["error"]
    assert failed["event_timestamp"].isdigit()
    # includeExecutionData is false: no inputs or outputs in the records.
    assert not any({"input", "output"} & set(record["details"]) for record in records)


def test_api_requests_are_access_logged_in_the_declared_format(product):
    logs = product.cloud.boto3_client("logs")
    apigateway = product.cloud.boto3_client("apigateway")
    stage = apigateway.get_stage(restApiId=product.outputs["amiOrchestratorApiGatewayId"],
                                 stageName=product.outputs["amiOrchestratorApiGatewayStageName"])
    group = stage["accessLogSettings"]["destinationArn"].split(":log-group:")[1]
    base = product.outputs["amiOrchestratorApiGatewayUrl"].rstrip("/")
    from stacks.settings import load_settings

    leaf = load_settings().lifecycle.api.all_key_names["ami_creation_status_secret_name"]
    key = product.cloud.boto3_client("secretsmanager").get_secret_value(
        SecretId=product.outputs["apiKeySecretPrefix"] + leaf)["SecretString"]

    # With the route's key: the authorizer lets it through to the integration (an unknown lifecycle, 404).
    routed = requests.get(f"{base}/ami-creation/lifecycles/{uuid.uuid4()}/status", headers={"x-api-key": key},
                          timeout=60)
    unrouted = requests.get(f"{base}/no/such/route", timeout=60)

    def line_of(response: requests.Response) -> dict[str, Any] | None:
        for message in log_messages(logs, group):
            record = json.loads(message)
            if record["requestId"] == response.headers["x-amzn-RequestId"]:
                return record
        return None

    routed_line = eventually(lambda: line_of(routed), what="the routed request's access-log line")
    unrouted_line = eventually(lambda: line_of(unrouted), what="the unrouted request's access-log line")
    assert set(routed_line) == set(json.loads(stage["accessLogSettings"]["format"]))
    assert routed_line["httpMethod"] == "GET"
    assert routed_line["resourcePath"] == "/ami-creation/lifecycles/{lifecycle-id}/status"
    assert routed_line["status"] == str(routed.status_code)
    assert routed_line["integrationStatus"] == "200"
    assert routed_line["responseLength"] == str(len(routed.content))
    assert routed_line["protocol"] == "HTTP/1.1"
    assert routed_line["sourceIp"] == "127.0.0.1"
    assert routed_line["errorResponseType"] == "-"
    assert unrouted_line["status"] == str(unrouted.status_code)
    assert unrouted_line["resourcePath"] == "-"
    assert unrouted_line["integrationStatus"] == "-"
    assert unrouted_line["errorResponseType"] == "MISSING_AUTHENTICATION_TOKEN"
