"""A function created or updated through the Lambda API with a
``LoggingConfig`` logs where it says, and reports it, as on Lambda."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any

import pytest

from tests.local.polling import eventually

HANDLER = "import os\n\ndef handler(event, context):\n    print('group', context.log_group_name)\n" \
          "    return {'env': os.environ['AWS_LAMBDA_LOG_GROUP_NAME'], 'context': context.log_group_name}\n"


@pytest.fixture(scope="module")
def clients(local_cloud: Any) -> tuple[Any, Any]:
    return local_cloud.boto3_client("lambda"), local_cloud.boto3_client("logs")


@pytest.fixture(scope="module")
def role_arn(local_cloud: Any) -> str:
    return local_cloud.boto3_client("iam").create_role(
        RoleName=f"logging-config-{uuid.uuid4().hex[:8]}",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]


def _code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", HANDLER)
    return buffer.getvalue()


def _lines(logs: Any, group: str) -> list[str]:
    return [event["message"] for event in logs.filter_log_events(logGroupName=group)["events"]]


def test_a_function_logs_to_the_group_its_logging_config_names(clients, role_arn):
    lambda_, logs = clients
    name, group = f"logcfg-{uuid.uuid4().hex[:8]}", f"/custom/{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=group)
    lambda_.create_function(FunctionName=name, Runtime="python3.11", Role=role_arn, Handler="index.handler",
                            Code={"ZipFile": _code()}, LoggingConfig={"LogFormat": "Text", "LogGroup": group})

    payload = json.loads(lambda_.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())

    assert lambda_.get_function_configuration(FunctionName=name)["LoggingConfig"] == {
        "LogFormat": "Text", "LogGroup": group}
    assert payload == {"env": group, "context": group}
    assert any(line.startswith("REPORT RequestId:") for line in
               eventually(lambda: _lines(logs, group), what=f"log lines in {group}"))
    assert logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"] == []


def test_update_function_configuration_moves_the_logs(clients, role_arn):
    lambda_, logs = clients
    name, group = f"logcfg-{uuid.uuid4().hex[:8]}", f"/custom/{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=group)
    lambda_.create_function(FunctionName=name, Runtime="python3.11", Role=role_arn, Handler="index.handler",
                            Code={"ZipFile": _code()})
    assert lambda_.get_function_configuration(FunctionName=name)["LoggingConfig"] == {
        "LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}

    lambda_.update_function_configuration(FunctionName=name, LoggingConfig={"LogGroup": group})
    payload = json.loads(lambda_.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())

    assert payload["context"] == group
    assert eventually(lambda: [line for line in _lines(logs, group) if line.startswith("START RequestId:")],
                      what=f"log lines in {group}")
