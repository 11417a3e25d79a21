"""Shared builders for runtime tests: a mocked account with the stack's tables,
topic, API key secrets and a build state machine, plus API Gateway events.

Tables are created from the keys and indexes the CDK stack declares
(``stacks/amilifecycle/storage.py``), so a test cannot pass against a table
shape the deployment does not have. Everything runs in-process on moto.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator, Mapping

import boto3
import pytest
from moto import mock_aws

from orchestrator.adapters import aws
from orchestrator.config import RuntimeConfig
from stacks.amilifecycle.storage import (LOOKUP_TABLE_INDEXES, LOOKUP_TABLE_PARTITION_KEY,
                                         SEMVER_SEED_TABLE_PARTITION_KEY, STATE_TABLE_INDEXES,
                                         STATE_TABLE_PARTITION_KEY, table_definition)
from stacks.settings import load_settings

REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK_TAG = "main"
API_ID = "abcdef1234"
STAGE = "dev"
API_HOST = f"{API_ID}.execute-api.{REGION}.amazonaws.com"
PIPELINE_ARN = f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:image-pipeline/ami-lifecycle-main"
PASS_DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})


@dataclass
class Cloud:
    """Names and secret values of the mocked deployment."""

    state_table: str
    semver_seed_table: str
    lookup_table: str
    topic_arn: str
    state_machine_arn: str
    secret_prefix: str
    key_names: dict[str, str]
    keys: dict[str, str] = field(default_factory=dict)

    def environment(self, **overrides: str) -> dict[str, str]:
        """The function environment the stack would give the API function."""
        env = {
            "STACK_TAG": STACK_TAG,
            "STATE_TABLE_NAME": self.state_table,
            "SEMVER_SEED_TABLE_NAME": self.semver_seed_table,
            "LOOKUP_TABLE_NAME": self.lookup_table,
            "NOTIFICATION_TOPIC_ARN": self.topic_arn,
            "CREATION_RECEIVER_QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/creation",
            "PATCH_RECEIVER_QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/patch",
            "ERROR_RECEIVER_QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/error",
            "API_KEY_SECRET_PREFIX": self.secret_prefix,
            "DEFAULT_SEMVER_SEED": "1.0.0",
            "STATE_MACHINE_MAX_WAIT_MINUTES": "240",
            "TAGGER_ROLE_NAME": "amiLifecycleImageTaggerRole-main",
            "IMAGEBUILDER_PIPELINE_ARN": PIPELINE_ARN,
            "EVENT_LOG_GROUP_NAME": "/ami-lifecycles/main/event-notifications",
            "EVENT_STATE_MACHINES_JSON": json.dumps({"BUILD_AMI": self.state_machine_arn}),
            "API_KEY_NAMES_JSON": json.dumps(self.key_names),
        }
        env.update(overrides)
        return {name: value for name, value in env.items() if value is not None}

    def config(self, **overrides: str) -> RuntimeConfig:
        return RuntimeConfig.from_env(self.environment(**overrides))


def create_lifecycle_tables(dynamodb: Any) -> tuple[str, str, str]:
    """The state, semver seed and lookup tables, keyed and indexed as the stack declares them."""
    for name, partition_key, indexes in (
            ("AmiOrchestratorTable", STATE_TABLE_PARTITION_KEY, STATE_TABLE_INDEXES),
            ("AmiSemverSeedTable", SEMVER_SEED_TABLE_PARTITION_KEY, ()),
            ("AmiLookupTable", LOOKUP_TABLE_PARTITION_KEY, LOOKUP_TABLE_INDEXES)):
        dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                              **table_definition(partition_key, indexes))
    return "AmiOrchestratorTable", "AmiSemverSeedTable", "AmiLookupTable"


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials and region; no real endpoint can be reached."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    aws.reset_clients()
    yield
    aws.reset_clients()


@pytest.fixture
def cloud(aws_credentials: None) -> Iterator[Cloud]:
    """A mocked account holding what the AmiLifecycle stack deploys for the API."""
    settings = load_settings()
    key_names = dict(settings.lifecycle.api.all_key_names)
    with mock_aws():
        state, seeds, lookup = create_lifecycle_tables(boto3.client("dynamodb", region_name=REGION))
        topic_arn = boto3.client("sns", region_name=REGION).create_topic(Name="AmiOrchestratorTopic")["TopicArn"]
        state_machine_arn = boto3.client("stepfunctions", region_name=REGION).create_state_machine(
            name="build-ami", definition=PASS_DEFINITION,
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/build-ami-state-machine")["stateMachineArn"]
        prefix = f"/ami-lifecycle/{STACK_TAG}/api-keys/"
        deployment = Cloud(state_table=state, semver_seed_table=seeds, lookup_table=lookup, topic_arn=topic_arn,
                           state_machine_arn=state_machine_arn, secret_prefix=prefix, key_names=key_names)
        secretsmanager = boto3.client("secretsmanager", region_name=REGION)
        for setting, leaf in key_names.items():
            value = secrets.token_urlsafe(30).replace("-", "a").replace("_", "b")[:40]
            secretsmanager.create_secret(Name=f"{prefix}{leaf}", SecretString=value)
            deployment.keys[setting] = value
        yield deployment


def api_event(method: str, resource: str, *, path_parameters: Mapping[str, str] | None = None,
              query: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None,
              body: Any = None, host: str = API_HOST, stage: str = STAGE,
              request_id: str = "c0ffee00-0000-4000-8000-000000000001") -> dict[str, Any]:
    """A REST API Lambda proxy event (payload 1.0) as API Gateway builds it."""
    path = resource
    for name, value in (path_parameters or {}).items():
        path = path.replace("{" + name + "}", value)
    all_headers = {"Host": host, "X-Forwarded-Proto": "https", "User-Agent": "pytest", **(headers or {})}
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
    now = datetime.now(timezone.utc)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {name: [value] for name, value in query.items()} if query else None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "abc123",
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": "Zx1yFHkPIAMF8Aw=",
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{stage}{path}",
            "accountId": ACCOUNT,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": API_ID,
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "pytest"},
            "domainName": host,
            "apiId": API_ID,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def create_body(**changes: Any) -> dict[str, Any]:
    """A valid creation request (build, smoke tests and scans enabled)."""
    body: dict[str, Any] = {
        "stack_tag": STACK_TAG,
        "owner": "platform-team",
        "notifications": [{"method": "EMAIL", "target": "team@example.com"}],
        "events": [
            {"name": "BUILD_AMI", "enabled": True},
            {"name": "SMOKE_TESTS_AMI_CREATE", "enabled": True},
            {"name": "VULNERABILITY_SCANS_AMI_CREATE", "enabled": True},
            {"name": "QA_CERTIFICATION_REQUEST", "enabled": False},
        ],
        "product_ver": "2.4.1",
        "product_name": "payments-service",
        "commit_ref": "9fceb02d0ae598e95dc970b74767f19372d61af8",
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


class FakeContext:
    """The attributes of Lambda's context object that handlers read."""

    function_name = "OrchestratorApiFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:OrchestratorApiFunction"
    aws_request_id = "6a1b0c2d-0000-4000-8000-00000000abcd"

    def get_remaining_time_in_millis(self) -> int:
        return 28000


@dataclass
class ApiAnswer:
    """A proxy response, decoded."""

    status: int
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)


@pytest.fixture
def api(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The API handler module, its environment set as the stack sets it (fresh application per test)."""
    from orchestrator.handlers import api as handler

    for name, value in cloud.environment().items():
        monkeypatch.setenv(name, value)
    handler.reset_application()
    yield handler
    handler.reset_application()


def call(handler: Any, event: Mapping[str, Any]) -> ApiAnswer:
    """Invoke the API handler as Lambda does and decode its answer.

    Headers are merged as API Gateway merges them: ``multiValueHeaders``
    (what a REST API resolver answers) win over ``headers``.
    """
    response = handler.handle(dict(event), FakeContext())
    headers = dict(response.get("headers") or {})
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[name] = ",".join(values)
    return ApiAnswer(status=response["statusCode"], headers=headers, text=response.get("body") or "")
