"""The caller's AWS session, and AWS failures turned into messages.

Region and credentials come from the standard places (flags first, then
``AWS_REGION``, ``AWS_DEFAULT_REGION``, ``AWS_PROFILE``, the shared config
files, SSO, instance roles); ``AWS_ENDPOINT_URL`` points every client at the
local cloud. Nothing here hard-codes a region.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config

from .errors import ClientError, ExitCode

_CONFIG = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30)

NO_CREDENTIALS_HINT = (
    "set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run 'aws sso login'; for the "
    "local cloud set AWS_ENDPOINT_URL to its address and both access key variables to any value "
    "(docs/local-cloud.md)"
)


class AwsSession:
    """One boto3 session with a resolved region; clients are created once each."""

    def __init__(self, region: str | None = None, *, session: boto3.Session | None = None) -> None:
        try:
            self._session = session or boto3.Session(region_name=region or os.environ.get("AWS_REGION") or None)
        except botocore.exceptions.ProfileNotFound as error:
            raise ClientError(f"{error}: check AWS_PROFILE") from None
        self.region: str = self._session.region_name or ""
        if not self.region:
            raise ClientError("no AWS region: pass --region, set AWS_REGION (or AWS_DEFAULT_REGION), "
                              "or give your AWS profile a region")
        self._clients: dict[str, Any] = {}

    def require_credentials(self) -> None:
        """Fail early, with a hint, when no credentials resolve."""
        try:
            credentials = self._session.get_credentials()
        except botocore.exceptions.BotoCoreError as error:
            raise ClientError(f"AWS credentials could not be loaded ({error}); {NO_CREDENTIALS_HINT}") from None
        if credentials is None:
            raise ClientError(f"no AWS credentials found; {NO_CREDENTIALS_HINT}")

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(service, region_name=self.region, config=_CONFIG)
        return self._clients[service]

    def resource(self, service: str) -> Any:
        return self._session.resource(service, region_name=self.region, config=_CONFIG)

    def assume_role(self, role_arn: str, session_name: str) -> "AwsSession":
        """A session acting as ``role_arn`` (short-lived credentials from STS)."""
        sts = self.client("sts")
        try:
            answer = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name, DurationSeconds=900)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
            raise aws_failure(error, f"assuming role {role_arn}") from None
        credentials = answer["Credentials"]
        session = boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=self.region,
        )
        return AwsSession(self.region, session=session)


def error_code(error: Exception) -> str:
    """The AWS error code of a botocore ClientError ('' for other errors)."""
    if isinstance(error, botocore.exceptions.ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def aws_failure(error: Exception, doing: str) -> ClientError:
    """A one-line :class:`ClientError` for a failed AWS call made while ``doing`` something."""
    if isinstance(error, botocore.exceptions.NoCredentialsError):
        return ClientError(f"{doing}: no AWS credentials found; {NO_CREDENTIALS_HINT}")
    if isinstance(error, botocore.exceptions.EndpointConnectionError):
        return ClientError(f"{doing}: cannot reach {error.kwargs.get('endpoint_url', 'the AWS endpoint')}; "
                           "check your network, or that the local cloud runs when AWS_ENDPOINT_URL is set")
    if isinstance(error, botocore.exceptions.ClientError):
        code = error_code(error)
        message = error.response.get("Error", {}).get("Message", "")
        if code in ("ExpiredToken", "ExpiredTokenException", "UnrecognizedClientException",
                    "InvalidClientTokenId", "InvalidSignatureException"):
            return ClientError(f"{doing}: AWS refused the credentials ({code}); {NO_CREDENTIALS_HINT}")
        if code in ("AccessDenied", "AccessDeniedException"):
            return ClientError(f"{doing}: access denied ({message}); ask for the missing permission "
                               "or use a profile that has it")
        return ClientError(f"{doing}: {code}: {message}")
    return ClientError(f"{doing}: {error}", ExitCode.ENVIRONMENT)
