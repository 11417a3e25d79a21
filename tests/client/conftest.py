"""Fixtures of the client tests: a deployment on moto and a faked API.

``deployment`` creates, inside ``mock_aws``, what the clients discover: the
``AmiLifecycle-<tag>`` stack with its outputs, one secret per route key
(random values, so a test can prove a key is never printed), the lookup
table with the CDK stack's key schema and the patch component bucket.
``api`` fakes the orchestrator API over HTTP with the ``responses`` library.
"""

from __future__ import annotations

import json
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest
import responses
from click.testing import CliRunner
from moto import mock_aws

CLIENT_ROOT = Path(__file__).resolve().parents[2] / "client"
if str(CLIENT_ROOT) not in sys.path:
    sys.path.insert(0, str(CLIENT_ROOT))

from amilc.key_names import DEFAULT_KEY_LEAVES  # noqa: E402

REGION = "us-east-1"
STACK_TAG = "main"
API_URL = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/dev"
KEY_PREFIX = f"/ami-lifecycle/{STACK_TAG}/api-keys/"
LOOKUP_TABLE = "AmiLifecycle-main-AmiLookupTable"
PATCH_BUCKET = "amilifecycle-main-patch-components"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials and a region; nothing from the developer's own AWS setup leaks in."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "STACK_TAG", "LOCAL_CLOUD_STACK_TAG", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def create_lookup_table(name: str = LOOKUP_TABLE, dynamodb: Any = None) -> Any:
    """The lookup table keyed and indexed as the CDK stack declares it."""
    from stacks.amilifecycle.storage import LOOKUP_TABLE_INDEXES, LOOKUP_TABLE_PARTITION_KEY, table_definition

    dynamodb = dynamodb or boto3.resource("dynamodb", region_name=REGION)
    return dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                                 **table_definition(LOOKUP_TABLE_PARTITION_KEY, LOOKUP_TABLE_INDEXES))


def create_stack(stack_tag: str, outputs: dict[str, str], cloudformation: Any = None) -> None:
    """``AmiLifecycle-<stack_tag>`` with these outputs (and one resource, which a stack needs)."""
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    cloudformation = cloudformation or boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(
        StackName=f"AmiLifecycle-{stack_tag}", TemplateBody=json.dumps(template))


@dataclass
class FakeDeployment:
    keys: dict[str, str]
    table: Any
    outputs: dict[str, str] = field(default_factory=dict)

    def key(self, setting: str) -> str:
        return self.keys[setting]

    def all_key_values(self) -> list[str]:
        return list(self.keys.values())


def default_outputs() -> dict[str, str]:
    return {
        "stackTag": STACK_TAG,
        "amiOrchestratorApiGatewayUrl": API_URL,
        "apiKeySecretPrefix": KEY_PREFIX,
        "amiSelectionTableName": LOOKUP_TABLE,
        "amiLifecyclePatchComponentBucket": PATCH_BUCKET,
    }


@pytest.fixture
def moto(aws_env: None) -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def deployment(moto: None) -> FakeDeployment:
    """The main deployment: stack outputs, one random secret per route key, lookup table, patch bucket."""
    outputs = default_outputs()
    create_stack(STACK_TAG, outputs)
    secrets_manager = boto3.client("secretsmanager", region_name=REGION)
    keys: dict[str, str] = {}
    for setting, leaf in DEFAULT_KEY_LEAVES.items():
        keys[setting] = secrets.token_urlsafe(30)
        secrets_manager.create_secret(Name=f"{KEY_PREFIX}{leaf}", SecretString=keys[setting])
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=PATCH_BUCKET)
    return FakeDeployment(keys=keys, table=create_lookup_table(), outputs=outputs)


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    """The orchestrator API, faked at the HTTP level; tests register the answers they need."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
