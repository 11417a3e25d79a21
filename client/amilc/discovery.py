"""Finding a deployment: its stack outputs and its API keys.

A deployment is the set of stacks of one stack tag; the clients read the
outputs of ``AmiLifecycle-<stack_tag>`` (API URL, lookup table, patch bucket,
API key secret prefix) and the route keys from Secrets Manager. Key values
live only in memory, are sent only in the ``x-api-key`` header, and never
appear in a message.
"""

from __future__ import annotations

from typing import Any, Mapping

import botocore.exceptions

from .aws import AwsSession, aws_failure, error_code
from .errors import ClientError
from .key_names import load_key_leaves

ORCHESTRATOR_STACK_BASE = "AmiLifecycle"

API_URL_OUTPUT = "amiOrchestratorApiGatewayUrl"
SELECTION_TABLE_OUTPUT = "amiSelectionTableName"
SELECTION_ROLE_OUTPUT = "amiSelectionCAReadOnly"
PATCH_BUCKET_OUTPUT = "amiLifecyclePatchComponentBucket"
KEY_PREFIX_OUTPUT = "apiKeySecretPrefix"
STACK_TAG_OUTPUT = "stackTag"


def orchestrator_stack_name(stack_tag: str) -> str:
    """``AmiLifecycle-<stack_tag>``: the stack every client reads its outputs from."""
    return f"{ORCHESTRATOR_STACK_BASE}-{stack_tag}"


class Deployment:
    """The outputs of one deployment's orchestrator stack, read once."""

    def __init__(self, aws: AwsSession, stack_tag: str) -> None:
        self.aws = aws
        self.stack_tag = stack_tag
        self.stack_name = orchestrator_stack_name(stack_tag)
        self._outputs: dict[str, str] | None = None

    @property
    def outputs(self) -> Mapping[str, str]:
        if self._outputs is None:
            self._outputs = self._describe()
        return self._outputs

    def _describe(self) -> dict[str, str]:
        cloudformation = self.aws.client("cloudformation")
        try:
            stacks = cloudformation.describe_stacks(StackName=self.stack_name)["Stacks"]
        except botocore.exceptions.ClientError as error:
            if error_code(error) == "ValidationError" and "does not exist" in str(error):
                raise ClientError(
                    f"stack {self.stack_name} not found in {self.aws.region}: deploy it (bash deploy.sh, or "
                    "bash deploy.sh --local) or check the stack tag and the region") from None
            raise aws_failure(error, f"reading the outputs of stack {self.stack_name}") from None
        except botocore.exceptions.BotoCoreError as error:
            raise aws_failure(error, f"reading the outputs of stack {self.stack_name}") from None
        return {output["OutputKey"]: output.get("OutputValue", "") for output in stacks[0].get("Outputs") or []}

    def output(self, key: str, *, meaning: str) -> str:
        """A required output; a missing one names the stack and what it was needed for."""
        value = self.outputs.get(key, "")
        if not value:
            raise ClientError(f"stack {self.stack_name} has no output {key} ({meaning}): the deployment is "
                              "older than this client or incomplete; redeploy it")
        return value

    @property
    def api_url(self) -> str:
        return self.output(API_URL_OUTPUT, meaning="the orchestrator API URL").rstrip("/")


class ApiKeys:
    """Route keys read from Secrets Manager on first use and kept in memory for this run."""

    def __init__(self, deployment: Deployment, leaves: Mapping[str, str] | None = None) -> None:
        self._deployment = deployment
        self._leaves = dict(leaves) if leaves is not None else load_key_leaves()
        self._values: dict[str, str] = {}

    def secret_id(self, setting: str) -> str:
        """The secret's name: the deployment's key prefix followed by the setting's leaf name."""
        if setting not in self._leaves:
            raise ClientError(f"no API key leaf is configured for {setting}; add it to "
                              "projectSettings.amiLifecycle.api.security.api_keys in cdk.json")
        prefix = self._deployment.output(KEY_PREFIX_OUTPUT, meaning="where the API keys are stored")
        return f"{prefix}{self._leaves[setting]}"

    def get(self, setting: str) -> str:
        if setting not in self._values:
            self._values[setting] = self._read(self.secret_id(setting))
        return self._values[setting]

    def _read(self, secret_id: str) -> str:
        secrets = self._deployment.aws.client("secretsmanager")
        try:
            answer: Mapping[str, Any] = secrets.get_secret_value(SecretId=secret_id)
        except botocore.exceptions.ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                raise ClientError(f"API key secret {secret_id} not found: the deployment of stack tag "
                                  f"{self._deployment.stack_tag} is incomplete; redeploy it") from None
            raise aws_failure(error, f"reading API key secret {secret_id}") from None
        except botocore.exceptions.BotoCoreError as error:
            raise aws_failure(error, f"reading API key secret {secret_id}") from None
        value = answer.get("SecretString") or ""
        if not value.strip():
            raise ClientError(f"API key secret {secret_id} is empty; redeploy to regenerate it")
        return value.strip()
