"""Account-level steps of deploy.sh and destroy.sh, through boto3 so that
environment variables, profiles and SSO sessions all work the same way.

    python -m scripts.aws_account whoami
    python -m scripts.aws_account bootstrapped
    python -m scripts.aws_account inspector enable|disable
    python -m scripts.aws_account empty-buckets STACK_NAME [STACK_NAME ...]

Every failure prints one line and exits non-zero.
"""

from __future__ import annotations

import sys

import boto3
import botocore.exceptions as bce

BOOTSTRAP_VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"


class StepError(Exception):
    pass


def _session() -> boto3.Session:
    session = boto3.Session()
    if not session.region_name:
        raise StepError("no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION) or a region in your profile")
    return session


def whoami() -> str:
    """``<account> <region> <caller arn>`` or a StepError saying how to log in."""
    session = _session()
    try:
        identity = session.client("sts").get_caller_identity()
    except (bce.NoCredentialsError, bce.PartialCredentialsError):
        raise StepError(
            "no AWS credentials resolve: export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, set AWS_PROFILE, "
            "or run 'aws sso login' (or use --local to run on this machine)"
        ) from None
    except (bce.TokenRetrievalError, bce.SSOTokenLoadError, bce.UnauthorizedSSOTokenError):
        raise StepError("the SSO session has expired: run 'aws sso login' again") from None
    except bce.ClientError as error:
        raise StepError(f"AWS refused the credentials: {error.response['Error']['Message']}") from None
    except bce.EndpointConnectionError as error:
        raise StepError(f"cannot reach AWS STS: {error}") from None
    return f"{identity['Account']} {session.region_name} {identity['Arn']}"


def bootstrapped() -> str:
    try:
        value = _session().client("ssm").get_parameter(Name=BOOTSTRAP_VERSION_PARAMETER)["Parameter"]["Value"]
    except bce.ClientError as error:
        if error.response["Error"]["Code"] == "ParameterNotFound":
            return "no"
        raise StepError(f"cannot read {BOOTSTRAP_VERSION_PARAMETER}: {error.response['Error']['Message']}") from None
    return "yes" if int(value) >= 6 else "no"


def inspector(action: str) -> str:
    session = _session()
    account = session.client("sts").get_caller_identity()["Account"]
    client = session.client("inspector2")
    try:
        if action == "enable":
            client.enable(accountIds=[account], resourceTypes=["EC2"])
        elif action == "disable":
            client.disable(accountIds=[account], resourceTypes=["EC2"])
        else:
            raise StepError(f"unknown inspector action {action!r}: expected enable or disable")
    except bce.ClientError as error:
        raise StepError(f"Inspector {action} failed: {error.response['Error']['Message']}") from None
    return f"Amazon Inspector EC2 scanning: {action}d for account {account}"


def empty_buckets(stack_names: list[str]) -> str:
    """Delete every object version of every bucket in the given stacks, so
    that ``cdk destroy`` can delete the buckets (no auto-delete Lambda)."""
    session = _session()
    cloudformation = session.client("cloudformation")
    s3 = session.resource("s3")
    emptied = []
    for stack in stack_names:
        try:
            pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack)
            buckets = [r["PhysicalResourceId"] for page in pages for r in page["StackResourceSummaries"]
                       if r["ResourceType"] == "AWS::S3::Bucket" and r.get("PhysicalResourceId")]
        except bce.ClientError as error:
            if "does not exist" in error.response["Error"]["Message"]:
                continue
            raise StepError(f"cannot list the resources of {stack}: {error.response['Error']['Message']}") from None
        for name in buckets:
            try:
                s3.Bucket(name).object_versions.delete()
            except bce.ClientError as error:
                if error.response["Error"]["Code"] != "NoSuchBucket":
                    raise StepError(f"cannot empty bucket {name}: {error.response['Error']['Message']}") from None
            emptied.append(name)
    return f"emptied {len(emptied)} bucket(s)"


def main(argv: list[str]) -> int:
    commands = {
        "whoami": lambda args: whoami(),
        "bootstrapped": lambda args: bootstrapped(),
        "inspector": lambda args: inspector(args[0] if args else ""),
        "empty-buckets": empty_buckets,
    }
    if not argv or argv[0] not in commands:
        print(f"usage: python -m scripts.aws_account {{{'|'.join(commands)}}} ...", file=sys.stderr)
        return 2
    try:
        print(commands[argv[0]](argv[1:]))
    except StepError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
