"""boto3 client methods -> IAM actions, and the tables of the IAM check's exceptions.

An action is ``<IAM prefix>:<operation name>`` from botocore's service model
(``put_object`` is the S3 model's ``PutObject``); the prefix is the model's
``signingName`` except where :data:`IAM_PREFIX` says otherwise. Every other
difference between an API operation and the action that authorizes it is a
row of :data:`ACTION_OVERRIDES`, with its reason. The AWS Service
Authorization Reference (docs.aws.amazon.com/service-authorization/latest/
reference/) is the source of every table here.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

import botocore.session
from botocore import xform_name

# Services whose IAM prefix is not their signing name.
IAM_PREFIX = {
    "cloudwatch": "cloudwatch",   # signs as "monitoring"; the actions are cloudwatch:*
}

# IAM prefixes whose botocore service has another name (to expand their wildcards).
SERVICES_OF_PREFIX = {"states": ("stepfunctions",), "dynamodb": ("dynamodbstreams",),
                      "execute-api": ("apigateway",)}

# (service, operation) -> the actions that authorize it, and why.
ACTION_OVERRIDES: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("s3", "HeadObject"): (("s3:GetObject",), "HeadObject is authorized by s3:GetObject"),
    ("s3", "ListObjectsV2"): (("s3:ListBucket",), "object listings are authorized by s3:ListBucket"),
    ("s3", "ListObjects"): (("s3:ListBucket",), "object listings are authorized by s3:ListBucket"),
    ("s3", "HeadBucket"): (("s3:ListBucket",), "HeadBucket is authorized by s3:ListBucket"),
    ("s3", "download_file"): (("s3:GetObject",), "boto3's managed download: HeadObject and GetObject"),
    ("s3", "download_fileobj"): (("s3:GetObject",), "boto3's managed download: HeadObject and GetObject"),
    ("s3", "upload_file"): (("s3:PutObject",), "boto3's managed upload: PutObject or a multipart upload, "
                                                "all authorized by s3:PutObject"),
    ("s3", "upload_fileobj"): (("s3:PutObject",), "as upload_file"),
    ("s3", "generate_presigned_url"): ((), "signed locally; the reader's request is authorized as the "
                                           "signer's GetObject when it is made"),
    ("dynamodb", "TransactWriteItems"): (("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                                          "dynamodb:ConditionCheckItem"),
                                         "no TransactWriteItems action: each item's own action authorizes it"),
    ("dynamodb", "TransactGetItems"): (("dynamodb:GetItem",), "each item is authorized by dynamodb:GetItem"),
    ("sns", "PublishBatch"): (("sns:Publish",), "PublishBatch is authorized by sns:Publish"),
    ("sqs", "SendMessageBatch"): (("sqs:SendMessage",), "batch actions are authorized by their single form"),
    ("sqs", "DeleteMessageBatch"): (("sqs:DeleteMessage",), "batch actions are authorized by their single form"),
    ("sqs", "ChangeMessageVisibilityBatch"): (("sqs:ChangeMessageVisibility",),
                                              "batch actions are authorized by their single form"),
}
# A conditional PutItem / UpdateItem / DeleteItem (ConditionExpression) needs only its own action:
# dynamodb:ConditionCheckItem authorizes the ConditionCheck element of TransactWriteItems alone.

# Calls that no identity policy needs to allow.
NO_GRANT_NEEDED = {
    "sts:GetCallerIdentity": "always allowed: no permission is required, an explicit deny cannot stop it",
}


@dataclass(frozen=True)
class ConditionalCall:
    """A call the code makes only when an environment variable is set; the stack grants it then."""

    variable: str
    reason: str

    def applies(self, environment: Mapping[str, Any]) -> bool:
        value = environment.get(self.variable)
        return not (isinstance(value, str) and not value.strip())


CONDITIONAL_CALLS = {
    "sts:AssumeRole": ConditionalCall(
        "DISTRIBUTION_ACCOUNTS", "made only for AMIs of DISTRIBUTION_ACCOUNTS (empty here); the receivers "
                                 "construct grants it on their tagger roles when the list is not empty"),
}

# A client handed to a library: (callee, service) -> the client methods the library calls.
LIBRARY_CALLS: dict[tuple[str, str], tuple[str, ...]] = {
    ("SecretsProvider", "secretsmanager"): ("get_secret_value",),   # Powertools parameters: get()
}

# Actions a Lambda function's role is given for the Lambda service's own use, not the code's.
LAMBDA_BASIC = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
LAMBDA_VPC = ("ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
              "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses")
LAMBDA_TRACING = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
# The event source poller needs the first three; CDK's Queue.grant_consume_messages adds the other two.
LAMBDA_SQS_SOURCE = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                     "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl")
KMS_FOR_SQS = ("kms:Decrypt", "kms:GenerateDataKey")


def platform_actions(logical_id: str, props: Mapping[str, Any], resources: Mapping[str, Any]) -> set[str]:
    """What the Lambda service does with the function's role, from the function's own properties."""
    actions = set(LAMBDA_BASIC)                      # the runtime's log delivery
    if props.get("VpcConfig"):
        actions |= set(LAMBDA_VPC)                   # network interfaces in the function's subnets
    if (props.get("TracingConfig") or {}).get("Mode") == "Active":
        actions |= set(LAMBDA_TRACING)               # the X-Ray daemon of the execution environment
    target = _target(resources, (props.get("DeadLetterConfig") or {}).get("TargetArn"))
    if target.get("Type") == "AWS::SQS::Queue":      # failed asynchronous invocations
        actions.add("sqs:SendMessage")
        if target.get("Properties", {}).get("KmsMasterKeyId"):
            actions |= set(KMS_FOR_SQS)
    elif target.get("Type") == "AWS::SNS::Topic":
        actions.add("sns:Publish")
        if target.get("Properties", {}).get("KmsMasterKeyId"):
            actions |= set(KMS_FOR_SQS)
    if props.get("KmsKeyArn"):
        actions.add("kms:Decrypt")                   # environment variables encrypted with a key
    for resource in resources.values():
        if resource.get("Type") == "AWS::Lambda::EventSourceMapping" and \
                _names(resource["Properties"].get("FunctionName"), logical_id):
            actions |= set(LAMBDA_SQS_SOURCE)        # the poller (SQS here; streams would add theirs)
            source = _target(resources, resource["Properties"].get("EventSourceArn"))
            if source.get("Properties", {}).get("KmsMasterKeyId"):
                actions |= set(KMS_FOR_SQS)          # it reads an encrypted queue
    return actions


def _target(resources: Mapping[str, Any], value: Any) -> Mapping[str, Any]:
    """The template resource a ``Ref`` / ``Fn::GetAtt`` names, else ``{}``."""
    if isinstance(value, Mapping):
        name = value.get("Ref") or (value.get("Fn::GetAtt") or [None])[0]
        return resources.get(name, {}) if isinstance(name, str) else {}
    return {}


def _names(value: Any, logical_id: str) -> bool:
    return isinstance(value, Mapping) and (value.get("Ref") == logical_id or
                                           (value.get("Fn::GetAtt") or [None])[0] == logical_id)


# KMS actions a call implies on a resource encrypted with a customer managed key (which resource is
# encrypted is not traced: the actions count as used when the role is granted them, never as required).
KMS_IMPLIED = {
    "dynamodb": ("kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"),  # table keys, every item access
    "sqs:SendMessage": ("kms:GenerateDataKey", "kms:Decrypt"),
    "sqs:ReceiveMessage": ("kms:Decrypt",),
    "sns:Publish": ("kms:GenerateDataKey", "kms:Decrypt"),
    "secretsmanager:GetSecretValue": ("kms:Decrypt",),
    "s3:GetObject": ("kms:Decrypt",),
    "s3:PutObject": ("kms:GenerateDataKey",),
    "logs:PutLogEvents": (),   # CloudWatch Logs encrypts with its own principal (the key policy)
}


# Actions a call's parameters may imply, with the reason (counted as used when granted, never required:
# which parameters a call passes is not traced).
CALL_IMPLIED: dict[str, tuple[tuple[str, str], ...]] = {
    "ec2:RunInstances": (
        ("ec2:CreateTags", "TagSpecifications: tagging on create is authorized by ec2:CreateTags "
                           "(condition ec2:CreateAction = RunInstances)"),
        ("iam:PassRole", "IamInstanceProfile: launching with a profile passes its role"),
    ),
    # EC2 reads the snapshots and writes the object with the caller's permissions ("Permissions for
    # storing and restoring an AMI using S3" in the EC2 user guide).
    **{"ec2:CreateStoreImageTask": tuple(
        (action, "Bucket: the store task writes the object with the caller's permissions")
        for action in ("s3:PutObject", "s3:PutObjectTagging", "s3:AbortMultipartUpload", "s3:ListBucket")) + tuple(
        (action, "ImageId: the store task reads the AMI's snapshots with the caller's permissions")
        for action in ("ebs:GetSnapshotBlock", "ebs:ListSnapshotBlocks", "ebs:ListChangedBlocks"))},
}


def implied_actions(actions) -> set[str]:
    """The KMS and parameter-implied actions of a function's calls."""
    implied: set[str] = set()
    for action in actions:
        implied |= set(KMS_IMPLIED.get(action, ()))
        implied |= set(KMS_IMPLIED.get(action.split(":")[0], ()))
        implied |= {name for name, _ in CALL_IMPLIED.get(action, ())}
    return implied


# CDK grant helpers grant these sets whole (aws-cdk-lib 2.x). A grant of a whole set, of which the
# function uses at least one action, is explained: its other actions are excepted as a "CDK grant bundle".
# A set of which nothing is used is an unused grant like any other.
CDK_GRANT_BUNDLES: dict[str, frozenset[str]] = {
    "Table.grant_read_data": frozenset({
        "dynamodb:BatchGetItem", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:Query",
        "dynamodb:GetItem", "dynamodb:Scan", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable"}),
    "Table.grant_write_data": frozenset({
        "dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
        "dynamodb:DescribeTable"}),
    "Key.grant_encrypt_decrypt": frozenset({"kms:Decrypt", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"}),
    "Key.grant_encrypt": frozenset({"kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"}),
    "Secret.grant_read": frozenset({"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}),
    "StateMachine.grant_task_response": frozenset({
        "states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"}),
    "Queue.grant_consume_messages": frozenset(LAMBDA_SQS_SOURCE),
    "LogGroup.grant_write": frozenset({"logs:CreateLogStream", "logs:PutLogEvents"}),
}


def bundle_reason(pattern: str, statement_actions: set[str], used) -> str | None:
    """Why an unused ``pattern`` of a statement granting ``statement_actions`` is allowed, if it is."""
    for name, bundle in CDK_GRANT_BUNDLES.items():
        if pattern in bundle and bundle <= statement_actions and any(used(a) for a in bundle):
            return f"{CDK_GRANT_BUNDLE} ({name})"
    return None


CDK_GRANT_BUNDLE = "CDK grant bundle"
# Grants no call uses and no bundle explains, allowed with a reason (action pattern -> reason).
UNUSED_GRANT_EXCEPTIONS: dict[str, str] = {}


class _NoResourceLevel:
    """Actions that support no resource-level permissions: their statements must say ``Resource: "*"``.

    From the Service Authorization Reference's "Actions defined by ..." tables, where these actions
    list no resource type (only conditions, such as ``cloudwatch:namespace``).
    """

    PATTERNS = (
        "ec2:Describe*",                 # EC2 describe actions: no resource types
        "sts:GetCallerIdentity",
        "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "cloudwatch:PutMetricData",      # scoped by the cloudwatch:namespace condition instead
        "inspector2:BatchGetAccountStatus", "inspector2:ListCoverage", "inspector2:ListFindings",
        "inspector2:CreateFindingsReport", "inspector2:GetFindingsReportStatus",
        "inspector2:CreateSbomExport", "inspector2:GetSbomExport", "inspector2:Enable",
        "logs:DescribeLogGroups",
        "sns:ListTopics", "sqs:ListQueues", "s3:ListAllMyBuckets", "dynamodb:ListTables",
        "states:ListStateMachines", "secretsmanager:GetRandomPassword", "secretsmanager:ListSecrets",
        "kms:ListKeys", "kms:ListAliases", "kms:CreateKey",
        "imagebuilder:ListImagePipelines",
    )

    def allows(self, action: str) -> bool:
        return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in self.PATTERNS)


NO_RESOURCE_LEVEL = _NoResourceLevel()


@lru_cache(maxsize=1)
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@lru_cache(maxsize=1)
def botocore_services() -> frozenset[str]:
    return frozenset(_session().get_available_services())


class ActionMapper:
    """Client methods to IAM actions, and IAM action patterns to the actions they grant."""

    def __init__(self) -> None:
        self._models: dict[str, Any] = {}
        self._by_prefix: dict[str, set[str]] = {}

    def _model(self, service: str) -> Any:
        if service not in self._models:
            self._models[service] = _session().get_service_model(service)
        return self._models[service]

    def prefix(self, service: str) -> str:
        return IAM_PREFIX.get(service) or self._model(service).signing_name

    def operation(self, service: str, method: str) -> str:
        """The operation a client method calls (``waiter:<name>``: the waiter's polled operation)."""
        model = self._model(service)
        if method.startswith("waiter:"):
            waiters = _session().get_waiter_model(service)
            name = {xform_name(w): w for w in waiters.waiter_names}.get(method.split(":", 1)[1])
            if name is None:
                raise ValueError(f"{service}: no waiter {method.split(':', 1)[1]!r}")
            return waiters.get_waiter(name).operation
        operations = {xform_name(op): op for op in model.operation_names}
        if method in operations:
            return operations[method]
        if (service, method) in ACTION_OVERRIDES:
            return method
        raise ValueError(f"{service}: the client has no method {method!r}")

    def actions(self, service: str, method: str) -> tuple[str, ...]:
        operation = self.operation(service, method)
        if (service, operation) in ACTION_OVERRIDES:
            return ACTION_OVERRIDES[(service, operation)][0]
        return (f"{self.prefix(service)}:{operation}",)

    def expand(self, pattern: str) -> list[str]:
        """The actions an IAM action pattern grants (``dynamodb:Get*``), by botocore's operation lists."""
        prefix, _, name = pattern.partition(":")
        if not any(ch in pattern for ch in "*?"):
            return [pattern]
        known = self._actions_of(prefix.lower())
        matched = sorted(a for a in known if fnmatch.fnmatchcase(a.lower(), pattern.lower()))
        return matched or [pattern]

    def _actions_of(self, prefix: str) -> set[str]:
        if prefix not in self._by_prefix:
            actions: set[str] = set()
            if prefix == "*":
                prefixes = botocore_services()
            else:
                prefixes = [s for s in botocore_services() if s == prefix or IAM_PREFIX.get(s) == prefix
                            or s in SERVICES_OF_PREFIX.get(prefix, ())]
            for service in prefixes:
                try:
                    p = self.prefix(service)
                    ops = self._model(service).operation_names
                except Exception:  # noqa: BLE001 - a model botocore lists but cannot load
                    continue
                if prefix == "*" or p == prefix:
                    actions |= {f"{p}:{op}" for op in ops}
            actions |= {a for (s, _), (targets, _) in ACTION_OVERRIDES.items() for a in targets
                        if a.startswith(f"{prefix}:")}
            self._by_prefix[prefix] = actions
        return self._by_prefix[prefix]
