"""The two customer-managed KMS keys of the AmiLifecycle stack.

One key protects everything the orchestrator stores or sends (tables,
topics, queues, dead-letter queues, API key secrets, log groups), so a
consumer or a Lambda function is granted one key, not six. The Inspector
findings key is separate because Amazon Inspector itself encrypts findings
reports and SBOM exports with it: that service principal is trusted on the
findings key only, never on the key that guards lifecycle state and API keys.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.settings import Settings

# Keys are scheduled for deletion when the stack is destroyed; the shortest
# window KMS allows keeps a torn-down deployment from lingering for a month.
KEY_DELETION_WINDOW = cdk.Duration.days(7)


def findings_key_alias(stack_tag: str) -> str:
    """Alias of the Inspector findings key; unique per deployment."""
    return f"alias/ami-lifecycle-{stack_tag}-inspector-findings"


def inspector_report_arn_pattern() -> str:
    """ARN pattern of the reports Inspector writes in this account and region."""
    return f"arn:{cdk.Aws.PARTITION}:inspector2:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:report/*"


def inspector_service_conditions() -> dict[str, dict[str, str]]:
    """Confused-deputy guard: Inspector may act only for this account's reports."""
    return {
        "StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID},
        "ArnLike": {"aws:SourceArn": inspector_report_arn_pattern()},
    }


class LifecycleKeys(Construct):
    """``orchestrator``: the orchestrator CMK; ``findings``: the Inspector findings CMK."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)

        self.orchestrator = kms.Key(
            self,
            "AmiOrchestrator",
            description=f"AMI lifecycle orchestrator ({settings.stack_tag}): state, messages, API keys, logs",
            enable_key_rotation=True,
            pending_window=KEY_DELETION_WINDOW,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        # CloudWatch Logs encrypts log groups with the key itself (no IAM role
        # in between), so the key policy must name the regional service
        # principal; the encryption context pins it to this account's log groups.
        self.orchestrator.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{cdk.Aws.REGION}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{cdk.Aws.PARTITION}:logs:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:log-group:*"
                        )
                    }
                },
            )
        )

        self.findings = kms.Key(
            self,
            "VulnerabilityScansFindingsKey",
            description=f"AMI lifecycle ({settings.stack_tag}): Inspector findings reports and SBOM exports",
            alias=findings_key_alias(settings.stack_tag),
            enable_key_rotation=True,
            pending_window=KEY_DELETION_WINDOW,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        # CreateFindingsReport / CreateSbomExport: Inspector generates the data
        # key and verifies it can decrypt what it wrote.
        self.findings.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowInspectorReportsOfThisAccount",
                principals=[iam.ServicePrincipal("inspector2.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions=inspector_service_conditions(),
            )
        )
