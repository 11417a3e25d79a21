"""parliament over every IAM policy of the synthesized templates: no finding above LOW.

Policies come from ``AWS::IAM::Policy``, ``AWS::IAM::ManagedPolicy`` and the
inline ``Policies`` of ``AWS::IAM::Role`` (identity policies), and from the
resource policies of buckets, queues, topics and KMS keys. Intrinsic
functions are resolved to ARNs of the right shape for the resource they name
(a ``Fn::GetAtt [Table, Arn]`` becomes a DynamoDB table ARN, a ``Ref`` to a
topic an SNS topic ARN...), so parliament's resource-type checks see what
AWS would. Runs with parliament's Python API (``.venv-gates``):

    .venv-gates/bin/python scripts/iam_policies.py [cdk.out]   exit 0: no finding above LOW
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, Iterator

REGION, ACCOUNT = "us-east-1", "123456789012"
PSEUDO = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
          "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "stack", "AWS::NoValue": None}
SEVERITIES_ALLOWED = {"LOW", "MUTE"}
# Findings above LOW that are parliament's, not the policy's: (issue, text in the finding's detail) -> why.
# Nothing else above LOW is accepted.
KNOWN_FALSE_POSITIVES: dict[tuple[str, str], str] = {
    ("RESOURCE_MISMATCH", "'states:SendTask"): (
        "CDK's grant_task_response scopes SendTaskSuccess/Failure/Heartbeat to the state machine ARN; "
        "parliament's table lists these actions without resource type (so only '*'), which is the "
        "broader grant."),
    ("RESOURCE_MISMATCH", "'s3:ListAccess"): (
        "CDK's bucket grants use the s3:List* family on the bucket ARN; the account-level List actions "
        "the family also expands to do not apply to a bucket ARN and are thereby not granted."),
    ("RESOURCE_MISMATCH", "'dynamodb:GetRecords'"): (
        "CDK's table read grants add GetRecords/GetShardIterator for the table ARN; without a stream "
        "ARN they grant nothing."),
    ("RESOURCE_MISMATCH", "'ec2:RunInstances'"): (
        "RunInstances needs several resource types; the launch role grants them in separate statements "
        "(instance and volume with tag conditions, image/subnet/security group/network interface "
        "without), which parliament checks one statement at a time."),
    ("UNKNOWN_CONDITION_FOR_ACTION", "kms:EncryptionContext:aws:logs:arn"): (
        "The key policy statement for CloudWatch Logs is AWS's documented one: the kms:EncryptionContext "
        "condition applies to the encrypting actions; parliament also applies it to the Describe "
        "actions of the same statement."),
    ("MISMATCHED_TYPE", "ArnLike requires a value of type Arn but given String"): (
        "ArnLike on kms:EncryptionContext:aws:logs:arn is the CloudWatch Logs encryption pattern AWS "
        "documents; parliament types every encryption context key as a string."),
}
_ARNS = {
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:{r}:{a}:table/{n}",
    "AWS::SQS::Queue": "arn:aws:sqs:{r}:{a}:{n}",
    "AWS::SNS::Topic": "arn:aws:sns:{r}:{a}:{n}",
    "AWS::KMS::Key": "arn:aws:kms:{r}:{a}:key/{n}",
    "AWS::SecretsManager::Secret": "arn:aws:secretsmanager:{r}:{a}:secret:{n}-AbCdEf",
    "AWS::Lambda::Function": "arn:aws:lambda:{r}:{a}:function:{n}",
    "AWS::S3::Bucket": "arn:aws:s3:::{n}",
    "AWS::StepFunctions::StateMachine": "arn:aws:states:{r}:{a}:stateMachine:{n}",
    "AWS::Logs::LogGroup": "arn:aws:logs:{r}:{a}:log-group:{n}:*",
    "AWS::IAM::Role": "arn:aws:iam::{a}:role/{n}",
    "AWS::IAM::InstanceProfile": "arn:aws:iam::{a}:instance-profile/{n}",
    "AWS::Events::Rule": "arn:aws:events:{r}:{a}:rule/{n}",
    "AWS::ImageBuilder::ImagePipeline": "arn:aws:imagebuilder:{r}:{a}:image-pipeline/{n}",
    "AWS::ImageBuilder::ImageRecipe": "arn:aws:imagebuilder:{r}:{a}:image-recipe/{n}/1.0.0",
    "AWS::ImageBuilder::InfrastructureConfiguration": "arn:aws:imagebuilder:{r}:{a}:infrastructure-configuration/{n}",
    "AWS::ImageBuilder::DistributionConfiguration": "arn:aws:imagebuilder:{r}:{a}:distribution-configuration/{n}",
    "AWS::ImageBuilder::Component": "arn:aws:imagebuilder:{r}:{a}:component/{n}/1.0.0/1",
}
# What Ref gives where it is not the ARN (names, URLs, ids).
_REFS = {
    "AWS::SQS::Queue": "https://sqs.{r}.amazonaws.com/{a}/{n}",
    "AWS::S3::Bucket": "{n}",
    "AWS::DynamoDB::Table": "{n}",
    "AWS::Lambda::Function": "{n}",
    "AWS::IAM::Role": "{n}",
    "AWS::Logs::LogGroup": "{n}",
    "AWS::KMS::Key": "{n}",
}
IDENTITY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
RESOURCE_POLICY_TYPES = {"AWS::S3::BucketPolicy": "PolicyDocument", "AWS::SQS::QueuePolicy": "PolicyDocument",
                         "AWS::SNS::TopicPolicy": "PolicyDocument", "AWS::KMS::Key": "KeyPolicy"}


class Resolver:
    """Intrinsic functions of one template, resolved to plausible values; ``exports`` (name -> the
    exporting template's resolver and value) resolves ``Fn::ImportValue``."""

    def __init__(self, template: dict[str, Any], exports: dict[str, tuple["Resolver", Any]] | None = None) -> None:
        self.resources = template.get("Resources") or {}
        self.parameters = template.get("Parameters") or {}
        self.exports = exports if exports is not None else {}
        for output in (template.get("Outputs") or {}).values():
            name = (output.get("Export") or {}).get("Name")
            if isinstance(name, str):
                self.exports[name] = (self, output.get("Value"))

    def _name(self, logical_id: str) -> str:
        return logical_id.lower()

    def _format(self, table: dict[str, str], logical_id: str, fallback: str) -> str:
        kind = (self.resources.get(logical_id) or {}).get("Type", "")
        pattern = table.get(kind, fallback)
        return pattern.format(r=REGION, a=ACCOUNT, n=self._name(logical_id))

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [item for item in (self.value(part) for part in node) if item is not None]
        if not isinstance(node, dict):
            return node
        if len(node) != 1:
            return {key: self.value(value) for key, value in node.items()}
        (function, argument), = node.items()
        if function == "Ref":
            if argument in PSEUDO:
                return PSEUDO[argument]
            if argument in self.parameters:
                return f"parameter-{argument.lower()}"
            kind = (self.resources.get(argument) or {}).get("Type", "")
            if kind in _REFS:
                return self._format(_REFS, argument, "{n}")
            return self._format(_ARNS, argument, "{n}")
        if function == "Fn::GetAtt":
            logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            if attribute in ("Arn", "KeyArn", "TopicArn"):
                return self._format(_ARNS, logical_id, "arn:aws:unknown:{r}:{a}:{n}")
            if attribute == "QueueUrl":
                return self._format(_REFS, logical_id, "{n}")
            return f"{self._name(logical_id)}-{attribute.lower()}"
        if function == "Fn::Join":
            separator, parts = argument
            return separator.join(str(part) for part in self.value(parts))
        if function == "Fn::Sub":
            template, variables = (argument, {}) if isinstance(argument, str) else argument
            text = template
            for name, value in {**{k: self.value(v) for k, v in variables.items()}}.items():
                text = text.replace("${" + name + "}", str(value))
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(self.value({"Ref": m.group(1)} if "." not in m.group(1)
                                                                     else {"Fn::GetAtt": m.group(1)})), text)
        if function == "Fn::ImportValue":
            name = self.value(argument)
            if isinstance(name, str) and name in self.exports:
                exporter, value = self.exports[name]
                return exporter.value(value)
            name = json.dumps(name)
            return f"arn:aws:imported:{REGION}:{ACCOUNT}:{''.join(c for c in name if c.isalnum())[:40]}"
        if function == "Fn::Select":
            index, items = argument
            items = self.value(items)
            return items[int(index)] if isinstance(items, list) and len(items) > int(index) else "selected"
        if function == "Fn::Split":
            separator, text = argument
            return str(self.value(text)).split(separator)
        if function == "Fn::If":
            return self.value(argument[1])
        if function in ("Fn::GetAZs",):
            return [f"{REGION}a", f"{REGION}b"]
        return {function: self.value(argument)}


def policies(cdk_out: Path) -> Iterator[tuple[str, bool, dict[str, Any]]]:
    """(where, is a resource policy, resolved policy document) of every policy in ``cdk_out``."""
    exports: dict[str, tuple[Resolver, Any]] = {}
    loaded = [(path, json.loads(path.read_text())) for path in sorted(cdk_out.glob("*.template.json"))]
    resolvers = [Resolver(template, exports) for _path, template in loaded]
    for (path, template), resolver in zip(loaded, resolvers):
        stack = path.name.removesuffix(".template.json")
        for logical_id, resource in (template.get("Resources") or {}).items():
            kind, properties = resource.get("Type"), resource.get("Properties") or {}
            where = f"{stack}/{logical_id}"
            if kind in IDENTITY_TYPES:
                yield where, False, resolver.value(properties["PolicyDocument"])
            elif kind == "AWS::IAM::Role":
                for inline in properties.get("Policies") or []:
                    yield f"{where}/{inline.get('PolicyName')}", False, resolver.value(inline["PolicyDocument"])
            if kind in RESOURCE_POLICY_TYPES and properties.get(RESOURCE_POLICY_TYPES[kind]):
                yield where, True, resolver.value(properties[RESOURCE_POLICY_TYPES[kind]])


def findings(document: dict[str, Any]) -> list[Any]:
    """parliament's findings for one policy, each with its severity from parliament's configuration."""
    from parliament import analyze_policy_string, enhance_finding

    policy = analyze_policy_string(json.dumps(document), include_community_auditors=False)
    return [enhance_finding(finding) for finding in policy.findings]


def known_false_positive(finding: Any) -> str | None:
    detail = str(finding.detail)
    return next((reason for (issue, text), reason in KNOWN_FALSE_POSITIVES.items()
                 if finding.issue == issue and text in detail), None)


def main(argv: list[str]) -> int:
    cdk_out = Path(argv[0]) if argv else Path(__file__).resolve().parents[1] / "cdk.out"
    checked = above_low = 0
    low: dict[str, int] = {}
    explained: dict[str, int] = {}
    for where, _resource_policy, document in policies(cdk_out):
        checked += 1
        for finding in findings(document):
            if finding.severity in SEVERITIES_ALLOWED:
                low[finding.issue] = low.get(finding.issue, 0) + 1
                continue
            if known_false_positive(finding):
                explained[finding.issue] = explained.get(finding.issue, 0) + 1
                continue
            above_low += 1
            print(f"{where}: {finding.severity} {finding.issue}: {finding.detail} {finding.location}",
                  file=sys.stderr)
    if not checked:
        print(f"iam-policies: no policy in {cdk_out}/*.template.json", file=sys.stderr)
        return 2
    def shown(counts: dict[str, int]) -> str:
        return ", ".join(f"{issue} x{count}" for issue, count in sorted(counts.items())) or "none"

    print(f"iam-policies: {checked} policies, {above_low} findings above LOW (LOW: {shown(low)}; "
          f"known parliament false positives: {shown(explained)})")
    return 1 if above_low else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
